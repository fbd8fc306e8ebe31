"""The bookings app's timed transitions, moved through time (time-machine) and run through
`manage.py run_periodic`: unanswered requests expire, paid events start on their date."""

from __future__ import annotations

import datetime
import io
import time

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Booking, BookingVendor
from bookings.tasks import expire_vendor_requests, start_events
from bookings.tests.conftest import booking_audit
from bookings.tests.factories import booking_with_vendors
from notifications.models import Notification
from payments import services as money
from payments.tests.factories import pay_balance, succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition
from strathwell.testing.threads import run_together
from vendors.tests.factories import ServiceVendorFactory

S = Booking.Status
L = BookingVendor.Status
HOURS = 72  # VENDOR_RESPONSE_HOURS's default


def run(*names: str) -> str:
    out = io.StringIO()
    call_command("run_periodic", *names, stdout=out)
    return out.getvalue()


def later(hours: float = 0, days: float = 0):
    """Travel forward from now (time keeps ticking there)."""
    return time_machine.travel(timezone.now() + datetime.timedelta(hours=hours, days=days))


def submitted_booking(prices=(300_000, 90_000, 40_000)) -> Booking:
    booking = booking_with_vendors(prices=prices)
    return booking.submit(actor=booking.organizer)


def statuses(booking) -> list[str]:
    return list(booking.vendors.order_by("position").values_list("status", flat=True))


@pytest.mark.django_db
def test_unanswered_and_countered_lines_expire_after_the_response_window():
    booking = submitted_booking()
    venue, caterer, dj = booking.vendors.select_related("vendor__user").order_by("position")
    venue.approve(actor=venue.vendor.user)
    caterer.counter(actor=caterer.vendor.user, price_cents=95_000)

    with later(hours=HOURS - 1):
        assert run("expire_vendor_requests").startswith("expire_vendor_requests: 0 processed")
    assert statuses(booking) == [L.APPROVED, L.COUNTERED, L.PENDING]

    with later(hours=HOURS + 1):
        assert "expire_vendor_requests: 2 processed" in run("expire_vendor_requests")
        assert "expire_vendor_requests: 0 processed" in run("expire_vendor_requests")  # idempotent
    booking.refresh_from_db()
    assert statuses(booking) == [L.APPROVED, L.EXPIRED, L.EXPIRED]
    assert booking.status == S.AWAITING  # the organizer replaces them
    assert booking.total_cents == 300_000  # expired lines count for nothing
    rows = AuditLog.objects.filter(action="booking_vendor.expire").order_by("created_at")
    assert [(r.target_id, r.actor_id, r.actor_email) for r in rows] == [
        (str(caterer.pk), None, "system"),
        (str(dj.pk), None, "system"),
    ]
    assert rows[0].before["status"] == "countered" and rows[0].after["status"] == "expired"
    assert "expire_vendor_requests" in rows[0].reason
    told = Notification.objects.filter(kind="line_expired").values_list("recipient_id", flat=True)
    assert sorted(told) == sorted(
        [booking.organizer_id] * 2 + [caterer.vendor.user_id, dj.vendor.user_id]
    )


@pytest.mark.django_db
def test_a_line_added_later_has_its_own_window():
    booking = submitted_booking(prices=(300_000,))
    with later(hours=48):
        added = money.add_vendor(
            booking,
            actor=booking.organizer,
            vendor=ServiceVendorFactory(),
            proposed_price_cents=50_000,
        )
    with later(hours=HOURS + 1):
        run("expire_vendor_requests")
    assert statuses(booking) == [L.EXPIRED, L.PENDING]
    with later(hours=48 + HOURS + 1):
        run("expire_vendor_requests")
    added.refresh_from_db()
    assert added.status == L.EXPIRED


@pytest.mark.django_db
def test_drafts_and_finished_bookings_never_expire_lines():
    draft = booking_with_vendors(prices=(300_000,))  # never sent to its vendors
    canceled = submitted_booking(prices=(300_000,))
    money.cancel_booking(canceled, actor=canceled.organizer, reason="changed plans")
    with later(days=30):
        run("expire_vendor_requests")
    assert statuses(draft) == [L.PENDING]
    assert statuses(canceled) == [L.PENDING]


@pytest.mark.django_db
def test_an_expired_line_is_final_and_the_organizer_replaces_it():
    booking = submitted_booking(prices=(300_000, 90_000))
    venue, caterer = booking.vendors.select_related("vendor__user").order_by("position")
    venue.approve(actor=venue.vendor.user)
    with later(hours=HOURS + 1):
        run("expire_vendor_requests")
    caterer.refresh_from_db()
    with pytest.raises(InvalidTransition, match="expired"):
        caterer.approve(actor=caterer.vendor.user)
    replaced = money.remove_vendor(booking, actor=booking.organizer, line=caterer)
    assert replaced.status == S.READY  # the venue's approval stands
    assert replaced.ready_at is not None


@pytest.mark.django_db
def test_expiry_rechecks_the_line_under_its_lock():
    booking = submitted_booking(prices=(300_000,))
    line = booking.vendors.select_related("vendor__user").get()
    with later(hours=HOURS + 1):
        stale = BookingVendor.objects.get(pk=line.pk)  # selected as due by the sweep...
        line.approve(actor=line.vendor.user)  # ...answered meanwhile
        assert stale.expire(now=timezone.now()) is None
    line.refresh_from_db()
    assert line.status == L.APPROVED
    assert not AuditLog.objects.filter(action="booking_vendor.expire").exists()


@pytest.fixture
def slow_expiry(monkeypatch):
    """Hold each expiry's transaction open between its re-check and its write, so two sweeps
    at once would both pass the check without the booking's lock."""
    original = BookingVendor.response_due_at

    def due_at(self, booking):
        result = original(self, booking)
        time.sleep(0.05)
        return result

    monkeypatch.setattr(BookingVendor, "response_due_at", due_at)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_expire_each_line_once(slow_expiry):
    bookings = [submitted_booking(prices=(300_000, 90_000)) for _ in range(3)]
    with later(hours=HOURS + 1):
        moved = run_together(expire_vendor_requests, expire_vendor_requests)
    assert not any(isinstance(m, Exception) for m in moved), moved
    assert sum(moved) == 6  # each of the six lines moved by exactly one of the two sweeps
    lines = BookingVendor.objects.filter(booking__in=bookings)
    assert set(lines.values_list("status", flat=True)) == {L.EXPIRED}
    assert AuditLog.objects.filter(action="booking_vendor.expire").count() == 6
    assert Notification.objects.filter(kind="line_expired").count() == 12


# --- start_events --------------------------------------------------------------------------------


def paid_in_full() -> Booking:
    """Deposit and balance paid: nothing owed, so the event may start."""
    booking = succeeded_payment().booking
    pay_balance(booking)
    return Booking.objects.get(pk=booking.pk)


@pytest.mark.django_db
def test_paid_bookings_start_on_their_event_date_by_the_system():
    booking = paid_in_full()
    assert booking.status == S.PAID
    days = (booking.event_date - timezone.localdate()).days
    with later(days=days - 1):
        assert "start_events: 0 processed" in run("start_events")
    with later(days=days):
        assert "start_events: 1 processed" in run("start_events")
        assert "start_events: 0 processed" in run("start_events")
    booking.refresh_from_db()
    assert booking.status == S.IN_PROGRESS
    row = AuditLog.objects.get(action="booking.start", target_id=str(booking.pk))
    assert (row.actor_id, row.actor_email) == (None, "system")
    assert row.reason.startswith("start_events")
    assert booking_audit(booking)[-1] == "booking.start"


@pytest.mark.django_db
def test_a_booking_that_owes_money_does_not_start():
    booking = succeeded_payment().booking  # the deposit only: the balance is owed
    assert booking.balance_due
    with later(days=(booking.event_date - timezone.localdate()).days):
        assert start_events() == 0
    booking.refresh_from_db()
    assert booking.status == S.PAID


@pytest.mark.django_db(transaction=True)
def test_two_start_sweeps_at_once_start_each_booking_once():
    bookings = [paid_in_full() for _ in range(3)]
    days = (bookings[0].event_date - timezone.localdate()).days
    with later(days=days):
        moved = run_together(start_events, start_events)
    assert sorted(moved) in ([0, 3], [1, 2]) or sum(moved) == 3, moved
    assert sum(moved) == 3
    assert AuditLog.objects.filter(action="booking.start").count() == 3
