"""`manage.py stripe_setup`: the Stripe Billing catalog subscriptions are made of.

Creates the product (`STRIPE_BILLING_PRODUCT`) and one plan per plan setting
(`STRIPE_PRICE_MONTHLY`, `STRIPE_PRICE_ANNUAL`: plan ids, since localstripe has no Price API and
Stripe accepts a plan id wherever a price is expected) under those fixed ids, each only when
absent, so a second run creates nothing. Prints what it found or made, then the settings as
`NAME=value` lines (`scripts/run_local.py` reads them). Exits non-zero when a plan exists with
another amount, currency or interval (plans are immutable: set a new id).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import stripe_billing
from strathwell.exceptions import DomainError


class Command(BaseCommand):
    help = "Create the Stripe Billing product and plans when absent (idempotent); print ids."

    def handle(self, *args, **options):
        try:
            items = stripe_billing.ensure_catalog()
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for item in items:
            verb = "created" if item.created else "exists "
            self.stdout.write(f"{verb} {item.kind:<7} {item.id}  ({item.detail})")
        problems = [item for item in items if item.problem]
        self.stdout.write(f"STRIPE_BILLING_PRODUCT={settings.STRIPE_BILLING_PRODUCT}")
        self.stdout.write(f"STRIPE_PRICE_MONTHLY={settings.STRIPE_PRICE_MONTHLY}")
        self.stdout.write(f"STRIPE_PRICE_ANNUAL={settings.STRIPE_PRICE_ANNUAL}")
        if problems:
            raise CommandError(
                "; ".join(f"plan {item.id} {item.problem}" for item in problems)
                + ". Plans cannot change: set a new id in STRIPE_PRICE_* and run again."
            )
