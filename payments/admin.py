"""Payments in the staff console: everything here is read-only (money rows are append-only or
change only through model methods); payout decisions and webhook replays are confirm actions
that call the same methods as the API and `manage.py replay_webhook_events`."""

from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.db.models import Sum
from django.utils.html import format_html_join

from bookings.admin import BookingAdmin
from bookings.models import Booking
from disputes.models import Dispute
from payments import ledger, services, webhooks
from payments.forms import RefundForm, WebhookReplayForm
from payments.models import (
    Allocation,
    IdempotencyRecord,
    LedgerAccount,
    LedgerEntry,
    LedgerLeg,
    Payment,
    Payout,
    Refund,
    RefundLine,
    WebhookEvent,
)
from strathwell.audit.services import log_admin_action
from strathwell.console import display
from strathwell.console.actions import ActionFailed, ActionSkipped, confirm_action
from strathwell.console.mixins import ReadOnlyInline, ReadOnlyModelAdmin
from vendors.admin import VendorAdmin
from vendors.models import Vendor


@admin.display(description="amount", ordering="amount_cents")
def amount(obj):
    return display.format_cents(obj.amount_cents, obj.currency)


def _known_ids(obj) -> dict:
    """Ids a row's free text may name, with their labels (from relations already loaded)."""
    known = {}
    booking = getattr(obj, "booking", None)
    if booking is not None:
        known[str(booking.pk)] = booking.title
    payout = getattr(obj, "payout", None)
    vendor = getattr(obj, "vendor", None) or getattr(payout, "vendor", None)
    if vendor is not None:
        known[str(vendor.pk)] = vendor.business_name
    dispute_id = getattr(obj, "held_by_dispute_id", None)
    if dispute_id is not None and booking is not None:
        known[str(dispute_id)] = f"dispute on {booking.title}"
    return known


@admin.display(description="memo")
def memo_text(obj):
    return display.humanize_ids(obj.memo, _known_ids(obj))


@admin.display(description="hold reason")
def hold_reason_text(obj):
    return display.humanize_ids(obj.hold_reason, _known_ids(obj))


def account_label(account) -> str:
    """`vendor_payable:usd:vendor:<id>` → `vendor_payable:usd · The Glasshouse Loft`."""
    code = account.code
    if account.vendor_id is not None:
        return f"{code.split(':vendor:')[0]} · {account.vendor.business_name}"
    if account.booking_id is not None:
        return f"{code.split(':booking:')[0]} · {account.booking.title}"
    return display.humanize_ids(code)


class LedgerEntryInline(ReadOnlyInline, admin.TabularInline):
    model = LedgerEntry
    fields = ("entry_type", "amount_cents", "legs_display", "payout", "refund", memo_text)
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("payout__vendor", "payout__booking", "refund__booking")
            .prefetch_related("legs__account__vendor", "legs__account__booking")
        )

    @admin.display(description="legs (Dr + / Cr −)")
    def legs_display(self, obj):
        return format_html_join(
            "",
            "<div>{} {} {}</div>",
            (
                (
                    leg_side(leg),
                    display.format_cents(abs(leg.amount_cents), obj.currency),
                    account_label(leg.account),
                )
                for leg in obj.legs.all()
            ),
        )


def leg_side(leg) -> str:
    return "Dr" if leg.amount_cents > 0 else "Cr"


class RefundInline(ReadOnlyInline, admin.TabularInline):
    model = Refund
    fk_name = "payment"
    fields = (
        "created_at",
        "amount_cents",
        "net_cents",
        "fee_cents",
        "status",
        "origin",
        "reason",
        "stripe_refund_id",
        "failure_message",
    )
    readonly_fields = fields
    ordering = ("-created_at", "id")


class BookingRefundInline(RefundInline):
    fk_name = "booking"
    fields = ("payment", *(f for f in RefundInline.fields if f != "currency"))
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment__booking", "booking")


class PayoutInline(ReadOnlyInline, admin.TabularInline):
    model = Payout
    fields = ("vendor", "kind", "amount_cents", "status", "paid_at", hold_reason_text)
    readonly_fields = fields
    ordering = ("created_at", "kind", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("vendor", "booking")


class BookingPayoutInline(PayoutInline):
    fk_name = "booking"


class BookingPaymentInline(ReadOnlyInline, admin.TabularInline):
    model = Payment
    fk_name = "booking"
    fields = ("kind", "amount_cents", "status", "stripe_payment_intent_id", "created_at")
    readonly_fields = fields
    ordering = ("created_at", "id")


class BookingDisputeInline(ReadOnlyInline, admin.TabularInline):
    model = Dispute
    fk_name = "booking"
    fields = ("status", "reason", "opened_by", "created_at", "resolved_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("booking", "opened_by")


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
    inlines = [PayoutInline, RefundInline, LedgerEntryInline]
    actions = [
        confirm_action(
            name="refund_payments",
            operation="payment.refund",
            label="Refund payment",
            verb="refund",
            done="Refunded",
            perform=lambda obj, *, actor, reason, amount_cents: services.refund_payment(
                obj, actor=actor, reason=reason, amount_cents=amount_cents
            ),
            form_class=RefundForm,
            state_field="status",
            compare_state=False,
            effect="Money goes back to the organizer through Stripe: the amount you give, or "
            "everything refundable (what the vendors have not been paid out, with the platform "
            "fee on that part). The unpaid payouts it takes are reversed (split when only partly "
            "taken). A Stripe failure keeps the refund as failed, to retry.",
        ),
    ]


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
    # Vendors that have payouts only (not every vendor on the platform).
    list_filter = ("status", "kind", ("vendor", admin.RelatedOnlyFieldListFilter), "currency")
    search_fields = ("=id", "vendor__business_name", "booking__title", "=booking__id")
    date_hierarchy = "created_at"
    list_select_related = ("vendor", "booking")
    exclude = ("hold_reason",)
    readonly_fields = (hold_reason_text,)
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
            name="refund_payouts",
            operation="payout.refund",
            label="Refund payout to the organizer",
            verb="refund",
            done="Refunded",
            perform=lambda obj, *, actor, reason: services.refund_payout(
                obj, actor=actor, reason=reason
            ),
            compare_state=False,
            effect="Each unpaid payout (and the platform fee on it) goes back to the organizer "
            "through Stripe, and the payout is reversed once Stripe confirms: how an adjusted "
            "dispute is settled payout by payout. A Stripe failure keeps the refund as failed, "
            "to retry; the payout stays as it is.",
        ),
        confirm_action(
            name="reverse_payouts",
            operation="payout.reverse",
            label="Reverse payout",
            verb="reverse",
            done="Reversed",
            method="reverse",
            effect="Each locked, eligible or held payout is cancelled for good (reversed): the "
            "vendor will not be paid it and the money waits in the booking's escrow for a "
            "refund. Paid payouts cannot be reversed.",
        ),
    ]

    def confirm_object_label(self, obj):
        return (
            f"{obj.get_kind_display()} payout of "
            f"{display.format_cents(obj.amount_cents, obj.currency)} to {obj.vendor} "
            f"for “{obj.booking.title}”"
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyModelAdmin):
    """Refunds made through Stripe, view-only; a failed one can be retried (confirm action)."""

    list_display = (
        "id",
        "booking",
        "payment",
        amount,
        "status",
        "origin",
        "stripe_refund_id",
        "created_at",
    )
    list_filter = ("status", "origin", "currency")
    search_fields = ("=id", "=stripe_refund_id", "=payment__id", "=booking__id", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("booking", "payment__booking")
    actions = [
        confirm_action(
            name="retry_refunds",
            operation="refund.retry",
            label="Retry failed refund",
            verb="retry",
            done="Retried",
            perform=lambda obj, *, actor, reason: services.retry_refund(obj, actor=actor),
            state_field="status",
            effect="Each failed refund is checked again (the payouts it draws from must still be "
            "unpaid) and sent to Stripe again; a refund an earlier attempt made is found first.",
        ),
    ]

    def get_inline_instances(self, request, obj=None):
        return [RefundLineInline(self.model, self.admin_site)]


@admin.register(RefundLine)
class RefundLineAdmin(ReadOnlyModelAdmin):
    """Where each refund's money came from (a payout, or the booking's escrow)."""

    list_display = ("id", "refund", "payout", "amount_cents", "created_at")
    list_select_related = ("refund__booking", "payout__vendor", "payout__booking")
    search_fields = ("=refund__id", "=payout__id")


class RefundLineInline(ReadOnlyInline, admin.TabularInline):
    model = RefundLine
    fields = ("payout", "amount_cents", "created_at")
    readonly_fields = fields


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyModelAdmin):
    """The ledger's accounts with their balances (normal side positive)."""

    list_display = ("code", "type", "currency", "balance")
    list_filter = ("type", "currency")
    search_fields = ("code", "=booking__id", "=vendor__id")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_total=Sum("legs__amount_cents", default=0))

    @admin.display(description="balance")
    def balance(self, obj):
        return display.format_cents(obj.sign * int(obj._total), obj.currency)


@admin.register(LedgerLeg)
class LedgerLegAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "entry", "account", "amount_cents")
    list_select_related = ("entry", "account")
    search_fields = ("=entry__id", "account__code")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    """The append-only ledger's transactions: view-only, no add or delete."""

    list_display = (
        "id",
        "created_at",
        "entry_type",
        amount,
        "payment_id",
        "booking",
        "payout",
        memo_text,
    )
    list_filter = ("entry_type", "currency")
    search_fields = ("=payment__id", "=booking__id", "=payout__id", "memo")
    date_hierarchy = "created_at"
    list_select_related = ("booking", "payout__vendor", "payout__booking")

    exclude = ("memo",)
    readonly_fields = (memo_text,)

    def get_inline_instances(self, request, obj=None):
        return [LedgerLegInline(self.model, self.admin_site)]


class LedgerLegInline(ReadOnlyInline, admin.TabularInline):
    model = LedgerLeg
    fields = ("account_text", "amount_cents")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("entry", "account__vendor", "account__booking")
        )

    @admin.display(description="account")
    def account_text(self, obj):
        return account_label(obj.account)


# --- money on the booking and vendor pages --------------------------------------------------------


admin.site.unregister(Booking)


@admin.register(Booking)
class BookingMoneyAdmin(BookingAdmin):
    """The booking page with its money: payouts and refunds inline, paid / refunded / balance."""

    inlines = [
        *BookingAdmin.inlines,
        BookingPaymentInline,
        BookingRefundInline,
        BookingPayoutInline,
        BookingDisputeInline,
    ]
    readonly_fields = (
        *BookingAdmin.readonly_fields,
        "amount_paid_cents",
        "amount_refunded_cents",
        "balance_cents",
        "balance_due_on",
    )
    fields = readonly_fields


admin.site.unregister(Vendor)


@admin.register(Vendor)
class VendorMoneyAdmin(VendorAdmin):
    """The vendor page with its balance from the ledger: owed (its payable account) and paid."""

    readonly_fields = (*VendorAdmin.readonly_fields, "ledger_balance")
    fields = (*VendorAdmin.fields, "ledger_balance")

    @admin.display(description="balance (ledger)")
    def ledger_balance(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        figures = ledger.vendor_balances([obj.pk])[obj.pk]
        currency = settings.DEFAULT_CURRENCY
        return (
            f"owed {display.format_cents(figures['owed_cents'], currency)}, "
            f"paid out {display.format_cents(figures['paid_cents'], currency)}"
        )


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
    list_select_related = ("payment__booking", "booking_vendor__vendor", "booking_vendor__booking")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "user", "scope", "payment", "response_status", "created_at")
    list_filter = ("scope", "response_status")
    search_fields = ("=key", "user__email", "=payment__id")
    date_hierarchy = "created_at"
    list_select_related = ("user", "payment__booking")
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
