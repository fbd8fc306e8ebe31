"""POST /bookings/{id}/payments: idempotent deposit creation against localstripe (real HTTP)."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import OrganizerFactory, VendorUserFactory
from bookings.models import Booking
from conftest import client_for
from payments import services as money
from payments.models import IdempotencyRecord, Payment
from payments.tests.conftest import intents_for_booking
from payments.tests.factories import PaymentFactory, ready_booking
from strathwell.testing.servers import free_port

pytestmark = pytest.mark.django_db


def url(booking):
    return f"/api/v1/bookings/{booking.pk}/payments"


def create(client, booking, key="key-1", data=None):
    return client.post(url(booking), data=data or {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.e2e
def test_create_deposit_creates_payment_intent_on_stripe(
    stripe_local, organizer, organizer_client, localstripe_client
):
    booking = ready_booking(prices=(500_000, 150_000), organizer=organizer)

    response = create(organizer_client, booking)

    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get()
    assert body["id"] == str(payment.pk)
    assert body["booking_id"] == str(booking.pk)
    assert body["status"] == "pending"
    assert body["kind"] == "deposit"
    assert body["amount_cents"] == booking.deposit_cents == 195_000  # 30% of 650 000
    assert body["currency"] == "usd"
    assert body["stripe_payment_intent_id"].startswith("pi_")
    assert body["client_secret"].startswith(body["stripe_payment_intent_id"])
    intent = localstripe_client.v1.payment_intents.retrieve(body["stripe_payment_intent_id"])
    assert (intent.amount, intent.currency) == (195_000, "usd")
    assert intent.metadata.to_dict() == {
        "payment_id": str(payment.pk),
        "booking_id": str(booking.pk),
    }
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.user_id, record.payment_id) == ("key-1", organizer.pk, payment.pk)
    assert record.response_status == 201 and record.response_body == body


@pytest.mark.e2e
def test_same_key_replays_same_response_without_second_intent(
    stripe_local, organizer, organizer_client, localstripe_client
):
    booking = ready_booking(organizer=organizer)
    first = create(organizer_client, booking, key="same")

    second = create(organizer_client, booking, key="same")

    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert len(intents_for_booking(localstripe_client, booking.pk)) == 1


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_make_one_payment_and_one_intent(
    stripe_local, localstripe_client
):
    organizer = OrganizerFactory(subscribed=True)
    booking = ready_booking(organizer=organizer)
    clients = [client_for(organizer) for _ in range(20)]
    barrier = threading.Barrier(20)
    results, errors = [], []

    def send(client):
        try:
            barrier.wait(timeout=30)
            response = create(client, booking, key="racing-key")
            results.append((response.status_code, response.json()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert not errors
    assert [status for status, _ in results] == [201] * 20, results
    bodies = {tuple(sorted(body.items())) for _, body in results}
    assert len(bodies) == 1
    assert Payment.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert len(intents_for_booking(localstripe_client, booking.pk)) == 1


@pytest.mark.e2e
def test_same_key_for_another_booking_or_body_is_a_conflict(
    stripe_local, organizer, organizer_client
):
    booking = ready_booking(organizer=organizer)
    other = ready_booking(organizer=organizer)
    assert create(organizer_client, booking, key="k").status_code == 201

    for response in (
        create(organizer_client, other, key="k"),
        create(organizer_client, booking, key="k", data={"note": "different body"}),
    ):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "idempotency_conflict"
    assert Payment.objects.count() == 1


@pytest.mark.e2e
def test_keys_are_per_user(stripe_local, organizer, organizer_client):
    other_organizer = OrganizerFactory(subscribed=True)
    mine = ready_booking(organizer=organizer)
    theirs = ready_booking(organizer=other_organizer)
    assert create(organizer_client, mine, key="shared").status_code == 201
    assert create(client_for(other_organizer), theirs, key="shared").status_code == 201


@pytest.mark.e2e
def test_another_key_while_a_payment_is_pending_is_refused(
    stripe_local, organizer, organizer_client
):
    booking = ready_booking(organizer=organizer)
    first = create(organizer_client, booking, key="a").json()

    response = create(organizer_client, booking, key="b")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"]["payment_id"] == first["id"]
    assert not IdempotencyRecord.objects.filter(key="b").exists()


@pytest.mark.e2e
def test_a_new_key_after_a_failed_payment_creates_a_new_one(
    stripe_local, organizer, organizer_client
):
    booking = ready_booking(organizer=organizer)
    first = create(organizer_client, booking, key="a").json()
    Payment.objects.get(pk=first["id"]).mark_failed(message="declined")
    second = create(organizer_client, booking, key="b")
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]


@pytest.mark.parametrize(("key", "message"), [(None, "required"), ("x" * 256, "at most 255")])
def test_missing_or_too_long_key_is_a_validation_error(organizer, organizer_client, key, message):
    booking = ready_booking(organizer=organizer)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = organizer_client.post(url(booking), {}, format="json", **headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert message in error["details"]["Idempotency-Key"][0]
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "status", [Booking.Status.DRAFT, Booking.Status.AWAITING, Booking.Status.CANCELED]
)
def test_booking_not_ready_for_payment_is_invalid_transition(organizer, organizer_client, status):
    booking = ready_booking(organizer=organizer)
    Booking.objects.filter(pk=booking.pk).update(status=status)  # test set-up only
    response = create(organizer_client, booking)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert not Payment.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_stripe_unreachable_answers_502_and_keeps_nothing(organizer, organizer_client, settings):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    booking = ready_booking(organizer=organizer)

    response = create(organizer_client, booking, key="retry-me")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
    assert not Payment.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.READY


@pytest.mark.e2e
def test_retry_with_same_key_after_stripe_failure_starts_fresh(
    stripe_local, organizer, organizer_client, settings, localstripe_client
):
    booking = ready_booking(organizer=organizer)
    real_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    assert create(organizer_client, booking, key="k").status_code == 502
    settings.STRIPE_API_BASE = real_base

    response = create(organizer_client, booking, key="k")

    assert response.status_code == 201
    assert Payment.objects.count() == 1
    assert len(intents_for_booking(localstripe_client, booking.pk)) == 1


@pytest.mark.e2e
def test_stripe_api_error_answers_502(stripe_local, organizer, organizer_client, settings):
    settings.STRIPE_SECRET_KEY = "bad"  # localstripe refuses keys that are not sk_…
    booking = ready_booking(organizer=organizer)
    response = create(organizer_client, booking)
    assert response.status_code == 502
    assert not Payment.objects.exists()


def test_no_stripe_key_configured_answers_502(organizer, organizer_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = create(organizer_client, ready_booking(organizer=organizer))
    assert response.status_code == 502
    assert "STRIPE_SECRET_KEY" in response.json()["error"]["message"]
    assert not Payment.objects.exists()


# --- who may ---------------------------------------------------------------------------------


def test_another_organizers_booking_is_not_found(organizer_client):
    response = create(organizer_client, ready_booking())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unsubscribed_organizer_is_refused(make_client):
    organizer = OrganizerFactory()
    response = create(make_client(organizer), ready_booking(organizer=organizer))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "subscription_required"


def test_vendor_and_anonymous_are_refused(make_client, api_client):
    booking = ready_booking()
    assert create(make_client(VendorUserFactory()), booking).status_code == 403
    assert create(api_client, booking).status_code == 401


# --- reading payments ------------------------------------------------------------------------


def test_organizer_reads_payment_with_client_secret_admin_without(
    organizer, organizer_client, admin_client_api, make_client
):
    payment = PaymentFactory(booking=ready_booking(organizer=organizer))

    mine = organizer_client.get(f"/api/v1/payments/{payment.pk}")
    as_admin = admin_client_api.get(f"/api/v1/payments/{payment.pk}")
    stranger = make_client(OrganizerFactory(subscribed=True)).get(f"/api/v1/payments/{payment.pk}")

    assert mine.status_code == 200
    assert mine.json()["client_secret"] == payment.client_secret
    assert as_admin.status_code == 200
    assert "client_secret" not in as_admin.json()
    assert as_admin.json()["amount_cents"] == payment.amount_cents
    assert stranger.status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_booking_payments_list_has_constant_query_count(
    organizer, organizer_client, admin_client_api, django_assert_max_num_queries, count
):
    booking = ready_booking(organizer=organizer)
    for _ in range(count):
        PaymentFactory(booking=booking, status=Payment.Status.FAILED)

    with django_assert_max_num_queries(6):
        response = organizer_client.get(url(booking) + "?page_size=100")
    assert response.status_code == 200
    assert response.json()["count"] == count
    with django_assert_max_num_queries(6):
        as_admin = admin_client_api.get(url(booking) + "?page_size=100")
    assert "client_secret" not in as_admin.json()["results"][0]
    assert create(organizer_client, ready_booking()).status_code == 404
    assert organizer_client.get(url(ready_booking())).status_code == 404


# --- a first request that is still running, or that died between its phases -----------------


def _in_flight(organizer, booking, key, *, age_seconds=0):
    import datetime

    from django.utils import timezone

    from payments.deposits import IDEMPOTENCY_SCOPE_DEPOSIT, request_fingerprint

    payment = Payment.objects.create(
        booking=booking,
        organizer=organizer,
        amount_cents=booking.deposit_cents,
        currency=booking.currency,
    )
    record = IdempotencyRecord.objects.create(
        user=organizer,
        key=key,
        scope=IDEMPOTENCY_SCOPE_DEPOSIT,
        request_hash=request_fingerprint(booking_id=booking.pk, body={"kind": "deposit"}),
        payment=payment,
    )
    stamp = timezone.now() - datetime.timedelta(seconds=age_seconds)
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=stamp, updated_at=stamp)
    return payment


def test_duplicate_of_a_request_still_in_progress_is_told_to_retry(
    organizer, organizer_client, monkeypatch
):
    from payments import deposits

    monkeypatch.setattr(deposits, "IDEMPOTENCY_WAIT_SECONDS", 0.3)
    booking = ready_booking(organizer=organizer)
    _in_flight(organizer, booking, "busy")

    response = create(organizer_client, booking, key="busy")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert "in progress" in error["message"]


@pytest.mark.e2e
def test_retry_resumes_a_request_that_died_between_its_phases(
    stripe_local, organizer, organizer_client, localstripe_client
):
    booking = ready_booking(organizer=organizer)
    payment = _in_flight(organizer, booking, "crashed", age_seconds=600)

    response = create(organizer_client, booking, key="crashed")

    assert response.status_code == 201, response.content
    assert response.json()["id"] == str(payment.pk)
    assert response.json()["stripe_payment_intent_id"].startswith("pi_")
    assert Payment.objects.count() == 1
    assert len(intents_for_booking(localstripe_client, booking.pk)) == 1
    assert create(organizer_client, booking, key="crashed").json() == response.json()


def test_stripe_is_called_outside_any_transaction(organizer, organizer_client, monkeypatch):
    from payments import stripe_client

    seen = []

    def fake_create(**kwargs):
        # Under pytest-django's test transaction the depth is 1: no block of our own is open,
        # so no row lock taken by the request is held while Stripe is called.
        seen.append((len(connection.savepoint_ids), kwargs))
        return stripe_client.CreatedIntent(id="pi_fake_1", client_secret="s", status="x")

    monkeypatch.setattr(stripe_client, "create_payment_intent", fake_create)
    booking = ready_booking(organizer=organizer)
    assert create(organizer_client, booking).status_code == 201
    (depth, kwargs) = seen[0]
    assert depth == 0
    assert kwargs["payment_id"] == Payment.objects.get().pk
    assert kwargs["booking_id"] == booking.pk


def test_intent_created_for_a_payment_voided_meanwhile_is_canceled_at_stripe(
    organizer, organizer_client, monkeypatch, django_capture_on_commit_callbacks
):
    """The booking's lines change while Stripe creates the PaymentIntent (the payment has no
    intent id yet, so voiding it could not cancel one): the new intent must not stay payable."""
    from payments import stripe_client
    from vendors.tests.factories import ServiceVendorFactory

    booking = ready_booking(organizer=organizer)
    canceled_at_stripe = []
    monkeypatch.setattr(stripe_client, "cancel_payment_intent", canceled_at_stripe.append)

    def create_while_lines_change(**kwargs):
        money.add_vendor(
            Booking.objects.get(pk=booking.pk),
            actor=organizer,
            vendor=ServiceVendorFactory(),
            proposed_price_cents=9_000,
        )
        return stripe_client.CreatedIntent(id="pi_raced_1", client_secret="s", status="x")

    monkeypatch.setattr(stripe_client, "create_payment_intent", create_while_lines_change)

    with django_capture_on_commit_callbacks(execute=True):
        response = create(organizer_client, booking)

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "canceled"
    assert Payment.objects.get().status == Payment.Status.CANCELED
    assert canceled_at_stripe == ["pi_raced_1"]


def test_a_new_key_replaces_a_deposit_abandoned_before_its_intent_existed(
    organizer, organizer_client, monkeypatch
):
    """A request died between its phases and its key is lost: the pending payment has no
    PaymentIntent (nothing to pay, it never fails), so it must not block the booking forever."""
    from payments import stripe_client

    monkeypatch.setattr(
        stripe_client,
        "create_payment_intent",
        lambda **kwargs: stripe_client.CreatedIntent(id="pi_new_1", client_secret="s", status="x"),
    )
    booking = ready_booking(organizer=organizer)
    abandoned = _in_flight(organizer, booking, "lost-key", age_seconds=600)

    response = create(organizer_client, booking, key="fresh-key")

    assert response.status_code == 201, response.content
    assert response.json()["id"] != str(abandoned.pk)
    abandoned.refresh_from_db()
    assert abandoned.status == Payment.Status.CANCELED
    assert Payment.objects.filter(status=Payment.Status.PENDING).count() == 1


def test_a_new_key_still_waits_for_a_deposit_whose_request_is_running(organizer, organizer_client):
    booking = ready_booking(organizer=organizer)
    running = _in_flight(organizer, booking, "running", age_seconds=5)

    response = create(organizer_client, booking, key="other")

    assert response.status_code == 409
    assert response.json()["error"]["details"]["payment_id"] == str(running.pk)
