"""Data builders for the console tests, on top of the apps' own factories and model methods
(payouts come from a real `record_payment_success`, states from the real transitions)."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from accounts.models import RefreshToken
from accounts.tests.factories import OrganizerFactory, SubscriptionFactory, UserFactory
from bookings.models import Booking
from bookings.tests.factories import BookingFactory, BookingVendorFactory
from disputes.models import Dispute
from notifications.models import Notification
from notifications.services import Draft, notify
from payments import services as money
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
from payments.tests.factories import PaymentFactory, intent_object, succeeded_payment
from strathwell.audit.services import write_audit_log
from strathwell.jobs.models import OutboxMessage
from strathwell.uploads.tests.factories import UploadFactory
from templates_app.tests.factories import TemplateFactory
from trust.models import ModerationEvent
from vendors import availability
from vendors.tests.factories import ServiceVendorFactory, VendorFactory, VenueFactory

MAX_LINES = 10  # vendors per paid booking in the bulk builders (2 payouts each)


def paid_payment(lines: int = 2) -> Payment:
    """A succeeded payment (booking paid, ledger, allocations, locked payouts)."""
    prices = tuple([500_000] + [150_000 + 1_000 * i for i in range(lines - 1)])
    return succeeded_payment(prices=prices)


def payout_of(payment: Payment, kind=Payout.Kind.RESERVATION, position=0) -> Payout:
    return Payout.objects.get(payment=payment, kind=kind, booking_vendor__position=position)


def eligible_payout() -> Payout:
    """The venue's reservation payout of a paid booking, requested by its vendor."""
    payout = payout_of(paid_payment())
    return payout.request(actor=payout.vendor.user)


def locked_payout() -> Payout:
    return payout_of(paid_payment())


def held_payout(staff) -> Payout:
    return eligible_payout().hold(actor=staff, reason="checking the venue")


def paid_out_payout(staff) -> Payout:
    return eligible_payout().approve(actor=staff, reason="all good")


def paid_booking() -> Booking:
    return paid_payment().booking


def open_dispute() -> Dispute:
    booking = paid_booking()
    return money.open_dispute(
        booking=booking, opened_by=booking.organizer, reason="Venue was closed"
    )


def resolved_dispute(staff) -> Dispute:
    dispute = open_dispute()
    dispute = money.change_dispute_status(
        dispute, actor=staff, status=Dispute.Status.UNDER_REVIEW, note="look"
    )
    return money.change_dispute_status(
        dispute, actor=staff, status=Dispute.Status.RESOLVED, note="settled"
    )


def failed_success_event() -> tuple[WebhookEvent, Payment]:
    """A `payment_intent.succeeded` event whose processing failed (recorded as failed) for a
    pending payment: replaying it applies the payment."""
    payment = PaymentFactory()
    event = WebhookEvent.objects.create(
        stripe_event_id=f"evt_{uuid.uuid4().hex[:20]}",
        type="payment_intent.succeeded",
        payload={
            "id": "evt_x",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": intent_object(payment)},
        },
        outcome=WebhookEvent.Outcome.FAILED,
        error="OperationalError: the database went away",
        attempts=1,
    )
    return event, payment


def processed_event() -> WebhookEvent:
    return WebhookEvent.objects.create(
        stripe_event_id=f"evt_{uuid.uuid4().hex[:20]}",
        type="customer.created",
        payload={"id": "evt_y", "type": "customer.created", "data": {"object": {}}},
        outcome=WebhookEvent.Outcome.IGNORED,
        attempts=1,
        processed_at=timezone.now(),
    )


# --- bulk builders for the changelist query counts: each makes at least n rows -------------------


def _until(model, n, make):
    start = model.objects.count()
    while model.objects.count() - start < n:
        make(n - (model.objects.count() - start))


def _paid_payments(model, n):
    # ~2 payouts, 1 allocation, 1 fee entry per line; n/2 lines per payment (at most 10).
    _until(model, n, lambda missing: paid_payment(lines=max(2, min(MAX_LINES, missing // 2 + 1))))


def _refunds(n):
    """Pending refunds drawn from payouts (rows only: the changelists need no Stripe)."""

    def one(_missing):
        payment = paid_payment()
        payout = Payout.objects.filter(payment=payment).first()
        refund = Refund.objects.create(
            payment=payment,
            booking=payment.booking,
            amount_cents=payout.amount_cents + 1,
            net_cents=payout.amount_cents,
            fee_cents=1,
            origin=Refund.Origin.ADMIN,
            reason="changelist",
        )
        RefundLine.objects.create(refund=refund, payout=payout, amount_cents=payout.amount_cents)

    _until(Refund, n, one)


def _refresh_tokens(n):
    user = UserFactory()
    RefreshToken.objects.bulk_create(
        RefreshToken(
            user=user,
            family=uuid.uuid4(),
            jti=uuid.uuid4().hex,
            expires_at=timezone.now() + datetime.timedelta(days=1),
            family_expires_at=timezone.now() + datetime.timedelta(days=30),
        )
        for _ in range(n)
    )


def _totp_devices(n):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.bulk_create(
        TOTPDevice(user=UserFactory(is_staff=True), name="Authenticator", confirmed=True)
        for _ in range(n)
    )


def _groups(n):
    from django.contrib.auth.models import Group

    for _ in range(n):
        Group.objects.create(name=f"group-{uuid.uuid4().hex[:8]}")


def _audit_logs(n):
    user = UserFactory()
    for i in range(n):
        write_audit_log(actor=user, action="test.row", target=user, after={"i": i})


def _disputes(n):
    for _ in range(n):
        booking = BookingFactory(status=Booking.Status.PAID)
        Dispute.objects.create(booking=booking, opened_by=booking.organizer, reason="late")


def _moderation(n):
    user = UserFactory()
    ModerationEvent.objects.bulk_create(
        ModerationEvent(
            user=user,
            context_type=ModerationEvent.ContextType.MESSAGE,
            action=ModerationEvent.Action.WARN,
            signals=["email"],
            excerpt="write me at ***",
        )
        for _ in range(n)
    )


def _webhook_events(n):
    WebhookEvent.objects.bulk_create(
        WebhookEvent(
            stripe_event_id=f"evt_{uuid.uuid4().hex}",
            type="payment_intent.succeeded",
            payload={"id": "x"},
            outcome=WebhookEvent.Outcome.PROCESSED,
        )
        for _ in range(n)
    )


def _idempotency(n):
    user = OrganizerFactory()
    payment = PaymentFactory()
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(
            user=user, key=uuid.uuid4().hex, scope="x", request_hash="h", payment=payment
        )
        for _ in range(n)
    )


def _date_units(n):
    """n capacity units: every other one a date a vendor blocked, the others held by a
    booking's venue line approved through the real transition."""
    vendor = VendorFactory()
    start = timezone.localdate() + datetime.timedelta(days=1 + vendor.date_units.count())
    for i in range(n):
        if i % 2:
            availability.block_date(vendor, start + datetime.timedelta(days=i), note="private")
        else:
            booking = BookingFactory(status=Booking.Status.AWAITING)
            line = BookingVendorFactory(booking=booking)
            line.approve(actor=line.vendor.user)


def outbox_message(status=OutboxMessage.Status.PENDING, **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        topic="test.noop", dedupe_key=f"test:{uuid.uuid4()}", status=status, **fields
    )


def _outbox_messages(n):
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            topic="test.noop",
            dedupe_key=f"test:{uuid.uuid4()}",
            payload={"n": i, "api_key": "sk_live_hidden"},
            status=(OutboxMessage.Status.FAILED if i % 3 == 0 else OutboxMessage.Status.PENDING),
            last_error="SMTPServerDisconnected: Connection unexpectedly closed" if i % 3 else "",
        )
        for i in range(n)
    )


def _notifications(n):
    """n notifications with their owed emails (through the real `notify`)."""
    user = UserFactory()
    key = uuid.uuid4().hex
    notify(
        [
            Draft(user.pk, Notification.Kind.PAYOUT_PAID, f"Payout {i}", "Paid.", f"{key}:{i}")
            for i in range(n)
        ]
    )


BULK_BUILDERS = {
    # Every other user has a subscription row: the list shows its status without a query each.
    "accounts.user": lambda n: [OrganizerFactory(subscribed=i % 2 == 0) for i in range(n)],
    "accounts.subscription": lambda n: SubscriptionFactory.create_batch(n),
    "accounts.refreshtoken": _refresh_tokens,
    "auth.group": _groups,
    "audit.auditlog": _audit_logs,
    "vendors.vendor": lambda n: VendorFactory.create_batch(n),
    "vendors.venueprofile": lambda n: [VenueFactory() for _ in range(n)],
    "vendors.serviceprofile": lambda n: [ServiceVendorFactory() for _ in range(n)],
    "vendors.vendordateunit": _date_units,
    "templates_app.template": lambda n: TemplateFactory.create_batch(n),
    "templates_app.templateitem": lambda n: TemplateFactory.create_batch((n + 1) // 2),
    "uploads.upload": lambda n: UploadFactory.create_batch(n),
    "bookings.booking": lambda n: BookingFactory.create_batch(n),
    "bookings.bookingvendor": lambda n: BookingVendorFactory.create_batch(n),
    "payments.payment": lambda n: PaymentFactory.create_batch(n),
    "payments.payout": lambda n: _paid_payments(Payout, n),
    "payments.ledgerentry": lambda n: _paid_payments(LedgerEntry, n),
    "payments.allocation": lambda n: _paid_payments(Allocation, n),
    "payments.ledgeraccount": lambda n: _paid_payments(LedgerAccount, n),
    "payments.ledgerleg": lambda n: _paid_payments(LedgerLeg, n),
    "payments.refund": _refunds,
    "payments.refundline": _refunds,
    "payments.idempotencyrecord": _idempotency,
    "payments.webhookevent": _webhook_events,
    "disputes.dispute": _disputes,
    "trust.moderationevent": _moderation,
    "otp_totp.totpdevice": _totp_devices,
    "jobs.outboxmessage": _outbox_messages,
    "notifications.notification": _notifications,
}
