"""Who is told what: every event of the contract writes one notification per recipient in the
transaction of the change, with user text masked; the feed API; the emails (text + HTML)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from accounts import billing
from accounts.models import Subscription
from accounts.tests.factories import AdminFactory, OrganizerFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from disputes.models import Dispute
from notifications.delivery import render_email
from notifications.models import Notification
from notifications.services import Draft, notify
from payments import services as money
from payments.models import Payout
from payments.tests.factories import PaymentFactory, pay_balance, succeeded_payment
from strathwell.exceptions import InvalidTransition
from strathwell.jobs.models import OutboxMessage
from vendors.models import Vendor
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db

K = Notification.Kind
PHONE = "(512) 555-0199"
EMAIL = "ring.me@example.org"


def told(kind=None) -> list[tuple]:
    rows = Notification.objects.order_by("created_at", "id")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("recipient_id", "kind"))


def awaiting(prices=(300_000, 90_000), **fields) -> Booking:
    booking = booking_with_vendors(prices=prices, **fields)
    return booking.submit(actor=booking.organizer)


def lines_of(booking):
    return list(booking.vendors.select_related("vendor__user").order_by("position"))


# --- the events ------------------------------------------------------------------------------


def test_submitting_tells_every_vendor_of_the_request():
    booking = awaiting()
    venue, caterer = lines_of(booking)
    assert sorted(told()) == sorted(
        [(venue.vendor.user_id, K.BOOKING_REQUESTED), (caterer.vendor.user_id, K.BOOKING_REQUESTED)]
    )
    request = Notification.objects.get(recipient_id=venue.vendor.user_id)
    assert request.booking_id == booking.pk
    assert "3,000.00 USD" in request.body and "72 hours" in request.body


def test_a_vendor_added_to_a_sent_booking_is_told_but_not_one_added_to_a_draft():
    draft = booking_with_vendors(prices=(300_000,))
    money.add_vendor(
        draft, actor=draft.organizer, vendor=VendorFactory(service=True), proposed_price_cents=1
    )
    assert told() == []
    booking = awaiting(prices=(300_000,))
    Notification.objects.all().delete()
    extra = VendorFactory(service=True)
    money.add_vendor(booking, actor=booking.organizer, vendor=extra, proposed_price_cents=50_000)
    assert told() == [(extra.user_id, K.BOOKING_REQUESTED)]


def test_vendor_answers_are_told_to_the_organizer_and_readiness_too():
    booking = awaiting(prices=(300_000, 90_000, 40_000))
    venue, caterer, dj = lines_of(booking)
    Notification.objects.all().delete()
    venue.approve(actor=venue.vendor.user)
    dj.decline(actor=dj.vendor.user, reason=f"Booked elsewhere, call {PHONE}")
    caterer.counter(actor=caterer.vendor.user, price_cents=95_000, note=f"Mail {EMAIL}")
    organizer = booking.organizer_id
    assert told() == [
        (organizer, K.LINE_APPROVED),
        (organizer, K.LINE_DECLINED),
        (organizer, K.LINE_COUNTERED),
    ]
    decline = Notification.objects.get(kind=K.LINE_DECLINED)
    counter = Notification.objects.get(kind=K.LINE_COUNTERED)
    # Screening would have blocked these through the API; stored anyway, they never leak.
    assert PHONE not in decline.body and "[phone removed]" in decline.body
    assert EMAIL not in counter.body and "[email removed]" in counter.body
    assert "950.00 USD instead of 900.00 USD" in counter.body

    Notification.objects.all().delete()
    money.remove_vendor(booking, actor=booking.organizer, line=dj)
    booking.accept_counter(actor=booking.organizer, line=caterer)
    assert told() == [
        (caterer.vendor.user_id, K.COUNTER_ACCEPTED),
        (organizer, K.BOOKING_READY),
    ]
    ready = Notification.objects.get(kind=K.BOOKING_READY)
    # total 3,950.00; deposit 30% = 1,185.00
    assert "3,950.00 USD" in ready.body and "1,185.00 USD" in ready.body


def test_a_second_counter_offer_is_a_new_event():
    booking = awaiting(prices=(300_000, 90_000))
    _, caterer = lines_of(booking)
    caterer.counter(actor=caterer.vendor.user, price_cents=95_000)
    caterer.counter(actor=caterer.vendor.user, price_cents=93_000)
    assert len(told(K.LINE_COUNTERED)) == 2


def test_payment_tells_the_organizer_and_each_vendor_its_share():
    payment = succeeded_payment(prices=(500_000, 150_000))
    booking = payment.booking
    venue, caterer = lines_of(booking)
    assert sorted(told()) == sorted(
        [
            (booking.organizer_id, K.PAYMENT_RECEIVED),
            (venue.vendor.user_id, K.BOOKING_PAID),
            (caterer.vendor.user_id, K.BOOKING_PAID),
        ]
    )
    # deposit 195,000: venue share 150,000, fee 15,000, net 135,000 (67,500 + 67,500)
    share = Notification.objects.get(kind=K.BOOKING_PAID, recipient_id=venue.vendor.user_id)
    for figure in ("1,500.00", "150.00", "1,350.00", "675.00"):
        assert f"{figure} USD" in share.body
    assert "1,950.00 USD" in Notification.objects.get(kind=K.PAYMENT_RECEIVED).body


def test_cancellations_tell_the_vendors_and_staff_cancels_the_organizer_too():
    booking = awaiting()
    Notification.objects.all().delete()
    money.cancel_booking(booking, actor=booking.organizer, reason="Venue too far")
    assert {kind for _, kind in told()} == {K.BOOKING_CANCELED}
    assert booking.organizer_id not in {r for r, _ in told()}
    assert len(told()) == 2

    other = awaiting()
    Notification.objects.all().delete()
    money.cancel_booking(other, actor=AdminFactory(), reason="Fraud check", by_staff=True)
    assert booking.organizer_id != other.organizer_id
    assert other.organizer_id in {r for r, _ in told()} and len(told()) == 3


def test_a_canceled_draft_tells_nobody():
    draft = booking_with_vendors()
    money.cancel_booking(draft, actor=draft.organizer)
    assert told() == []


def test_payout_eligible_and_paid_are_told_to_the_vendor():
    payment = succeeded_payment(prices=(500_000,))
    pay_balance(payment.booking)  # one more completion payout: the vendor's share of it
    booking = Booking.objects.get(pk=payment.booking_id).start(actor=payment.booking.organizer)
    Notification.objects.all().delete()
    money.complete_booking(booking, actor=booking.organizer)
    completions = Payout.objects.filter(booking=booking, kind=Payout.Kind.COMPLETION)
    assert completions.count() == 2
    vendor_user = completions[0].vendor.user_id
    assert told() == [(vendor_user, K.PAYOUT_ELIGIBLE)] * 2  # one per payout
    reservation = Payout.objects.get(booking=booking, kind=Payout.Kind.RESERVATION)
    reservation.request(actor=reservation.vendor.user)  # their own request: no notification
    completions[0].approve(actor=AdminFactory(), reason="ok")
    assert told() == [(vendor_user, K.PAYOUT_ELIGIBLE)] * 2 + [(vendor_user, K.PAYOUT_PAID)]


def test_disputes_tell_the_other_participants_then_everyone_the_decision():
    booking = succeeded_payment(prices=(500_000, 150_000)).booking
    venue, caterer = lines_of(booking)
    Notification.objects.all().delete()
    dispute = money.open_dispute(
        booking=booking, opened_by=venue.vendor.user, reason=f"Unpaid extras, call {PHONE}"
    )
    assert sorted(told()) == sorted(
        [(booking.organizer_id, K.DISPUTE_OPENED), (caterer.vendor.user_id, K.DISPUTE_OPENED)]
    )
    assert PHONE not in Notification.objects.first().body
    staff = AdminFactory()
    dispute = money.start_dispute_review(dispute, actor=staff)
    Notification.objects.all().delete()
    money.resolve_dispute(
        dispute, actor=staff, status=Dispute.Status.RESOLVED, resolution_note="Paid in full"
    )
    assert len(told(K.DISPUTE_DECIDED)) == 3


def test_verification_decisions_are_told_to_the_vendor():
    staff = AdminFactory()
    vendor = VendorFactory(verification_status=Vendor.VerificationStatus.PENDING)
    vendor.request_changes(actor=staff, notes=f"Add a permit; questions to {EMAIL}")
    vendor.resubmit(actor=vendor.user)
    vendor.approve(actor=staff)
    rows = Notification.objects.order_by("created_at")
    assert [(r.recipient_id, r.kind) for r in rows] == [
        (vendor.user_id, K.VERIFICATION_DECIDED),
        (vendor.user_id, K.VERIFICATION_DECIDED),
    ]
    assert "changes needed" in rows[0].title and EMAIL not in rows[0].body
    assert "approved" in rows[1].title


def test_subscription_changes_are_told_to_the_organizer():
    user = OrganizerFactory()
    billing.start_subscription(user, plan="monthly", actor=user)
    billing.start_subscription(user, plan="monthly", actor=user)  # a repeat: nothing new
    billing.cancel_subscription(user, actor=user)
    assert told() == [(user.pk, K.SUBSCRIPTION_ACTIVATED), (user.pk, K.SUBSCRIPTION_CANCELED)]


def test_a_failed_renewal_tells_the_organizer_it_is_past_due():
    user = OrganizerFactory()
    billing.start_subscription(user, plan="monthly", actor=user)
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=user.pk)
        sub.transition(Subscription.Status.PAST_DUE, actor=None, action="subscription.past_due")
    assert told(K.SUBSCRIPTION_PAST_DUE) == [(user.pk, K.SUBSCRIPTION_PAST_DUE)]


def test_a_rolled_back_change_tells_nobody():
    booking = awaiting(prices=(300_000,))
    Notification.objects.all().delete()
    line = lines_of(booking)[0]
    line.approve(actor=line.vendor.user)
    with pytest.raises(InvalidTransition):
        line.approve(actor=line.vendor.user)  # refused: nothing written, nobody told twice
    assert len(told(K.LINE_APPROVED)) == 1


def test_one_notification_and_one_email_per_event_and_recipient():
    user = OrganizerFactory()
    draft = Draft(user.pk, K.PAYOUT_PAID, "Paid", "Paid.", "reminder:booking-1:2026-05-01")
    first = notify([draft, draft])
    again = notify([draft])  # the job ran again: the pair was already told
    assert len(first) == 1 and again == []
    assert Notification.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


# --- emails ------------------------------------------------------------------------------------


def test_emails_go_after_the_commit_with_text_and_html(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = awaiting(prices=(300_000,), title=f"Gala — text {PHONE}")
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    vendor_user = lines_of(booking)[0].vendor.user
    assert email.to == [vendor_user.email]
    assert email.subject.startswith("[Strathwell] New booking request")
    html, mime = email.alternatives[0]
    assert mime == "text/html" and "<!doctype html>" in html
    for part in (email.subject, email.body, html):
        assert PHONE not in part and "555-0199" not in part
    assert "[phone removed]" in email.body
    assert email.extra_headers["Message-ID"].startswith("<")
    notification = Notification.objects.get()
    assert notification.emailed_at is not None
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DELIVERED


def test_nothing_is_sent_before_the_commit():
    awaiting(prices=(300_000,))  # the test's transaction never commits
    assert mail.outbox == []
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PENDING


def test_the_email_masks_the_recipients_own_name_too():
    user = OrganizerFactory(full_name=f"Ann {EMAIL}")
    notify([Draft(user.pk, K.PAYOUT_PAID, "Hello", "Body.", "k:1")])
    email = render_email(Notification.objects.select_related("recipient").get())
    assert EMAIL not in email.body and EMAIL not in email.alternatives[0][0]


# --- the feed ----------------------------------------------------------------------------------


@pytest.fixture
def feed(make_client):
    payment = PaymentFactory()
    booking = payment.booking
    user = booking.organizer
    for i in range(3):
        notify([Draft(user.pk, K.PAYOUT_PAID, f"N{i}", "Body.", f"feed:{i}", booking.pk)])
    return user, make_client(user)


def test_the_feed_lists_my_notifications_newest_first(feed, make_client):
    _user, client = feed
    body = client.get("/api/v1/notifications").json()
    assert body["count"] == 3
    assert [n["title"] for n in body["results"]] == ["N2", "N1", "N0"]
    assert set(body["results"][0]) == {
        "id",
        "kind",
        "title",
        "body",
        "booking_id",
        "created_at",
        "read_at",
    }
    other = make_client(OrganizerFactory())
    assert other.get("/api/v1/notifications").json()["count"] == 0


def test_mark_read_and_the_unread_filter(feed, make_client):
    _user, client = feed
    first = client.get("/api/v1/notifications").json()["results"][0]
    read = client.post(f"/api/v1/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = client.post(f"/api/v1/notifications/{first['id']}/read")
    assert again.json()["read_at"] == read.json()["read_at"]  # idempotent
    unread = client.get("/api/v1/notifications?unread=true").json()
    assert unread["count"] == 2 and first["id"] not in {n["id"] for n in unread["results"]}
    assert client.get("/api/v1/notifications?unread=false").json()["count"] == 1
    assert client.post("/api/v1/notifications/read-all").json() == {"marked": 2}
    assert client.get("/api/v1/notifications?unread=true").json()["count"] == 0


def test_another_users_notification_is_not_found(feed, make_client):
    _, _client = feed
    notification = Notification.objects.first()
    stranger = make_client(OrganizerFactory())
    response = stranger.post(f"/api/v1/notifications/{notification.pk}/read")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_feed_needs_a_login(api_client):
    response = api_client.get("/api/v1/notifications")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("count", [5, 50])
def test_feed_query_count_is_flat(count, make_client, django_assert_num_queries):
    user = OrganizerFactory()
    notify([Draft(user.pk, K.PAYOUT_PAID, f"N{i}", "B.", f"q:{i}") for i in range(count)])
    client = make_client(user)
    with django_assert_num_queries(2):  # user, the page with its count
        response = client.get("/api/v1/notifications?page_size=100")
    assert response.json()["count"] == count


def test_booking_lines_and_statuses_still_validate():
    # A line's `expired` status is in the database's allowed set.
    booking = awaiting(prices=(300_000,))
    assert BookingVendor.Status.EXPIRED in BookingVendor.TRANSITIONS[BookingVendor.Status.PENDING]
    assert Booking.Status.EXPIRED in Booking.TRANSITIONS[Booking.Status.READY]
    assert booking.status == Booking.Status.AWAITING


def test_staff_retry_a_notifications_email_from_the_console(
    django_capture_on_commit_callbacks, settings, monkeypatch
):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.test import Client
    from django.urls import reverse

    from strathwell.audit.models import AuditLog

    settings.OUTBOX_MAX_ATTEMPTS = 1
    user = OrganizerFactory()
    monkeypatch.setattr(
        "notifications.delivery.EmailMultiAlternatives.send",
        lambda self, fail_silently=False: (_ for _ in ()).throw(ConnectionRefusedError("down")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify([Draft(user.pk, K.PAYOUT_PAID, "Paid", "Paid.", "retry:1")])
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED
    monkeypatch.undo()

    staff = AdminFactory()
    client = Client()
    client.force_login(staff)
    notification = Notification.objects.get()
    changelist = client.get(reverse("admin:notifications_notification_changelist"))
    assert "failed" in changelist.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_notification_changelist"),
            {
                "action": "retry_notification_emails",
                ACTION_CHECKBOX_NAME: [str(notification.pk)],
                "post": "yes",
                "reason": "SMTP is back",
            },
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DELIVERED
    assert AuditLog.objects.filter(action="outbox.retry", actor=staff).count() == 1
