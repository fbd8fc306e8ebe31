"""End to end with the real parts: the API in this process, a `celery -A strathwell worker`
subprocess on Redis, an SMTP server on loopback (aiosmtpd) and localstripe. Every email must
arrive once, to the right person, with no raw contact detail; a worker killed in the middle of
sending loses nothing and sends nothing twice."""

from __future__ import annotations

import datetime
import time
from collections import Counter

import pytest
from django.utils import timezone

from accounts.tests.factories import OrganizerFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from notifications.models import Notification
from payments.tests.factories import (
    event_body,
    intent_object,
    pay_balance,
    post_event,
    ready_booking,
    succeeded_payment,
)
from strathwell.audit.models import AuditLog
from strathwell.jobs.models import OutboxMessage
from strathwell.jobs.outbox import deliver_outbox_message
from strathwell.testing.servers import LOCALSTRIPE_API_KEY
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "512-555-0142"
VENDOR_EMAIL = "glasshouse.events@example.com"
# What must never reach anyone's inbox: the contact details typed into a title and a name.
RAW_CONTACTS = (PHONE, "5125550142", VENDOR_EMAIL)
# The email can follow a while after the API call: it goes through Redis and the worker.
SETTLE_SECONDS = 2.0


def assert_no_raw_contact(emails) -> None:
    for email in emails:
        text = email.everything()
        for raw in RAW_CONTACTS:
            assert raw not in text, (email.recipients, email.subject)


def by_recipient_and_kind(emails) -> Counter:
    return Counter((email.recipients, email.kind) for email in emails)


@pytest.fixture
def stripe_app(settings, localstripe_server):
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    return localstripe_server


def test_booking_walk_sends_every_email_once_without_contact_details(
    celery_cluster, smtp, stripe_app, make_client
):
    celery_cluster.worker()
    organizer = OrganizerFactory(subscribed=True, full_name="Ann Planner")
    venue = VenueFactory(business_name=f"Glasshouse Events {VENDOR_EMAIL}")
    caterer = ServiceVendorFactory(business_name="Saffron Kitchen")
    ann, glasshouse, saffron = (
        make_client(organizer),
        make_client(venue.user),
        make_client(caterer.user),
    )

    # request: a draft, then submitted to both vendors
    created = ann.post(
        "/api/v1/bookings",
        {
            "title": f"Launch party (call me on {PHONE})",
            "event_date": str(timezone.localdate() + datetime.timedelta(days=60)),
            "guest_count": 80,
            "vendors": [
                {"vendor_id": str(venue.pk), "proposed_price_cents": 400_000},
                {"vendor_id": str(caterer.pk), "proposed_price_cents": 100_000},
            ],
        },
    )
    assert created.status_code == 201, created.json()
    booking_id = created.json()["id"]
    lines = {line["vendor_id"]: line["id"] for line in created.json()["vendors"]}
    assert ann.post(f"/api/v1/bookings/{booking_id}/submit").status_code == 200
    line_url = f"/api/v1/bookings/{booking_id}/vendors"

    # the venue approves, the caterer counters, the organizer accepts the counter
    approve = glasshouse.post(f"{line_url}/{lines[str(venue.pk)]}/approve")
    assert approve.status_code == 200, approve.json()
    counter = saffron.post(
        f"{line_url}/{lines[str(caterer.pk)]}/counter",
        {"price_cents": 120_000, "note": "Includes a second bartender."},
    )
    assert counter.status_code == 200, counter.json()
    accepted = ann.post(f"{line_url}/{lines[str(caterer.pk)]}/accept-counter")
    assert accepted.status_code == 200 and accepted.json()["status"] == "ready_for_payment"

    # paid: the deposit's PaymentIntent on localstripe, its success by a signed webhook
    payment = ann.post(
        f"/api/v1/bookings/{booking_id}/payments", HTTP_IDEMPOTENCY_KEY="e2e-walk-deposit"
    )
    assert payment.status_code == 201, payment.json()
    from payments.models import Payment

    paid = Payment.objects.get(pk=payment.json()["id"])
    webhook = post_event(
        ann, event_body("payment_intent.succeeded", intent_object(paid, status="succeeded"))
    )
    assert webhook.status_code == 200
    assert Booking.objects.get(pk=booking_id).status == Booking.Status.PAID

    expected = Counter(
        {
            ((venue.user.email,), "booking_requested"): 1,
            ((caterer.user.email,), "booking_requested"): 1,
            ((organizer.email,), "line_approved"): 1,
            ((organizer.email,), "line_countered"): 1,
            ((caterer.user.email,), "counter_accepted"): 1,
            ((organizer.email,), "booking_ready"): 1,
            ((organizer.email,), "payment_received"): 1,
            ((venue.user.email,), "booking_paid"): 1,
            ((caterer.user.email,), "booking_paid"): 1,
        }
    )
    try:
        emails = smtp.wait_for(sum(expected.values()), timeout=60)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{celery_cluster.logs()}") from exc
    time.sleep(SETTLE_SECONDS)  # nothing more may come
    emails = list(smtp.messages)
    assert by_recipient_and_kind(emails) == expected
    assert len({email.message_id for email in emails}) == len(emails)
    assert_no_raw_contact(emails)
    # The masked forms are there instead, in both bodies.
    request = next(e for e in emails if e.kind == "booking_requested")
    assert "[phone removed]" in request.text and "[phone removed]" in request.html
    approved = next(e for e in emails if e.kind == "line_approved")
    assert "[email removed]" in approved.subject + approved.text
    share = next(
        e for e in emails if e.kind == "booking_paid" and e.recipients[0] == venue.user.email
    )
    # 30% of 520,000 = 156,000; the venue's 400,000 of 520,000 → 120,000; 10% fee → 108,000.
    assert "1,200.00 USD" in share.text and "1,080.00 USD" in share.text
    assert all(e.html.lstrip().startswith("<!doctype html>") for e in emails)

    # Every notification is in its recipient's feed, emailed once; every email delivered.
    assert Notification.objects.count() == 9
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("delivered", 1)}


def test_worker_killed_mid_send_loses_nothing_and_sends_once(celery_cluster, smtp):
    first = celery_cluster.worker("doomed")
    booking = booking_with_vendors(status=Booking.Status.AWAITING, prices=(300_000, 90_000))
    line = booking.vendors.get(role="venue")  # the caterer has not answered: not payable yet
    smtp.hold()  # the worker's SMTP conversation will stop before the message

    line.approve(actor=line.vendor.user)  # committed: one email owed to the organizer
    message = OutboxMessage.objects.get()
    smtp.wait_until_held()  # the worker is sending it, holding the outbox row's lock
    first.kill()  # SIGKILL: after the commit, before the email
    smtp.release()
    time.sleep(1.0)
    assert smtp.messages == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)  # nothing was recorded

    # After a restart, the sweep delivers it, once. (The killed worker's own task message is
    # still unacknowledged in Redis; were it redelivered, it would find the row delivered.)
    celery_cluster.worker("restarted")
    from strathwell.jobs.tasks import deliver_outbox

    deliver_outbox.task.delay()
    try:
        emails = smtp.wait_for(1, timeout=30)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{celery_cluster.logs()}") from exc
    deliver_outbox.task.delay()
    deliver_outbox_message.delay(str(message.pk))  # a late duplicate of the lost task
    time.sleep(SETTLE_SECONDS)
    assert len(smtp.messages) == 1
    assert emails[0].recipients == (booking.organizer.email,)
    assert emails[0].kind == "line_approved"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("delivered", 1)


def back_date_requests(bookings, hours: int) -> None:
    """Test set-up: requests sent `hours` ago (submission and line creation)."""
    past = timezone.now() - datetime.timedelta(hours=hours)
    ids = [b.pk for b in bookings]
    Booking.objects.filter(pk__in=ids).update(submitted_at=past)
    BookingVendor.objects.filter(booking_id__in=ids).update(created_at=past)


TIMED_KINDS = {"line_expired", "booking_expired", "payout_eligible"}


def test_beat_and_worker_make_every_timed_transition_and_email_once(celery_cluster, smtp, settings):
    today = timezone.localdate()
    # a request nobody answered in time, and one still within its window
    overdue = booking_with_vendors(status=Booking.Status.AWAITING, prices=(300_000,))
    fresh = booking_with_vendors(status=Booking.Status.AWAITING, prices=(300_000,))
    back_date_requests([overdue], hours=settings.VENDOR_RESPONSE_HOURS + 1)
    back_date_requests([fresh], hours=settings.VENDOR_RESPONSE_HOURS - 1)
    # a payable booking left unpaid
    unpaid = ready_booking(prices=(300_000,))
    Booking.objects.filter(pk=unpaid.pk).update(
        ready_at=timezone.now() - datetime.timedelta(hours=settings.PAYMENT_WINDOW_HOURS + 1)
    )
    # a paid booking on its event date, and an event past its grace days
    starting = succeeded_payment(prices=(300_000,)).booking
    pay_balance(starting)  # paid in full: the event may start
    ending = succeeded_payment(prices=(300_000,)).booking
    pay_balance(ending)
    ending = Booking.objects.get(pk=ending.pk)
    ending.start(actor=ending.organizer)
    grace = datetime.timedelta(days=settings.COMPLETION_GRACE_DAYS + 1)
    Booking.objects.filter(pk=starting.pk).update(event_date=today)  # set-up only
    Booking.objects.filter(pk=ending.pk).update(event_date=today - grace)

    celery_cluster.worker()
    celery_cluster.beat(
        {
            "expire_vendor_requests": 1,
            "expire_unpaid_bookings": 1,
            "start_events": 1,
            "complete_events": 1,
        }
    )

    def timed(email):
        return email.kind in TIMED_KINDS

    try:
        smtp.wait_for(5, timeout=60, where=timed)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{celery_cluster.logs()}") from exc
    time.sleep(3)  # beat keeps running the jobs every second: nothing more happens
    for booking in (overdue, fresh, unpaid, starting, ending):
        booking.refresh_from_db()
    assert overdue.vendors.get().status == BookingVendor.Status.EXPIRED
    assert fresh.vendors.get().status == BookingVendor.Status.PENDING
    assert unpaid.status == Booking.Status.EXPIRED
    assert starting.status == Booking.Status.IN_PROGRESS
    assert ending.status == Booking.Status.COMPLETED
    line_vendor = overdue.vendors.get().vendor.user.email
    unpaid_vendor = unpaid.vendors.get().vendor.user.email
    ending_vendor = ending.vendors.get().vendor.user.email
    assert by_recipient_and_kind(e for e in smtp.messages if timed(e)) == Counter(
        {
            ((overdue.organizer.email,), "line_expired"): 1,
            ((line_vendor,), "line_expired"): 1,
            ((unpaid.organizer.email,), "booking_expired"): 1,
            ((unpaid_vendor,), "booking_expired"): 1,
            # Two completion payouts (the deposit's and the balance's share): one email each.
            ((ending_vendor,), "payout_eligible"): 2,
        }
    )
    system = AuditLog.objects.filter(actor_email="system", actor__isnull=True)
    assert set(system.values_list("action", flat=True)) == {
        "booking_vendor.expire",
        "booking.expire",
        "booking.start",
        "booking.complete",
        "payout.make_eligible",
    }
    assert system.filter(action="booking.start").count() == 1


def test_two_workers_running_the_same_sweep_move_each_row_once(celery_cluster, smtp, settings):
    bookings = [
        booking_with_vendors(status=Booking.Status.AWAITING, prices=(300_000, 90_000))
        for _ in range(6)
    ]
    back_date_requests(bookings, hours=settings.VENDOR_RESPONSE_HOURS + 1)
    celery_cluster.worker("worker1")
    celery_cluster.worker("worker2")
    from bookings.tasks import expire_vendor_requests

    for _ in range(4):  # four runs of the sweep, shared by the two workers
        expire_vendor_requests.task.delay()
    lines = BookingVendor.objects.filter(booking__in=bookings)
    expected = 2 * lines.count()  # organizer + vendor, per line
    try:
        smtp.wait_for(expected, timeout=60)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{celery_cluster.logs()}") from exc
    time.sleep(SETTLE_SECONDS)
    assert set(lines.values_list("status", flat=True)) == {BookingVendor.Status.EXPIRED}
    assert AuditLog.objects.filter(action="booking_vendor.expire").count() == lines.count()
    assert Notification.objects.filter(kind="line_expired").count() == expected
    assert len(smtp.messages) == expected
    assert len({(e.recipients, e.subject) for e in smtp.messages}) == expected
    # Both workers did take part.
    logs = [process.output() for process in celery_cluster.processes]
    assert all("periodic.expire_vendor_requests" in log for log in logs), celery_cluster.logs()
