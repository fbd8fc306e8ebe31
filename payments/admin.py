"""Payments in the staff console: everything here is read-only (money rows are append-only or
change only through model methods); payout decisions and webhook replays are confirm actions
that call the same methods as the API and `manage.py replay_webhook_events`."""

from django.contrib import admin
from django.db import transaction

from payments import webhooks
from payments.forms import WebhookReplayForm
from payments.models import (
    Allocation,
    IdempotencyRecord,
    LedgerEntry,
    Payment,
    Payout,
    WebhookEvent,
)
from strathwell.audit.services import log_admin_action
from strathwell.console import display
from strathwell.console.actions import ActionFailed, ActionSkipped, confirm_action
from strathwell.console.mixins import ReadOnlyInline, ReadOnlyModelAdmin


@admin.display(description="amount", ordering="amount_cents")
def amount(obj):
    return display.format_cents(obj.amount_cents, obj.currency)


class LedgerEntryInline(ReadOnlyInline, admin.TabularInline):
    model = LedgerEntry
    fields = ("entry_type", "amount_cents", "currency", "booking_vendor", "payout", "memo")
    readonly_fields = fields
    ordering = ("created_at", "id")


class PayoutInline(ReadOnlyInline, admin.TabularInline):
    model = Payout
    fields = ("vendor", "kind", "amount_cents", "currency", "status", "paid_at", "hold_reason")
    readonly_fields = fields
    ordering = ("created_at", "kind", "id")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "booking",
        "organizer",
        "kind",
        amount,
        "status",
        "stripe_payment_intent_id",
        "created_at",
    )
    list_filter = ("status", "kind", "currency")
    search_fields = ("=id", "=stripe_payment_intent_id", "booking__title", "organizer__email")
    date_hierarchy = "created_at"
    list_select_related = ("booking", "organizer")
    exclude = ("client_secret",)  # the organizer's secret for the card form: never shown
    inlines = [PayoutInline, LedgerEntryInline]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyModelAdmin):
    """Payouts are decided here: approve (pay out), hold, release, reverse — the same model
    methods as `POST /admin/payouts/{id}/...`, each after a confirmation page with a reason."""

    list_display = (
        "id",
        "vendor",
        "booking",
        "kind",
        amount,
        "status",
        "requested_at",
        "paid_at",
        "created_at",
    )
    list_filter = ("status", "kind", "currency")
    search_fields = ("=id", "vendor__business_name", "booking__title", "=booking__id")
    date_hierarchy = "created_at"
    list_select_related = ("vendor", "booking")
    inlines = [LedgerEntryInline]
    actions = [
        confirm_action(
            name="approve_payouts",
            operation="payout.approve",
            label="Approve payout",
            verb="approve",
            done="Approved",
            method="approve",
            effect="Each eligible payout becomes paid and its payout ledger entry is written: "
            "the money is released to the vendor. Refused while a dispute on the booking is "
            "open.",
        ),
        confirm_action(
            name="hold_payouts",
            operation="payout.hold",
            label="Hold payout",
            verb="hold",
            done="Held",
            method="hold",
            effect="Each locked or eligible payout is frozen (held) with your reason until "
            "staff release or reverse it.",
        ),
        confirm_action(
            name="release_payouts",
            operation="payout.release",
            label="Release held payout",
            verb="release",
            done="Released",
            method="release",
            effect="Each held payout goes back to eligible (or to locked if it was never due). "
            "Refused while a dispute on its booking is open.",
        ),
        confirm_action(
            name="reverse_payouts",
            operation="payout.reverse",
            label="Reverse payout",
            verb="reverse",
            done="Reversed",
            method="reverse",
            effect="Each locked, eligible or held payout is cancelled for good (reversed): the "
            "vendor will not be paid it and the money stays with the platform for a refund. "
            "Paid payouts cannot be reversed.",
        ),
    ]

    def confirm_object_label(self, obj):
        return (
            f"{obj.get_kind_display()} payout of "
            f"{display.format_cents(obj.amount_cents, obj.currency)} to {obj.vendor} "
            f"for “{obj.booking.title}”"
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    """The append-only ledger: view-only, no add or delete."""

    list_display = (
        "id",
        "created_at",
        "entry_type",
        amount,
        "payment_id",
        "booking",
        "payout",
        "memo",
    )
    list_filter = ("entry_type", "currency")
    search_fields = ("=payment__id", "=booking__id", "=payout__id", "memo")
    date_hierarchy = "created_at"
    list_select_related = ("booking", "payout")


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyModelAdmin):
    """How each succeeded payment was split across its vendors (append-only)."""

    list_display = (
        "id",
        "payment",
        "booking_vendor",
        "agreed_price_cents",
        "share_cents",
        "fee_cents",
        "reservation_cents",
        "completion_cents",
        "created_at",
    )
    search_fields = ("=payment__id", "=booking_vendor__id", "booking_vendor__vendor__business_name")
    list_filter = ("payment__currency",)
    date_hierarchy = "created_at"
    list_select_related = ("payment", "booking_vendor")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "user", "scope", "payment", "response_status", "created_at")
    list_filter = ("scope", "response_status")
    search_fields = ("=key", "user__email", "=payment__id")
    date_hierarchy = "created_at"
    list_select_related = ("user", "payment")
    fields = (
        "user",
        "key",
        "scope",
        "request_hash",
        "payment",
        "response_status",
        "response",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("response",)

    @admin.display(description="response body")
    def response(self, obj):
        return display.masked_json(obj.response_body)  # it holds the client_secret


def replay_event(event, *, actor, force: bool, reason: str):
    """Reprocess one stored event through the webhook's own processing function (exactly what
    `manage.py replay_webhook_events` does), and audit who replayed it and why."""
    before = {"outcome": event.outcome, "attempts": event.attempts, "error": event.error}
    with transaction.atomic():
        result = webhooks.process_event(event.pk, force=force)
        after_event = result.event
        if not result.duplicate:
            log_admin_action(
                actor=actor,
                action="admin.webhookevent.replay",
                target=after_event,
                before=before,
                after={
                    "outcome": after_event.outcome,
                    "attempts": after_event.attempts,
                    "error": after_event.error,
                },
                reason=reason,
                sender=WebhookEvent,
            )
    if result.duplicate:
        raise ActionSkipped(
            f"already handled ({after_event.get_outcome_display()}); nothing replayed. Tick "
            "“reprocess already handled events” to run it again."
        )
    if result.failed:
        raise ActionFailed(f"processing failed again: {after_event.error}")
    return after_event


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    """Every verified Stripe event, view-only. Failed ones can be replayed (a confirm action)."""

    list_display = (
        "stripe_event_id",
        "type",
        "outcome",
        "attempts",
        "received_at",
        "processed_at",
        "short_error",
    )
    list_filter = ("outcome", "type", "livemode")
    search_fields = ("=stripe_event_id", "type", "error")
    date_hierarchy = "received_at"
    fields = (
        "stripe_event_id",
        "type",
        "livemode",
        "outcome",
        "error",
        "attempts",
        "received_at",
        "processed_at",
        "payload_masked",
    )
    readonly_fields = ("payload_masked",)
    actions = [
        confirm_action(
            name="replay_webhook_events",
            operation="webhook_event.replay",
            label="Replay webhook event",
            verb="replay",
            done="Replayed",
            perform=lambda obj, *, actor, reason, force: replay_event(
                obj, actor=actor, force=force, reason=reason
            ),
            form_class=WebhookReplayForm,
            state_field="outcome",
            compare_state=False,
            effect="Each event is processed again by the webhook's own processing function "
            "(as manage.py replay_webhook_events does). Events already handled are skipped "
            "unless you tick the box; every handler is idempotent, so money moves at most once.",
        ),
    ]

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="payload")
    def payload_masked(self, obj):
        return display.masked_json(obj.payload)
