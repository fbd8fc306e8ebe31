"""Reprocess stored Stripe events through the webhook's own processing function.

manage.py replay_webhook_events              # every event not finally handled
manage.py replay_webhook_events --failed     # only events whose processing failed
manage.py replay_webhook_events --ids evt_1 evt_2 [--force]
"""

from django.core.management.base import CommandError

from payments import webhooks
from payments.models import WebhookEvent
from strathwell.commands import WriteCommand


class Command(WriteCommand):
    help = "Reprocess stored Stripe webhook events (failed or unfinished ones by default)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--failed", action="store_true", help="Only events whose processing failed."
        )
        parser.add_argument(
            "--ids", nargs="+", default=None, help="Stripe event ids (evt_…) or row ids."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="With --ids: also reprocess events that already have a final outcome.",
        )

    def handle(self, *args, failed=False, ids=None, force=False, **options):
        if force and not ids:
            raise CommandError("--force is only allowed together with --ids.")
        events = WebhookEvent.objects.order_by("received_at", "id")
        if ids:
            row_ids = [int(i) for i in ids if i.isdigit()]
            stripe_ids = [i for i in ids if not i.isdigit()]
            events = events.filter(stripe_event_id__in=stripe_ids) | events.filter(pk__in=row_ids)
            found = {e.stripe_event_id for e in events} | {str(e.pk) for e in events}
            missing = [i for i in ids if i not in found]
            if missing:
                raise CommandError(f"Unknown webhook events: {', '.join(missing)}")
        if failed:
            events = events.filter(outcome=WebhookEvent.Outcome.FAILED)
        elif not force:
            events = events.exclude(outcome__in=webhooks.FINAL_OUTCOMES)

        pks = list(events.values_list("pk", flat=True))
        still_failing = 0
        for pk in pks:
            result = webhooks.process_event(pk, force=force)
            event = result.event
            if result.failed:
                still_failing += 1
            self.stdout.write(
                f"{event.stripe_event_id} {event.type}: {event.outcome}"
                + (f" ({event.error})" if event.error else "")
            )
        self.stdout.write(f"replayed {len(pks)} event(s), {still_failing} still failing")
        if still_failing:
            raise CommandError(f"{still_failing} event(s) still failing")
