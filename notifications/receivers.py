"""Who is told what, for every event: the domain signals' receiver and its table.

Every domain signal (bookings, payments, disputes, vendors, accounts) carries `actor`, `action`,
`target`, `before`, `after`, `reason` and is sent inside the transaction of the change. The one
receiver here looks the `action` up in `EVENTS` and writes the notifications its builder drafts
(`services.notify`), in that same transaction: no change commits without its notifications, and
a rolled back change tells nobody. Builders read the rows the flow already locked; they never
lock, and never raise for an event they do not cover (no entry → no notification).

Free text written by users (titles, notes, reasons, names) goes through `services.safe`, which
masks what trust screening masks, so no notification or email carries a raw contact detail.

Balance reminders are not domain events: the `remind_balance_due` job drafts them
(`balance_due_drafts`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings

from accounts.models import Subscription
from accounts.signals import subscription_changed
from bookings.models import Booking, BookingVendor
from bookings.signals import booking_transitioned, booking_vendor_transitioned
from disputes.models import Dispute
from disputes.signals import dispute_transitioned
from notifications.models import Notification
from notifications.services import Draft, day, money, notify, safe
from payments.allocation import allocate
from payments.models import Payment, Payout
from payments.signals import payment_transitioned, payout_transitioned, refund_transitioned
from vendors.models import Vendor
from vendors.signals import vendor_verification_changed

Kind = Notification.Kind


class Event:
    """One domain signal, as the builders read it."""

    def __init__(self, *, action, target, actor=None, before=None, after=None, reason=""):
        self.action = action
        self.target = target
        self.actor = actor
        self.before = before
        self.after = after
        self.reason = reason or ""

    def key(self, suffix: str = "") -> str:
        """The event's identity: action, target and the target's write time (each transition
        saves `updated_at`), so a second counter-offer on a line is a new event while the
        same transition is never told twice."""
        target = self.target
        stamp = getattr(target, "updated_at", None) or getattr(target, "created_at", None)
        stamp = stamp.isoformat() if stamp else ""
        return f"{self.action}:{target._meta.label_lower}:{target.pk}:{stamp}{suffix}"


Builder = Callable[[Event], list[Draft]]


# --- reading what a builder needs (the rows are already locked by the flow) ---------------------


def _lines(booking_id) -> list[BookingVendor]:
    return list(
        BookingVendor.objects.filter(booking_id=booking_id)
        .select_related("vendor")
        .order_by("position", "created_at", "id")
    )


def _locked_lines(booking: Booking) -> list[BookingVendor]:
    """The booking's lines: those the flow locked and attached to it (`record_payment_success`
    puts them in the booking's `vendors` prefetch cache, with their vendors), else one query."""
    cached = getattr(booking, "_prefetched_objects_cache", {}).get("vendors")
    return list(cached) if cached is not None else _lines(booking.pk)


def _booking_of_payment(payment: Payment) -> Booking:
    """The payment's booking: the locked row the flow attached to it, else one query."""
    if Payment.booking.is_cached(payment):
        return payment.booking
    return Booking.objects.get(pk=payment.booking_id)


def _booking_of(line: BookingVendor) -> Booking:
    return line.booking  # cached by the answering flows; one query otherwise


def _title(booking: Booking) -> str:
    return f"“{safe(booking.title)}”"


def _to_vendors(event: Event, booking: Booking, kind: str, title: str, body: str, lines=None):
    lines = _lines(booking.pk) if lines is None else lines
    return [
        Draft(line.vendor.user_id, kind, title, body, event.key(), booking.pk) for line in lines
    ]


def _to_organizer(event: Event, booking: Booking, kind: str, title: str, body: str):
    return [Draft(booking.organizer_id, kind, title, body, event.key(), booking.pk)]


# --- bookings -----------------------------------------------------------------------------------


def _request_body(booking: Booking, line: BookingVendor) -> str:
    return (
        f"You have a new booking request for {_title(booking)} on {day(booking.event_date)} "
        f"for {booking.guest_count} guests, as its {line.role}, at a proposed "
        f"{money(line.proposed_price_cents, booking.currency)}. Approve, decline or make a "
        f"counter-offer within {settings.VENDOR_RESPONSE_HOURS} hours; after that the request "
        "expires."
    )


def booking_submitted(event: Event) -> list[Draft]:
    """To every vendor on the booking: a new booking request."""
    booking = event.target
    return [
        Draft(
            line.vendor.user_id,
            Kind.BOOKING_REQUESTED,
            f"New booking request: {_title(booking)}",
            _request_body(booking, line),
            event.key(),
            booking.pk,
        )
        for line in _lines(booking.pk)
    ]


def line_added(event: Event) -> list[Draft]:
    """To a vendor added to a booking already sent out: a new booking request (a draft's
    vendors hear of it when it is submitted)."""
    line = event.target
    booking = _booking_of(line)
    if booking.submitted_at is None:
        return []
    return [
        Draft(
            line.vendor.user_id,
            Kind.BOOKING_REQUESTED,
            f"New booking request: {_title(booking)}",
            _request_body(booking, line),
            event.key(),
            booking.pk,
        )
    ]


def line_approved(event: Event) -> list[Draft]:
    line = event.target
    booking = _booking_of(line)
    name = safe(line.vendor.business_name)
    return _to_organizer(
        event,
        booking,
        Kind.LINE_APPROVED,
        f"{name} approved {_title(booking)}",
        f"{name} approved your request for {_title(booking)} on {day(booking.event_date)} at "
        f"{money(line.agreed_price_cents, booking.currency)}.",
    )


def line_declined(event: Event) -> list[Draft]:
    line = event.target
    booking = _booking_of(line)
    name = safe(line.vendor.business_name)
    reason = safe(event.reason)
    return _to_organizer(
        event,
        booking,
        Kind.LINE_DECLINED,
        f"{name} declined {_title(booking)}",
        f"{name} declined your request for {_title(booking)} on {day(booking.event_date)}."
        + (f" Their reason: {reason}" if reason else "")
        + " Remove them from the booking and add another vendor to go on.",
    )


def line_countered(event: Event) -> list[Draft]:
    line = event.target
    booking = _booking_of(line)
    name = safe(line.vendor.business_name)
    note = safe(line.note)
    return _to_organizer(
        event,
        booking,
        Kind.LINE_COUNTERED,
        f"{name} made a counter-offer for {_title(booking)}",
        f"{name} offers {money(line.counter_price_cents, booking.currency)} instead of "
        f"{money(line.proposed_price_cents, booking.currency)} for {_title(booking)}."
        + (f" Their note: {note}" if note else "")
        + " Accept the counter-offer, or replace the vendor.",
    )


def line_expired(event: Event) -> list[Draft]:
    """To the organizer (replace the vendor) and to the vendor (the request is gone)."""
    line = event.target
    booking = _booking_of(line)
    name = safe(line.vendor.business_name)
    hours = settings.VENDOR_RESPONSE_HOURS
    return [
        *_to_organizer(
            event,
            booking,
            Kind.LINE_EXPIRED,
            f"The request to {name} expired",
            f"{name} did not settle your request for {_title(booking)} within {hours} hours, "
            "so it expired. Remove them from the booking and add another vendor to go on.",
        ),
        Draft(
            line.vendor.user_id,
            Kind.LINE_EXPIRED,
            f"Booking request expired: {_title(booking)}",
            f"The request for {_title(booking)} on {day(booking.event_date)} was not settled "
            f"within {hours} hours and has expired; there is nothing more to answer.",
            event.key(),
            booking.pk,
        ),
    ]


def counter_accepted(event: Event) -> list[Draft]:
    line = event.target
    booking = _booking_of(line)
    return [
        Draft(
            line.vendor.user_id,
            Kind.COUNTER_ACCEPTED,
            f"Counter-offer accepted: {_title(booking)}",
            f"The organizer accepted your counter-offer of "
            f"{money(line.agreed_price_cents, booking.currency)} for {_title(booking)} on "
            f"{day(booking.event_date)}.",
            event.key(),
            booking.pk,
        )
    ]


def booking_ready(event: Event) -> list[Draft]:
    booking = event.target
    return _to_organizer(
        event,
        booking,
        Kind.BOOKING_READY,
        f"Ready for payment: {_title(booking)}",
        f"Every vendor approved {_title(booking)} (total "
        f"{money(booking.total_cents, booking.currency)}). Pay the deposit of "
        f"{money(booking.deposit_cents, booking.currency)} within "
        f"{settings.PAYMENT_WINDOW_HOURS} hours to confirm it; after that the booking expires "
        "and the vendors are released.",
    )


def booking_canceled(event: Event) -> list[Draft]:
    """To the vendors of a booking that was sent to them; staff cancels also to the
    organizer (who did not do it)."""
    booking = event.target
    if booking.submitted_at is None:
        return []
    reason = safe(event.reason)
    body = f"{_title(booking)} on {day(booking.event_date)} was canceled." + (
        f" Reason: {reason}" if reason else ""
    )
    title = f"Booking canceled: {_title(booking)}"
    drafts = _to_vendors(event, booking, Kind.BOOKING_CANCELED, title, body)
    if event.action == "booking.admin_cancel":
        drafts += _to_organizer(event, booking, Kind.BOOKING_CANCELED, title, body)
    return drafts


def booking_expired(event: Event) -> list[Draft]:
    booking = event.target
    hours = settings.PAYMENT_WINDOW_HOURS
    return [
        *_to_vendors(
            event,
            booking,
            Kind.BOOKING_EXPIRED,
            f"Booking expired: {_title(booking)}",
            f"{_title(booking)} on {day(booking.event_date)} was not paid within {hours} hours "
            "of being ready, so it expired. Your date is free again.",
        ),
        *_to_organizer(
            event,
            booking,
            Kind.BOOKING_EXPIRED,
            f"Booking expired: {_title(booking)}",
            f"{_title(booking)} was not paid within {hours} hours of being ready, so it expired "
            "and its vendors were released. Create a new booking to try again.",
        ),
    ]


# --- payments and payouts -----------------------------------------------------------------------


def payment_succeeded(event: Event) -> list[Draft]:
    """The deposit arrived (the booking becomes paid in the same transaction): the organizer
    gets a receipt, each vendor its share (the allocation API.md defines, computed with the
    same function `record_payment_success` uses)."""
    payment: Payment = event.target
    booking = _booking_of_payment(payment)
    # The title is screened once for all the drafts (screening is a pure function of it).
    title, on_day = _title(booking), day(booking.event_date)
    if payment.kind != Payment.Kind.DEPOSIT:
        # A balance payment: the organizer gets the receipt; the vendors' shares of it become
        # completion payouts, told when they become eligible.
        return _to_organizer(
            event,
            booking,
            Kind.PAYMENT_RECEIVED,
            f"Payment received: {title}",
            f"We received your balance payment of "
            f"{money(payment.amount_cents, payment.currency)} for {title} on "
            f"{on_day}.",
        )
    lines = _locked_lines(booking)
    drafts = _to_organizer(
        event,
        booking,
        Kind.PAYMENT_RECEIVED,
        f"Payment received: {title}",
        f"We received your payment of {money(payment.amount_cents, payment.currency)} for "
        f"{title} on {on_day}. The booking is confirmed.",
    )
    if not lines or not all(line.agreed_price_cents for line in lines):
        return drafts
    shares = allocate(
        payment.amount_cents,
        [line.agreed_price_cents for line in lines],
        commission_percent=settings.PLATFORM_COMMISSION_PERCENT,
        reservation_percent=settings.RESERVATION_RELEASE_PERCENT,
    )
    for line, share in zip(lines, shares, strict=True):
        drafts.append(
            Draft(
                line.vendor.user_id,
                Kind.BOOKING_PAID,
                f"Booking paid: {title}",
                f"The organizer paid the deposit for {title} on "
                f"{on_day}. Your share is "
                f"{money(share.share_cents, payment.currency)}; after the platform fee of "
                f"{money(share.fee_cents, payment.currency)} you will be paid "
                f"{money(share.net_cents, payment.currency)}: "
                f"{money(share.reservation_cents, payment.currency)} when you request it, "
                f"{money(share.completion_cents, payment.currency)} once the event is completed.",
                event.key(),
                booking.pk,
            )
        )
    return drafts


def _payout_vendor_user(payout: Payout):
    return Vendor.objects.filter(pk=payout.vendor_id).values_list("user_id", flat=True).first()


def payout_eligible(event: Event) -> list[Draft]:
    """A payout became eligible by itself (completion, a release): the vendor's own request
    (`payout.request`) tells nobody."""
    payout: Payout = event.target
    if payout.status != Payout.Status.ELIGIBLE:
        return []  # a release that put a payout back to locked
    booking = payout.booking
    return [
        Draft(
            _payout_vendor_user(payout),
            Kind.PAYOUT_ELIGIBLE,
            f"Payout eligible: {_title(booking)}",
            f"Your {payout.kind} payout of {money(payout.amount_cents, payout.currency)} for "
            f"{_title(booking)} is now eligible; it will be paid out once staff approve it.",
            event.key(),
            booking.pk,
        )
    ]


def payout_paid(event: Event) -> list[Draft]:
    payout: Payout = event.target
    booking = payout.booking
    return [
        Draft(
            _payout_vendor_user(payout),
            Kind.PAYOUT_PAID,
            f"Payout sent: {money(payout.amount_cents, payout.currency)}",
            f"Your {payout.kind} payout of {money(payout.amount_cents, payout.currency)} for "
            f"{_title(booking)} has been paid.",
            event.key(),
            booking.pk,
        )
    ]


# --- disputes -----------------------------------------------------------------------------------


def dispute_opened(event: Event) -> list[Draft]:
    """To every participant of the booking except whoever opened it."""
    dispute: Dispute = event.target
    booking = Booking.objects.get(pk=dispute.booking_id)
    title = f"Dispute opened: {_title(booking)}"
    body = (
        f"A dispute was opened on {_title(booking)} ({day(booking.event_date)}): "
        f"{safe(dispute.reason)}. The booking's payouts are on hold until staff decide it."
    )
    drafts = _to_vendors(event, booking, Kind.DISPUTE_OPENED, title, body)
    drafts += _to_organizer(event, booking, Kind.DISPUTE_OPENED, title, body)
    return [d for d in drafts if d.recipient_id != dispute.opened_by_id]


DISPUTE_OUTCOMES = {
    Dispute.Status.RESOLVED: "resolved: the payouts it held are released",
    Dispute.Status.REFUNDED: "decided with a refund: the vendors' payouts are reversed",
    Dispute.Status.ADJUSTED: "decided with an adjustment: staff settle each payout",
}


def dispute_decided(event: Event) -> list[Draft]:
    """To the organizer and the vendors of the booking."""
    dispute: Dispute = event.target
    booking = Booking.objects.get(pk=dispute.booking_id)
    note = safe(dispute.resolution_note)
    title = f"Dispute decided: {_title(booking)}"
    body = f"The dispute on {_title(booking)} was {DISPUTE_OUTCOMES[dispute.status]}." + (
        f" Staff note: {note}" if note else ""
    )
    return [
        *_to_organizer(event, booking, Kind.DISPUTE_DECIDED, title, body),
        *_to_vendors(event, booking, Kind.DISPUTE_DECIDED, title, body),
    ]


# --- vendors and accounts -----------------------------------------------------------------------


def verification_decided(event: Event) -> list[Draft]:
    vendor: Vendor = event.target
    name = safe(vendor.business_name)
    if vendor.verification_status == Vendor.VerificationStatus.APPROVED:
        title = f"{name} is approved"
        body = (
            f"Strathwell approved {name}: you are listed in the vendor directory and can be booked."
        )
    else:
        notes = safe(vendor.admin_notes)
        title = f"{name}: changes needed"
        body = (
            f"Before {name} can be approved, please update your profile."
            + (f" Our notes: {notes}" if notes else "")
            + " It goes back to review when you save it."
        )
    return [Draft(vendor.user_id, Kind.VERIFICATION_DECIDED, title, body, event.key())]


def subscription_changed_draft(event: Event) -> list[Draft]:
    """The organizer is told when their subscription's status moves to active, past due or
    canceled (whatever moved it: a start, Stripe's webhooks, staff); changes that keep the status
    (a renewed period, a pending cancellation) tell nobody."""
    sub = event.target
    old = (event.before or {}).get("status")
    new = sub.status
    if old == new:
        return []
    plan = f"{sub.plan} " if sub.plan else ""
    if new == Subscription.Status.ACTIVE:
        kind, title = Kind.SUBSCRIPTION_ACTIVATED, "Your subscription is active"
        body = (
            f"Your {plan}Strathwell subscription is active: plan events from templates and "
            "book vendors."
        )
    elif new == Subscription.Status.PAST_DUE:
        kind, title = Kind.SUBSCRIPTION_PAST_DUE, "Your subscription payment failed"
        body = (
            "We could not take your subscription payment. Update your card within "
            f"{settings.SUBSCRIPTION_GRACE_DAYS} days to keep planning and booking events."
        )
    elif new == Subscription.Status.CANCELED:
        kind, title = Kind.SUBSCRIPTION_CANCELED, "Your subscription is canceled"
        body = (
            "Your Strathwell subscription is canceled; booking new events needs an active "
            "subscription again."
        )
    else:
        return []
    return [Draft(sub.pk, kind, title, body, event.key())]


def refund_made(event: Event) -> list[Draft]:
    """A refund reached the organizer's card (Stripe confirmed it)."""
    refund = event.target
    booking = Booking.objects.get(pk=refund.booking_id)
    return _to_organizer(
        event,
        booking,
        Kind.REFUND_MADE,
        f"Refund made: {_title(booking)}",
        f"We refunded {money(refund.amount_cents, refund.currency)} for {_title(booking)} to "
        "the card you paid with; banks usually show it within 5–10 business days.",
    )


def balance_due_drafts(booking: Booking, on: datetime.date) -> list[Draft]:
    """The `remind_balance_due` job's reminder of `on` (the due date or the event's eve): one
    per booking and day, whatever how often the job runs (the event key names the day)."""
    eve = booking.event_date - datetime.timedelta(days=1)
    when = "tomorrow" if on == eve else f"by {day(booking.balance_due_on)}"
    return [
        Draft(
            booking.organizer_id,
            Kind.BALANCE_DUE,
            f"Balance due: {_title(booking)}",
            f"The balance of {money(booking.balance_cents, booking.currency)} for "
            f"{_title(booking)} on {day(booking.event_date)} is due {when}. Pay it in the app "
            "so the event can start.",
            f"balance_due:bookings.booking:{booking.pk}:{on.isoformat()}",
            booking.pk,
        )
    ]


# --- the table: action → builder ----------------------------------------------------------------

EVENTS: dict[str, Builder] = {
    "booking.submit": booking_submitted,
    "booking_vendor.add": line_added,
    "booking_vendor.approve": line_approved,
    "booking_vendor.decline": line_declined,
    "booking_vendor.counter": line_countered,
    "booking_vendor.expire": line_expired,
    "booking_vendor.accept_counter": counter_accepted,
    "booking.ready_for_payment": booking_ready,
    "booking.cancel": booking_canceled,
    "booking.admin_cancel": booking_canceled,
    "booking.expire": booking_expired,
    "payment.succeed": payment_succeeded,
    "payout.make_eligible": payout_eligible,
    "payout.release": payout_eligible,
    "payout.approve": payout_paid,
    "dispute.open": dispute_opened,
    "dispute.resolve": dispute_decided,
    "dispute.refund": dispute_decided,
    "dispute.adjust": dispute_decided,
    "vendor.approve": verification_decided,
    "vendor.request_changes": verification_decided,
    **{
        f"subscription.{action}": subscription_changed_draft
        for action in (
            "start",
            "activate",
            "incomplete",
            "past_due",
            "resume",
            "cancel",
            "cancel_now",
            "ended",
            "grant_complimentary",
            "sync",
            "update",
        )
    },
    "refund.succeed": refund_made,
}

SIGNALS = (
    booking_transitioned,
    booking_vendor_transitioned,
    payment_transitioned,
    payout_transitioned,
    refund_transitioned,
    dispute_transitioned,
    vendor_verification_changed,
    subscription_changed,
)


def on_domain_event(sender, *, action, target, actor=None, before=None, after=None, **kwargs):
    """The receiver of every domain signal above: draft and write the event's notifications."""
    build = EVENTS.get(action)
    if build is None:
        return
    event = Event(
        action=action,
        target=target,
        actor=actor,
        before=before,
        after=after,
        reason=kwargs.get("reason", ""),
    )
    notify(build(event))


for _signal in SIGNALS:
    _signal.connect(on_domain_event, dispatch_uid=f"notifications:{id(_signal)}")
