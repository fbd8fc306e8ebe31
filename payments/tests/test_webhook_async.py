"""Webhooks acknowledged fast (WEBHOOK_PROCESSING=async): the request verifies, records the
event in one INSERT and answers 200 `received`; a real `celery -A strathwell worker` on Redis
processes it; with no worker running, the `retry_webhook_events` sweep processes it later."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from payments import webhooks
from payments.management.commands.check_ledger import find_discrepancies
from payments.models import Payout, WebhookEvent
from payments.tests.factories import PaymentFactory, event_body, intent_object, post_event
from payments.tests.test_webhook_speed import held_booking

pytestmark = pytest.mark.django_db(transaction=True)

SETTLE_SECONDS = 20.0


@pytest.fixture
def async_webhooks(settings):
    settings.WEBHOOK_PROCESSING = "async"


def wait_for_outcome(stripe_event_id: str, timeout: float = SETTLE_SECONDS) -> WebhookEvent:
    deadline = time.monotonic() + timeout
    while True:
        event = WebhookEvent.objects.get(stripe_event_id=stripe_event_id)
        if event.outcome != WebhookEvent.Outcome.RECEIVED or time.monotonic() > deadline:
            return event
        time.sleep(0.1)


def test_sync_is_the_default_without_a_broker(settings):
    settings.WEBHOOK_PROCESSING = ""
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert webhooks.processing_is_async() is False
    settings.WEBHOOK_PROCESSING = "async"
    assert webhooks.processing_is_async() is True


@pytest.mark.e2e
def test_the_request_acknowledges_and_the_worker_processes(
    celery_cluster, async_webhooks, api_client
):
    worker = celery_cluster.worker()
    booking = held_booking(3)
    payment = PaymentFactory(booking=booking)
    body = event_body("payment_intent.succeeded", intent_object(payment))

    with CaptureQueriesContext(connection) as queries:
        response = post_event(api_client, body)

    assert response.status_code == 200, response.content
    ack = response.json()
    assert ack["received"] is True and ack["duplicate"] is False
    assert ack["outcome"] == "received"
    assert len(queries) == 1  # the event's INSERT … ON CONFLICT DO NOTHING, nothing else

    event = wait_for_outcome(ack["event_id"])
    assert event.outcome == "processed", (event.outcome, event.error, worker.output()[-2000:])
    assert event.attempts == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PAID
    assert Payout.objects.filter(payment=payment).count() == 6
    assert find_discrepancies()[1] == []

    # Stripe redelivers it: acknowledged as a duplicate, nothing enqueued or applied again.
    again = post_event(api_client, body).json()
    assert again == {
        "received": True,
        "event_id": ack["event_id"],
        "outcome": "processed",
        "duplicate": True,
    }
    time.sleep(0.5)
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 1
    assert Payout.objects.filter(payment=payment).count() == 6


@pytest.mark.e2e
def test_an_event_whose_task_never_ran_is_processed_by_the_retry_sweep(
    celery_broker, async_webhooks, api_client
):
    # The task goes to Redis but no worker is running (it died, or was never started).
    booking = held_booking(3)
    payment = PaymentFactory(booking=booking)
    body = event_body("payment_intent.succeeded", intent_object(payment))

    ack = post_event(api_client, body).json()
    assert ack["outcome"] == "received"
    event = WebhookEvent.objects.get(stripe_event_id=ack["event_id"])
    assert event.outcome == "received" and event.attempts == 0

    assert webhooks.retry_event(event.pk, now=timezone.now()) is None  # not due yet
    later = timezone.now() + webhooks.UNPROCESSED_AFTER + datetime.timedelta(seconds=1)
    result = webhooks.retry_event(event.pk, now=later)

    assert result is not None and result.event.outcome == "processed"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PAID
    assert Payout.objects.filter(payment=payment).count() == 6
