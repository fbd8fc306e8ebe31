"""Reconciliation with Stripe: our succeeded payments and refunds against the PaymentIntents
and Refunds that Stripe lists (paginated, through the official library).

Only Stripe objects that are ours are compared: PaymentIntents carrying our
`metadata.payment_id`, and Refunds of those PaymentIntents (or carrying our
`metadata.refund_id`). Anything else on the account (a subscription's invoices, say) is not
a booking payment and is skipped. Read-only: no lock, no write.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from payments import stripe_client
from payments.models import Payment, Refund


@dataclass(frozen=True)
class Difference:
    kind: str  # missing | extra | amount | status
    what: str  # payment_intent | refund
    stripe_id: str
    ours: str
    detail: str

    def __str__(self) -> str:
        ours = f" (ours: {self.ours})" if self.ours else ""
        return f"{self.kind}: {self.what} {self.stripe_id}{ours}: {self.detail}"


@dataclass
class Report:
    intents_checked: int = 0
    refunds_checked: int = 0
    skipped: int = 0  # Stripe objects that are not ours
    differences: list[Difference] | None = None


def _metadata(obj) -> dict:
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata else {}


def _since_timestamp(since: datetime.date | datetime.datetime | None) -> int | None:
    if since is None:
        return None
    if not isinstance(since, datetime.datetime):
        since = datetime.datetime.combine(since, datetime.time.min)
    if timezone.is_naive(since):
        since = timezone.make_aware(since, datetime.UTC)
    return int(since.timestamp())


def reconcile(since: datetime.date | datetime.datetime | None = None) -> Report:
    """Compare every succeeded payment and refund (created since `since`, default: all) with
    Stripe's records. Raises PaymentProviderError when Stripe cannot be listed."""
    created_gte = _since_timestamp(since)
    since_dt = (
        None if created_gte is None else datetime.datetime.fromtimestamp(created_gte, datetime.UTC)
    )
    report = Report(differences=[])
    diffs = report.differences

    # --- PaymentIntents ---
    payments_by_intent = {
        p.stripe_payment_intent_id: p
        for p in Payment.objects.filter(stripe_payment_intent_id__isnull=False)
    }
    payments_by_id = {str(p.pk): p for p in payments_by_intent.values()}
    seen_intents = set()
    for intent in stripe_client.list_payment_intents(created_gte=created_gte):
        if created_gte is not None and int(intent.created or 0) < created_gte:
            continue  # a server that ignores the `created` filter
        metadata = _metadata(intent)
        payment = payments_by_intent.get(intent.id) or payments_by_id.get(
            metadata.get("payment_id", "")
        )
        if payment is None and "payment_id" not in metadata:
            report.skipped += 1
            continue
        report.intents_checked += 1
        seen_intents.add(intent.id)
        stripe_paid = intent.status == "succeeded"
        # What arrived; servers that omit `amount_received` (localstripe) paid it in full.
        received = getattr(intent, "amount_received", None)
        received = int(intent.amount if received is None and stripe_paid else received or 0)
        if payment is None:
            if stripe_paid:
                diffs.append(
                    Difference(
                        "missing",
                        "payment_intent",
                        intent.id,
                        "",
                        f"succeeded at Stripe ({received} {intent.currency}) but no payment "
                        "of ours has it",
                    )
                )
            continue
        ours_paid = payment.status == Payment.Status.SUCCEEDED
        if stripe_paid != ours_paid:
            diffs.append(
                Difference(
                    "status",
                    "payment_intent",
                    intent.id,
                    str(payment.pk),
                    f"Stripe says {intent.status}, our payment is {payment.status}",
                )
            )
        elif stripe_paid and (
            received != payment.amount_cents or intent.currency != payment.currency
        ):
            diffs.append(
                Difference(
                    "amount",
                    "payment_intent",
                    intent.id,
                    str(payment.pk),
                    f"Stripe received {received} {intent.currency}, our payment is "
                    f"{payment.amount_cents} {payment.currency}",
                )
            )
    succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED)
    if since_dt is not None:
        succeeded = succeeded.filter(created_at__gte=since_dt)
    for payment in succeeded.order_by("created_at", "id"):
        if payment.stripe_payment_intent_id not in seen_intents:
            diffs.append(
                Difference(
                    "extra",
                    "payment_intent",
                    payment.stripe_payment_intent_id or "-",
                    str(payment.pk),
                    f"our payment of {payment.amount_cents} {payment.currency} succeeded but "
                    "Stripe lists no such PaymentIntent",
                )
            )

    # --- Refunds ---
    refunds_by_stripe_id = {
        r.stripe_refund_id: r for r in Refund.objects.filter(stripe_refund_id__isnull=False)
    }
    seen_refunds = set()
    for stripe_refund in stripe_client.list_refunds(created_gte=created_gte):
        if created_gte is not None and int(stripe_refund.created or 0) < created_gte:
            continue
        metadata = _metadata(stripe_refund)
        intent_id = getattr(stripe_refund, "payment_intent", None)
        refund = refunds_by_stripe_id.get(stripe_refund.id)
        if refund is None and metadata.get("refund_id"):
            refund = Refund.objects.filter(pk=metadata["refund_id"]).first()
        if refund is None and intent_id not in payments_by_intent and not metadata.get("refund_id"):
            report.skipped += 1
            continue
        report.refunds_checked += 1
        seen_refunds.add(stripe_refund.id)
        stripe_ok = stripe_refund.status == "succeeded"
        if refund is None:
            if stripe_ok:
                diffs.append(
                    Difference(
                        "missing",
                        "refund",
                        stripe_refund.id,
                        "",
                        f"Stripe refunded {stripe_refund.amount} {stripe_refund.currency} of "
                        f"PaymentIntent {intent_id}, which we have not recorded",
                    )
                )
            continue
        ours_ok = refund.status == Refund.Status.SUCCEEDED
        if stripe_ok != ours_ok:
            diffs.append(
                Difference(
                    "status",
                    "refund",
                    stripe_refund.id,
                    str(refund.pk),
                    f"Stripe says {stripe_refund.status}, our refund is {refund.status}",
                )
            )
        elif stripe_ok and int(stripe_refund.amount) != refund.amount_cents:
            diffs.append(
                Difference(
                    "amount",
                    "refund",
                    stripe_refund.id,
                    str(refund.pk),
                    f"Stripe refunded {stripe_refund.amount}, our refund is {refund.amount_cents}",
                )
            )
    ours = Refund.objects.filter(status=Refund.Status.SUCCEEDED)
    if since_dt is not None:
        ours = ours.filter(created_at__gte=since_dt)
    for refund in ours.order_by("created_at", "id"):
        if refund.stripe_refund_id not in seen_refunds:
            diffs.append(
                Difference(
                    "extra",
                    "refund",
                    refund.stripe_refund_id or "-",
                    str(refund.pk),
                    f"our refund of {refund.amount_cents} {refund.currency} succeeded but "
                    "Stripe lists no such Refund",
                )
            )
    return report
