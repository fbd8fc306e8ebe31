"""The payments app's periodic jobs, moved through time (time-machine) and run through
`manage.py run_periodic`: unpaid bookings expire (their PaymentIntent canceled on localstripe),
events complete (payouts eligible), failed webhooks are retried with backoff, old tokens go."""

from __future__ import annotations

import datetime
import io
import time
import uuid

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import RefreshToken
from accounts.tests.factories import OrganizerFactory, UserFactory
from bookings.models import Booking
from notifications.models import Notification
from payments import services as money
from payments import tasks
from payments.models import IdempotencyRecord, Payment, Payout, WebhookEvent
from payments.tests.factories import (
    PaymentFactory,
    event_body,
    intent_object,
    pay_balance,
    post_event,
    ready_booking,
    succeeded_payment,
)
from strathwell.audit.models import AuditLog
from strathwell.testing.servers import reset_localstripe
from strathwell.testing.threads import run_together

S = Booking.Status


def run(*names: str) -> str:
    out = io.StringIO()
    call_command("run_periodic", *names, stdout=out)
    return out.getvalue()


def later(**delta):
    return time_machine.travel(timezone.now() + datetime.timedelta(**delta))


# --- expire_unpaid_bookings ----------------------------------------------------------------------


@pytest.mark.django_db
def test_unpaid_booking_expires_its_payment_canceled_at_stripe(
    stripe_local,
    organizer,
    organizer_client,
    localstripe_client,
    django_capture_on_commit_callbacks,
):
    booking = ready_booking(organizer=organizer)
    created = organizer_client.post(
        f"/api/v1/bookings/{booking.pk}/payments", HTTP_IDEMPOTENCY_KEY="expire-me"
    )
    assert created.status_code == 201
    payment = Payment.objects.get(pk=created.json()["id"])

    with later(hours=settings.PAYMENT_WINDOW_HOURS - 1):
        assert "expire_unpaid_bookings: 0 processed" in run("expire_unpaid_bookings")
    with (
        later(hours=settings.PAYMENT_WINDOW_HOURS + 1),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert "expire_unpaid_bookings: 1 processed" in run("expire_unpaid_bookings")
        assert "expire_unpaid_bookings: 0 processed" in run("expire_unpaid_bookings")

    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == S.EXPIRED and booking.expired_at is not None
    assert payment.status == Payment.Status.CANCELED
    intent = localstripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "canceled"
    rows = AuditLog.objects.filter(actor_email="system").values_list("action", flat=True)
    assert set(rows) == {"booking.expire", "payment.cancel"}
    # The organizer and both vendors are told; the booking is final.
    assert Notification.objects.filter(kind="booking_expired").count() == 3
    assert organizer_client.post(f"/api/v1/bookings/{booking.pk}/cancel").status_code == 409


@pytest.mark.django_db
def test_the_window_runs_from_when_it_last_became_ready():
    booking = ready_booking()
    booking.ready_at = timezone.now() + datetime.timedelta(hours=10)  # reopened and ready again
    booking.save(update_fields=["ready_at"])
    with later(hours=settings.PAYMENT_WINDOW_HOURS + 1):
        run("expire_unpaid_bookings")
    booking.refresh_from_db()
    assert booking.status == S.READY
    with later(hours=settings.PAYMENT_WINDOW_HOURS + 11):
        run("expire_unpaid_bookings")
    booking.refresh_from_db()
    assert booking.status == S.EXPIRED


@pytest.mark.django_db
def test_a_booking_paid_meanwhile_is_left_alone():
    payment = PaymentFactory()
    booking = payment.booking
    stale = Booking.objects.get(pk=booking.pk)  # selected as due...
    money.record_payment_success(payment)  # ...and paid before the job got to it
    with later(hours=settings.PAYMENT_WINDOW_HOURS + 1):
        assert money.expire_booking(stale) is None
    booking.refresh_from_db()
    assert booking.status == S.PAID


@pytest.mark.django_db(transaction=True)
def test_expiry_and_payment_at_once_do_one_or_the_other():
    """The webhook's success and the job's expiry both lock the booking first: either the
    booking is paid (expiry skips it) or it expired and the money is a mismatch for staff."""
    payment = PaymentFactory()
    booking = payment.booking
    with later(hours=settings.PAYMENT_WINDOW_HOURS + 1):
        outcomes = run_together(
            lambda: money.expire_booking(booking),
            lambda: money.record_payment_success(payment),
        )
    booking.refresh_from_db()
    payment.refresh_from_db()
    if booking.status == S.PAID:
        assert outcomes[0] is None and outcomes[1] is True
        assert payment.status == Payment.Status.SUCCEEDED
    else:
        assert booking.status == S.EXPIRED
        assert payment.status == Payment.Status.CANCELED
        assert not Payout.objects.filter(booking=booking).exists()


# --- complete_events ---------------------------------------------------------------------------


def started_booking() -> Booking:
    booking = succeeded_payment().booking
    pay_balance(booking)  # nothing owed: the event may start
    return Booking.objects.get(pk=booking.pk).start(actor=booking.organizer)


@pytest.mark.django_db
def test_events_complete_after_the_grace_days_and_completion_payouts_become_eligible():
    booking = started_booking()
    days = (booking.event_date - timezone.localdate()).days + settings.COMPLETION_GRACE_DAYS
    with later(days=days - 1):
        assert "complete_events: 0 processed" in run("complete_events")
    with later(days=days):
        assert "complete_events: 1 processed" in run("complete_events")
        assert "complete_events: 0 processed" in run("complete_events")
    booking.refresh_from_db()
    assert booking.status == S.COMPLETED
    completion = Payout.objects.filter(booking=booking, kind=Payout.Kind.COMPLETION)
    assert set(completion.values_list("status", flat=True)) == {Payout.Status.ELIGIBLE}
    audit = AuditLog.objects.get(action="booking.complete", target_id=str(booking.pk))
    assert audit.actor_email == "system" and audit.reason.startswith("complete_events")
    assert Notification.objects.filter(kind="payout_eligible").count() == completion.count()


@pytest.mark.django_db
def test_an_open_dispute_keeps_the_event_from_completing():
    booking = started_booking()
    money.open_dispute(booking=booking, opened_by=booking.organizer, reason="DJ no-show")
    days = (booking.event_date - timezone.localdate()).days + settings.COMPLETION_GRACE_DAYS
    with later(days=days + 10):
        run("complete_events")
        assert tasks.completion_backlog(timezone.now())[0] == 0  # not due while disputed
    booking.refresh_from_db()
    assert booking.status == S.IN_PROGRESS


# --- retry_webhook_events -------------------------------------------------------------------------


@pytest.fixture
def flaky_success(monkeypatch):
    """record_payment_success fails `failures` times (a transient outage), then works."""
    original = money.record_payment_success
    state = {"failures": 1, "calls": 0}

    def flaky(*args, **kwargs):
        state["calls"] += 1
        if state["calls"] <= state["failures"]:
            raise ConnectionError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(money, "record_payment_success", flaky)
    return state


@pytest.mark.django_db
def test_a_failed_webhook_event_is_retried_after_its_backoff(api_client, flaky_success):
    payment = PaymentFactory()
    response = post_event(
        api_client, event_body("payment_intent.succeeded", intent_object(payment))
    )
    assert response.status_code == 500  # Stripe would retry too
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.attempts) == ("failed", 1)

    with later(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS - 5):
        assert "retry_webhook_events: 0 processed" in run("retry_webhook_events")
    with later(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS + 5):
        assert "retry_webhook_events: 1 processed" in run("retry_webhook_events")
    event.refresh_from_db()
    payment.refresh_from_db()
    assert (event.outcome, event.attempts) == ("processed", 2)
    assert payment.status == Payment.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_failing_event_stops_after_the_maximum_attempts(api_client, flaky_success, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    flaky_success["failures"] = 100
    payment = PaymentFactory()
    post_event(api_client, event_body("payment_intent.succeeded", intent_object(payment)))
    event = WebhookEvent.objects.get()
    # attempt n+1 is due base × (2^n − 1) after the event arrived: 1, 3, 7 minutes
    for minutes in (1, 3, 7, 15, 31, 63):
        with later(minutes=minutes, seconds=1):
            tasks.retry_webhook_events()
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == ("failed", 4)
    assert flaky_success["calls"] == 4


@pytest.mark.django_db
def test_an_event_never_processed_is_picked_up(api_client):
    payment = PaymentFactory()
    body = event_body("payment_intent.succeeded", intent_object(payment))
    import json

    from payments.webhooks import record_event

    record_event(json.loads(body))  # the request died before processing it
    with later(minutes=4):
        assert tasks.retry_webhook_events() == 0
    with later(minutes=6):
        assert tasks.retry_webhook_events() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


# --- purge_expired_tokens ----------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_deletes_only_tokens_nobody_can_present_and_old_idempotency_records():
    user = UserFactory()
    now = timezone.now()
    days = datetime.timedelta(days=1)

    def token(expires, spent=None, revoked=None):
        return RefreshToken.objects.create(
            user=user,
            family=uuid.uuid4(),
            jti=uuid.uuid4().hex,
            expires_at=expires,
            family_expires_at=expires,
            spent_at=spent,
            revoked_at=revoked,
        )

    old_expired = token(now - 31 * days)
    recently_expired = token(now - 2 * days)
    spent_long_ago_and_expired = token(now - 1 * days, spent=now - 40 * days)
    spent_but_still_valid = token(now + 5 * days, spent=now - 40 * days)  # reuse detection
    live = token(now + 10 * days)

    organizer = OrganizerFactory()
    old_key = IdempotencyRecord.objects.create(
        user=organizer, key="old", scope="s", request_hash="h"
    )
    new_key = IdempotencyRecord.objects.create(
        user=organizer, key="new", scope="s", request_hash="h"
    )
    IdempotencyRecord.objects.filter(pk=old_key.pk).update(updated_at=now - 31 * days)

    assert "purge_expired_tokens: 3 processed" in run("purge_expired_tokens")
    remaining = set(RefreshToken.objects.values_list("pk", flat=True))
    assert remaining == {recently_expired.pk, spent_but_still_valid.pk, live.pk}
    assert old_expired.pk not in remaining and spent_long_ago_and_expired.pk not in remaining
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [new_key.pk]


@pytest.mark.django_db
def test_the_money_cycle_jobs_run_through_run_periodic(stripe_local):
    reset_localstripe(stripe_local)  # reconciliation compares everything Stripe lists
    succeeded_payment()  # a real PaymentIntent on localstripe, recorded here
    assert "remind_balance_due: 0 processed" in run("remind_balance_due")
    assert "reconcile_stripe: 0 processed" in run("reconcile_stripe")  # no difference


@pytest.mark.django_db(transaction=True)
def test_two_retry_sweeps_at_once_make_one_attempt(api_client, flaky_success, monkeypatch):
    flaky_success["failures"] = 100
    payment = PaymentFactory()
    post_event(api_client, event_body("payment_intent.succeeded", intent_object(payment)))
    original = money.record_payment_success

    def slow(*args, **kwargs):
        time.sleep(0.2)  # the first attempt is still running when the second sweep looks
        return original(*args, **kwargs)

    monkeypatch.setattr(money, "record_payment_success", slow)
    with later(minutes=1, seconds=1):
        run_together(tasks.retry_webhook_events, tasks.retry_webhook_events)
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.attempts) == ("failed", 2)  # the delivery + ONE retry
    assert flaky_success["calls"] == 2


@pytest.mark.django_db(transaction=True)
def test_two_expiry_sweeps_at_once_expire_each_booking_once():
    bookings = [PaymentFactory().booking for _ in range(3)]  # each with a pending deposit
    with later(hours=settings.PAYMENT_WINDOW_HOURS + 1):
        moved = run_together(tasks.expire_unpaid_bookings, tasks.expire_unpaid_bookings)
    assert sum(moved) == 3, moved
    assert {b.status for b in Booking.objects.filter(pk__in=[b.pk for b in bookings])} == {
        S.EXPIRED
    }
    assert AuditLog.objects.filter(action="booking.expire").count() == 3
    assert AuditLog.objects.filter(action="payment.cancel").count() == 3
    assert Notification.objects.filter(kind="booking_expired").count() == 3 * 3


@pytest.mark.django_db(transaction=True)
def test_two_completion_sweeps_at_once_complete_each_event_once():
    bookings = [started_booking() for _ in range(3)]
    days = (bookings[0].event_date - timezone.localdate()).days + settings.COMPLETION_GRACE_DAYS
    with later(days=days):
        moved = run_together(tasks.complete_events, tasks.complete_events)
    assert sum(moved) == 3, moved
    assert AuditLog.objects.filter(action="booking.complete").count() == 3
    eligible = Payout.objects.filter(kind=Payout.Kind.COMPLETION, status=Payout.Status.ELIGIBLE)
    assert eligible.count() == AuditLog.objects.filter(action="payout.make_eligible").count()
    assert Notification.objects.filter(kind="payout_eligible").count() == eligible.count()
