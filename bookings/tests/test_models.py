"""The booking state machines, method by method: every legal move, every illegal one (409,
nothing changed, nothing audited), the derived money, and the payments hooks."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import AdminFactory, OrganizerFactory
from bookings.models import Booking, BookingVendor, percent_of
from bookings.tests.conftest import FOUR_PRICES, booking_audit, refreshed
from bookings.tests.factories import booking_with_vendors
from payments import services as money
from strathwell.audit.models import AuditLog
from strathwell.exceptions import (
    DomainPermissionDenied,
    DomainValidationError,
    InvalidTransition,
    VendorNotApproved,
)
from templates_app.models import Template
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

S = Booking.Status
L = BookingVendor.Status


def lines(booking):
    return list(booking.vendors.order_by("position"))


def approve_all(booking):
    for line in lines(booking):
        line.approve(actor=line.vendor.user)
    return refreshed(booking)


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def payment_hooks(monkeypatch):
    """Record the calls the booking makes into payments.services."""
    from payments import services

    calls = []
    monkeypatch.setattr(
        services,
        "on_booking_completed",
        lambda booking, *, actor=None: calls.append(("completed", booking.pk, booking.status)),
    )
    monkeypatch.setattr(
        services,
        "on_booking_canceled",
        lambda booking, *, actor=None, reason="", **_policy: (
            calls.append(("canceled", booking.pk, booking.status, reason)) or []
        ),
    )
    return calls


# --- derived money ------------------------------------------------------------------------------


def test_total_counts_agreed_else_proposed_and_skips_declined(awaiting_booking):
    venue, catering, music, _flowers = lines(awaiting_booking)
    assert awaiting_booking.total_cents == sum(FOUR_PRICES)
    venue.approve(actor=venue.vendor.user)
    catering.counter(actor=catering.vendor.user, price_cents=170_000)
    music.decline(actor=music.vendor.user, reason="Booked that day.")
    booking = refreshed(awaiting_booking)
    # countered counts its proposed price until the organizer accepts the counter
    assert booking.total_cents == 500_000 + 150_000 + 40_000
    booking.accept_counter(actor=booking.organizer, line=catering)
    assert refreshed(booking).total_cents == 500_000 + 170_000 + 40_000


def test_deposit_rounds_half_up_in_integers(settings):
    settings.BOOKING_DEPOSIT_PERCENT = 30
    booking = booking_with_vendors(prices=(100_001, 4))  # 100_005 × 30% = 30_001.5
    assert booking.total_cents == 100_005
    assert booking.deposit_cents == 30_002
    assert percent_of(5, 10) == 1  # 0.5 → 1
    assert percent_of(4, 10) == 0  # 0.4 → 0
    assert percent_of(0, 30) == 0


# --- create -------------------------------------------------------------------------------------


def create(organizer, *, lines, **overrides):
    fields = {
        "title": "Launch party",
        "event_date": timezone.localdate() + datetime.timedelta(days=30),
        "guest_count": 100,
        **overrides,
    }
    return Booking.create_request(organizer=organizer, lines=lines, **fields)


def test_create_request_writes_draft_with_lines_in_order_and_audits(organizer):
    venue, band = VenueFactory(), ServiceVendorFactory()
    booking = create(organizer, lines=[(venue, 400_000), (band, 90_000)])
    assert booking.status == S.DRAFT
    assert [(ln.vendor_id, ln.role, ln.position) for ln in lines(booking)] == [
        (venue.pk, "venue", 0),
        (band.pk, "service", 1),
    ]
    assert booking_audit(booking) == ["booking.create"]


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_venue", "vendors"),
        ("two_venues", "vendors"),
        ("duplicate", "vendors"),
        ("zero_price", "vendors"),
        ("past_date", "event_date"),
        ("today", "event_date"),
        ("over_capacity", "guest_count"),
        ("unpublished_template", "template_id"),
        ("empty", "vendors"),
    ],
)
def test_create_request_rejects_invalid_requests(organizer, case, field):
    venue, venue2, band = (
        VenueFactory(profile__capacity=150),
        VenueFactory(),
        ServiceVendorFactory(),
    )
    today = timezone.localdate()
    lines_, overrides = [(venue, 100_000), (band, 50_000)], {}
    if case == "no_venue":
        lines_ = [(band, 50_000)]
    elif case == "two_venues":
        lines_ = [(venue, 100_000), (venue2, 100_000)]
    elif case == "duplicate":
        lines_ = [(venue, 100_000), (band, 50_000), (band, 60_000)]
    elif case == "zero_price":
        lines_ = [(venue, 0)]
    elif case == "past_date":
        overrides["event_date"] = today - datetime.timedelta(days=1)
    elif case == "today":
        overrides["event_date"] = today
    elif case == "over_capacity":
        overrides["guest_count"] = 151
    elif case == "unpublished_template":
        overrides["template"] = Template.objects.create(slug="draft-tpl", title="Draft")
    elif case == "empty":
        lines_ = []
    with pytest.raises(DomainValidationError) as exc:
        create(organizer, lines=lines_, **overrides)
    assert field in exc.value.details
    assert not Booking.objects.exists()
    assert not BookingVendor.objects.exists()


def test_create_request_refuses_unapproved_vendor(organizer):
    pending = ServiceVendorFactory(verification_status="pending")
    with pytest.raises(VendorNotApproved):
        create(organizer, lines=[(VenueFactory(), 100_000), (pending, 10_000)])
    assert not Booking.objects.exists()


# --- submit -------------------------------------------------------------------------------------


def test_submit_moves_draft_to_awaiting_once(transitions):
    booking = booking_with_vendors()
    booking = booking.submit(actor=booking.organizer)
    assert booking.status == S.AWAITING
    assert refreshed(booking).submitted_at is not None
    assert [(t["before"], t["after"]) for t in transitions] == [
        ({"status": "draft"}, {"status": "awaiting_vendor_approval"})
    ]
    with pytest.raises(InvalidTransition):
        booking.submit(actor=booking.organizer)
    assert refreshed(booking).status == S.AWAITING
    assert booking_audit(booking) == ["booking.submit"]


def test_submit_needs_a_venue_and_a_future_date_and_approved_vendors():
    booking = booking_with_vendors()
    venue = lines(booking)[0]
    money.remove_vendor(booking, actor=booking.organizer, line=venue)
    with pytest.raises(InvalidTransition):
        booking.submit(actor=booking.organizer)

    past = booking_with_vendors(event_date=timezone.localdate() - datetime.timedelta(days=2))
    with pytest.raises(DomainValidationError) as exc:
        past.submit(actor=past.organizer)
    assert "event_date" in exc.value.details

    lapsed = booking_with_vendors()
    vendor = lines(lapsed)[1].vendor
    vendor.verification_status = "needs_changes"
    vendor.save(update_fields=["verification_status"])
    with pytest.raises(VendorNotApproved):
        lapsed.submit(actor=lapsed.organizer)
    for b in (booking, past, lapsed):
        assert refreshed(b).status == S.DRAFT


def test_only_the_organizer_or_staff_drives_organizer_transitions(admin):
    booking = booking_with_vendors()
    with pytest.raises(DomainPermissionDenied):
        booking.submit(actor=OrganizerFactory())
    with pytest.raises(DomainPermissionDenied):
        booking.submit(actor=lines(booking)[0].vendor.user)
    assert refreshed(booking).status == S.DRAFT
    assert booking.submit(actor=admin).status == S.AWAITING


# --- vendor answers -----------------------------------------------------------------------------


def test_last_approval_makes_booking_ready_in_the_same_transaction(awaiting_booking, transitions):
    *first, last = lines(awaiting_booking)
    for line in first:
        line.approve(actor=line.vendor.user)
        assert refreshed(awaiting_booking).status == S.AWAITING
    approved = last.approve(actor=last.vendor.user)
    assert approved.booking.status == S.READY
    assert refreshed(awaiting_booking).status == S.READY
    for line in lines(awaiting_booking):
        assert line.status == L.APPROVED
        assert line.agreed_price_cents == line.proposed_price_cents
    booking_signals = [t for t in transitions if t["sender"] is Booking]
    assert [(t["action"], t["actor"]) for t in booking_signals] == [
        ("booking.ready_for_payment", last.vendor.user)
    ]
    assert booking_audit(awaiting_booking) == ["booking.ready_for_payment"]


def test_counter_then_accept(awaiting_booking):
    venue, *services = lines(awaiting_booking)
    for line in services:
        line.approve(actor=line.vendor.user)
    venue.counter(actor=venue.vendor.user, price_cents=520_000, note="Weekend rate.")
    venue.counter(actor=venue.vendor.user, price_cents=510_000, note="Best I can do.")
    venue = refreshed(venue)
    assert (venue.status, venue.counter_price_cents, venue.note) == (
        L.COUNTERED,
        510_000,
        "Best I can do.",
    )
    # a vendor cannot approve its own counter; only the organizer accepts it
    with pytest.raises(InvalidTransition):
        venue.approve(actor=venue.vendor.user)
    booking = awaiting_booking.accept_counter(actor=awaiting_booking.organizer, line=venue)
    assert booking.status == S.READY
    venue = refreshed(venue)
    assert (venue.status, venue.agreed_price_cents) == (L.APPROVED, 510_000)
    assert booking.total_cents == 510_000 + 150_000 + 80_000 + 40_000
    assert booking_audit(venue, target_type="bookings.bookingvendor") == [
        "booking_vendor.counter",
        "booking_vendor.counter",
        "booking_vendor.accept_counter",
    ]


def test_decline_keeps_booking_waiting_until_the_vendor_is_replaced(awaiting_booking):
    venue, catering, music, flowers = lines(awaiting_booking)
    for line in (venue, catering, flowers):
        line.approve(actor=line.vendor.user)
    music.decline(actor=music.vendor.user, reason="Unavailable.")
    assert refreshed(awaiting_booking).status == S.AWAITING
    assert refreshed(music).note == "Unavailable."
    organizer = awaiting_booking.organizer
    money.remove_vendor(awaiting_booking, actor=organizer, line=music)
    # the declined line was the only un-approved one: removing it makes the booking payable
    assert refreshed(awaiting_booking).status == S.READY
    replacement = money.add_vendor(
        awaiting_booking,
        actor=organizer,
        vendor=ServiceVendorFactory(),
        proposed_price_cents=70_000,
    )
    assert replacement.position == 4
    assert refreshed(awaiting_booking).status == S.AWAITING
    replacement.approve(actor=replacement.vendor.user)
    assert refreshed(awaiting_booking).status == S.READY
    assert booking_audit(awaiting_booking) == [
        "booking.ready_for_payment",
        "booking.reopen",
        "booking.ready_for_payment",
    ]


@pytest.mark.parametrize(
    ("line_status", "method", "allowed"),
    [
        (L.PENDING, "approve", True),
        (L.PENDING, "decline", True),
        (L.PENDING, "counter", True),
        (L.COUNTERED, "approve", False),
        (L.COUNTERED, "decline", True),
        (L.COUNTERED, "counter", True),
        (L.APPROVED, "approve", False),
        (L.APPROVED, "decline", False),
        (L.APPROVED, "counter", False),
        (L.DECLINED, "approve", False),
        (L.DECLINED, "decline", False),
        (L.DECLINED, "counter", False),
    ],
)
def test_vendor_line_transitions(line_status, method, allowed):
    booking = booking_with_vendors(status=S.AWAITING, line_status=line_status)
    line = BookingVendor.objects.get(booking=booking, role="service")
    kwargs = {"price_cents": 30_000} if method == "counter" else {}
    audit_before = AuditLog.objects.count()
    call = getattr(line, method)
    if allowed:
        call(actor=line.vendor.user, **kwargs)
        assert refreshed(line).status != line_status or method == "counter"
    else:
        with pytest.raises(InvalidTransition):
            call(actor=line.vendor.user, **kwargs)
        assert refreshed(line).status == line_status
        assert AuditLog.objects.count() == audit_before


@pytest.mark.parametrize("booking_status", [s for s in S.values if s != S.AWAITING])
@pytest.mark.parametrize("method", ["approve", "decline", "counter"])
def test_vendors_answer_only_awaiting_bookings(booking_status, method):
    booking = booking_with_vendors(status=booking_status)
    line = lines(booking)[0]
    kwargs = {"price_cents": 30_000} if method == "counter" else {}
    with pytest.raises(InvalidTransition):
        getattr(line, method)(actor=line.vendor.user, **kwargs)
    assert refreshed(line).status == L.PENDING
    assert refreshed(booking).status == booking_status
    assert not AuditLog.objects.exists()


def test_vendor_answers_only_its_own_line_and_must_be_approved(awaiting_booking):
    venue, catering, *_ = lines(awaiting_booking)
    for actor in (catering.vendor.user, awaiting_booking.organizer, AdminFactory()):
        with pytest.raises(DomainPermissionDenied):
            venue.approve(actor=actor)
    vendor = venue.vendor
    vendor.verification_status = "needs_changes"
    vendor.save(update_fields=["verification_status"])
    with pytest.raises(VendorNotApproved):
        venue.approve(actor=vendor.user)
    assert refreshed(venue).status == L.PENDING
    assert not AuditLog.objects.exists()


def test_counter_price_must_be_positive(awaiting_booking):
    line = lines(awaiting_booking)[0]
    for bad in (0, -5, 1.5, "100"):
        with pytest.raises(DomainValidationError):
            line.counter(actor=line.vendor.user, price_cents=bad)
    assert refreshed(line).status == L.PENDING


def test_accept_counter_only_for_countered_lines_of_awaiting_bookings(awaiting_booking):
    venue = lines(awaiting_booking)[0]
    with pytest.raises(InvalidTransition):
        awaiting_booking.accept_counter(actor=awaiting_booking.organizer, line=venue)
    venue.counter(actor=venue.vendor.user, price_cents=600_000)
    with pytest.raises(DomainPermissionDenied):
        awaiting_booking.accept_counter(actor=venue.vendor.user, line=venue)
    money.cancel_booking(awaiting_booking, actor=awaiting_booking.organizer)
    with pytest.raises(InvalidTransition):
        awaiting_booking.accept_counter(actor=awaiting_booking.organizer, line=venue)
    assert refreshed(venue).status == L.COUNTERED


# --- lines added and removed --------------------------------------------------------------------


def test_add_vendor_to_ready_booking_reopens_it(transitions):
    booking = booking_with_vendors(status=S.READY, line_status=L.APPROVED)
    line = money.add_vendor(
        booking, actor=booking.organizer, vendor=ServiceVendorFactory(), proposed_price_cents=30_000
    )
    assert (line.status, line.booking.status) == (L.PENDING, S.AWAITING)
    assert refreshed(booking).status == S.AWAITING
    assert [
        (t["action"], t["before"], t["after"]) for t in transitions if t["sender"] is Booking
    ] == [
        ("booking.reopen", {"status": "ready_for_payment"}, {"status": "awaiting_vendor_approval"})
    ]


def test_add_vendor_rules():
    booking = booking_with_vendors(status=S.AWAITING, guest_count=200)
    organizer = booking.organizer
    existing = lines(booking)[1].vendor
    cases = [
        ({"vendor": VenueFactory(), "proposed_price_cents": 10_000}, "vendor_id"),  # 2nd venue
        ({"vendor": existing, "proposed_price_cents": 10_000}, "vendor_id"),  # twice
        ({"vendor": ServiceVendorFactory(), "proposed_price_cents": 0}, "proposed_price_cents"),
    ]
    for kwargs, field in cases:
        with pytest.raises(DomainValidationError) as exc:
            money.add_vendor(booking, actor=organizer, **kwargs)
        assert field in exc.value.details
    with pytest.raises(VendorNotApproved):
        money.add_vendor(
            booking,
            actor=organizer,
            vendor=ServiceVendorFactory(verification_status="pending"),
            proposed_price_cents=10_000,
        )
    # a replacement venue must hold the guests
    money.remove_vendor(booking, actor=organizer, line=lines(booking)[0])
    small = VenueFactory(profile__capacity=50)
    with pytest.raises(DomainValidationError) as exc:
        money.add_vendor(booking, actor=organizer, vendor=small, proposed_price_cents=10_000)
    assert "vendor_id" in exc.value.details
    assert len(lines(booking)) == 1


@pytest.mark.parametrize("booking_status", [S.PAID, S.IN_PROGRESS, S.COMPLETED, S.CANCELED])
def test_lines_are_frozen_after_payment_or_cancel(booking_status):
    booking = booking_with_vendors(status=booking_status, line_status=L.APPROVED)
    with pytest.raises(InvalidTransition):
        money.add_vendor(
            booking,
            actor=booking.organizer,
            vendor=ServiceVendorFactory(),
            proposed_price_cents=1_000,
        )
    with pytest.raises(InvalidTransition):
        money.remove_vendor(booking, actor=booking.organizer, line=lines(booking)[1])
    assert len(lines(booking)) == 2
    assert not AuditLog.objects.exists()


def test_removing_the_venue_from_a_ready_booking_reopens_it():
    booking = booking_with_vendors(status=S.READY, line_status=L.APPROVED)
    money.remove_vendor(booking, actor=booking.organizer, line=lines(booking)[0])
    assert refreshed(booking).status == S.AWAITING


# --- booking transitions table ------------------------------------------------------------------

ACTIONS = {
    # action: (states it may start from, resulting state)
    "submit": ({S.DRAFT}, S.AWAITING),
    "cancel": ({S.DRAFT, S.AWAITING, S.READY, S.PAID}, S.CANCELED),
    "start": ({S.PAID}, S.IN_PROGRESS),
    "complete": ({S.IN_PROGRESS}, S.COMPLETED),
    "admin_cancel": ({S.DRAFT, S.AWAITING, S.READY, S.PAID, S.IN_PROGRESS}, S.CANCELED),
    "force_complete": ({S.PAID, S.IN_PROGRESS}, S.COMPLETED),
    "mark_paid": ({S.READY}, S.PAID),
}


def run_action(booking, name, admin):
    if name in ("admin_cancel", "force_complete"):
        return getattr(booking, name)(actor=admin, reason="Ops ticket 42.")
    if name == "mark_paid":
        return booking.mark_paid()
    return getattr(booking, name)(actor=booking.organizer)


@pytest.mark.parametrize("name", list(ACTIONS))
@pytest.mark.parametrize("start", S.values)
def test_booking_transition_table(name, start, admin, payment_hooks):
    # Lines pending in draft (a draft never has answers), approved elsewhere.
    line_status = L.PENDING if start in (S.DRAFT, S.AWAITING) else L.APPROVED
    booking = booking_with_vendors(status=start, line_status=line_status)
    allowed_from, target = ACTIONS[name]
    if start in allowed_from:
        result = run_action(booking, name, admin)
        assert result.status == target == refreshed(booking).status
        assert len(booking_audit(booking)) == 1
    elif name == "mark_paid" and start in Booking.ALREADY_PAID:
        assert run_action(booking, name, admin).status == start  # redelivery: no-op
        assert booking_audit(booking) == []
    else:
        with pytest.raises(InvalidTransition):
            run_action(booking, name, admin)
        assert refreshed(booking).status == start
        assert booking_audit(booking) == []
        assert payment_hooks == []


def test_cancel_and_complete_call_payments_inside_the_transition(payment_hooks, admin):
    booking = booking_with_vendors(status=S.READY, line_status=L.APPROVED)
    money.cancel_booking(booking, actor=booking.organizer, reason="Plans changed.")
    paid = booking_with_vendors(status=S.PAID, line_status=L.APPROVED)
    paid.start(actor=paid.organizer)
    money.complete_booking(paid, actor=paid.organizer)
    other = booking_with_vendors(status=S.PAID, line_status=L.APPROVED)
    money.cancel_booking(other, by_staff=True, actor=admin, reason="Fraud review.")
    last = booking_with_vendors(status=S.IN_PROGRESS, line_status=L.APPROVED)
    money.complete_booking(last, by_staff=True, actor=admin, reason="Organizer unreachable.")
    assert payment_hooks == [
        ("canceled", booking.pk, S.CANCELED, "Plans changed."),
        ("completed", paid.pk, S.COMPLETED),
        ("canceled", other.pk, S.CANCELED, "Fraud review."),
        ("completed", last.pk, S.COMPLETED),
    ]
    booking = refreshed(booking)
    assert (booking.cancel_reason, booking.canceled_at is not None) == ("Plans changed.", True)
    assert refreshed(paid).completed_at is not None


def test_a_failing_payments_hook_rolls_the_transition_back(monkeypatch):
    from payments import services

    def boom(booking, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(services, "on_booking_completed", boom)
    booking = booking_with_vendors(status=S.IN_PROGRESS, line_status=L.APPROVED)
    with pytest.raises(RuntimeError):
        money.complete_booking(booking, actor=booking.organizer)
    assert refreshed(booking).status == S.IN_PROGRESS
    assert booking_audit(booking) == []


def test_staff_transitions_need_staff_and_a_reason(admin):
    booking = booking_with_vendors(status=S.PAID, line_status=L.APPROVED)
    with pytest.raises(DomainPermissionDenied):
        money.cancel_booking(booking, by_staff=True, actor=booking.organizer, reason="Because.")
    with pytest.raises(DomainValidationError) as exc:
        money.complete_booking(booking, by_staff=True, actor=admin, reason="  ")
    assert "reason" in exc.value.details
    assert refreshed(booking).status == S.PAID
    money.cancel_booking(booking, by_staff=True, actor=admin, reason="Chargeback risk.")
    row = AuditLog.objects.get(target_id=str(booking.pk))
    assert (row.action, row.actor_id, row.reason) == (
        "booking.admin_cancel",
        admin.pk,
        "Chargeback risk.",
    )
    assert row.before == {"status": "paid"} and row.after == {"status": "canceled"}


def test_mark_paid_inside_a_transaction_that_already_locked_the_booking():
    booking = booking_with_vendors(status=S.READY, line_status=L.APPROVED)
    with transaction.atomic():
        Booking.objects.select_for_update().get(pk=booking.pk)  # what payments does first
        paid = booking.mark_paid(actor=None)
        again = booking.mark_paid(actor=None)
    assert paid.status == again.status == S.PAID
    assert refreshed(booking).paid_at is not None
    assert booking_audit(booking) == ["booking.mark_paid"]


# --- editing a draft ----------------------------------------------------------------------------


def test_update_details_only_in_draft_and_within_capacity():
    booking = booking_with_vendors(guest_count=100)
    organizer = booking.organizer
    booking.update_details(actor=organizer, title="  Gala  ", guest_count=250)
    booking = refreshed(booking)
    assert (booking.title, booking.guest_count) == ("Gala", 250)
    with pytest.raises(DomainValidationError) as exc:
        booking.update_details(actor=organizer, guest_count=301)  # factory venue holds 300
    assert "guest_count" in exc.value.details
    with pytest.raises(DomainValidationError):
        booking.update_details(actor=organizer, status="paid")
    booking.submit(actor=organizer)
    with pytest.raises(InvalidTransition):
        booking.update_details(actor=organizer, title="Too late")
    assert refreshed(booking).title == "Gala"
