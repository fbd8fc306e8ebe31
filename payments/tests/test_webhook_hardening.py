"""The webhook under hostile or odd bodies: every validly signed delivery is recorded and
answered 200, or refused with 400; none answers 500 (Stripe would retry it forever)."""

import json
import time

import pytest
from rest_framework.test import APIClient

from payments.models import Payment, WebhookEvent
from payments.tests.factories import PaymentFactory, event_body, intent_object, post_event, sign

pytestmark = pytest.mark.django_db

SUCCEEDED = "payment_intent.succeeded"


def _client():
    return APIClient(raise_request_exception=False)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_signed_event_with_nul_in_a_billing_name_is_recorded_and_processed():
    payment = PaymentFactory()
    intent = intent_object(payment, shipping={"name": "Ann\u0000 Lee"})
    body = event_body(SUCCEEDED, intent, event_id="evt_nul")
    assert b"\\u0000" in body

    response = post_event(_client(), body)

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "processed"
    event = WebhookEvent.objects.get(stripe_event_id="evt_nul")
    assert event.payload["data"]["object"]["shipping"]["name"] == "Ann Lee"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_nul_in_keys_and_the_event_id_is_removed_too():
    payment = PaymentFactory()
    intent = intent_object(payment, metadata={"payment_id": str(payment.pk), "k\u0000": "v"})
    body = json.dumps(
        {"id": "evt_\u0000k", "type": SUCCEEDED, "object": "event", "data": {"object": intent}}
    ).encode()

    response = post_event(_client(), body)

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(stripe_event_id="evt_k")
    assert event.payload["data"]["object"]["metadata"]["k"] == "v"


def test_signed_event_with_an_out_of_range_number_is_recorded_not_applied():
    payment = PaymentFactory()
    intent = intent_object(payment)
    text = event_body(SUCCEEDED, intent, event_id="evt_inf").decode()
    text = text.replace(f'"amount_received": {payment.amount_cents}', '"amount_received": 1e400')
    body = text.encode()

    response = post_event(_client(), body)

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "mismatch"  # recorded for staff, money not applied
    event = WebhookEvent.objects.get(stripe_event_id="evt_inf")
    assert event.payload["data"]["object"]["amount_received"] == "1e400"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"id": "evt_deep", "type": "x", "data": ' + b"[" * 70 + b"]" * 70 + b"}",
        b'{"id": "evt_nan", "type": "x", "amount": NaN}',
        b'{"id": "evt_inf", "type": "x", "amount": Infinity}',
        b'{"id": "evt_big", "type": "x", "amount": ' + b"9" * 5000 + b"}",
        b"\xff\xfe not utf-8",
    ],
    ids=["100k-brackets", "70-levels", "NaN", "Infinity", "5000-digit-int", "not-utf8"],
)
def test_signed_body_that_cannot_be_stored_is_invalid_payload_not_500(body):
    response = post_event(_client(), body, sign(body))
    assert_error(response, 400, "invalid_payload")
    assert not WebhookEvent.objects.exists()


def test_timestamp_beyond_the_tolerance_in_the_future_is_refused():
    payment = PaymentFactory()
    body = event_body(SUCCEEDED, intent_object(payment))
    response = post_event(_client(), body, sign(body, timestamp=int(time.time()) + 400))
    error = assert_error(response, 400, "invalid_signature")
    assert "future" in error["message"]
    assert not WebhookEvent.objects.exists()


def test_timestamp_slightly_in_the_future_is_accepted():
    payment = PaymentFactory()
    body = event_body(SUCCEEDED, intent_object(payment))
    response = post_event(_client(), body, sign(body, timestamp=int(time.time()) + 60))
    assert response.status_code == 200, response.content


def test_non_ascii_signature_is_invalid_signature_not_500():
    payment = PaymentFactory()
    body = event_body(SUCCEEDED, intent_object(payment))
    header = f"t={int(time.time())},v1=é{'0' * 63}"
    assert_error(post_event(_client(), body, header), 400, "invalid_signature")


def test_body_over_the_upload_limit_is_413(settings):
    body = json.dumps({"id": "evt_big", "type": "x", "pad": "x" * 2_700_000}).encode()
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    error = assert_error(post_event(_client(), body), 413, "payload_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]
    assert not WebhookEvent.objects.exists()
