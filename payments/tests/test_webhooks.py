"""POST /api/v1/webhooks/stripe: signature, record-once, exact-once processing, replays."""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from bookings.models import Booking
from payments import services
from payments import services as money
from payments.models import Allocation, LedgerEntry, Payment, Payout, WebhookEvent
from payments.tests.factories import (
    PaymentFactory,
    charge_on_localstripe,
    event_body,
    intent_object,
    post_event,
    ready_booking,
    sign,
)

pytestmark = pytest.mark.django_db

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"


def succeeded_body(payment, **kwargs):
    return event_body(SUCCEEDED, intent_object(payment), **kwargs)


def assert_untouched(payment):
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.payouts_created_at is None
    assert not Allocation.objects.filter(payment=payment).exists()
    assert not LedgerEntry.objects.filter(payment=payment).exists()
    assert not Payout.objects.filter(payment=payment).exists()
    assert Booking.objects.get(pk=payment.booking_id).status == Booking.Status.READY


# --- a valid event ------------------------------------------------------------------------------


def test_valid_succeeded_event_pays_booking_and_allocates(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment, event_id="evt_valid_1")

    response = post_event(api_client, body)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "received": True,
        "event_id": "evt_valid_1",
        "outcome": "processed",
        "duplicate": False,
    }
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.succeeded_at is not None
    assert payment.payouts_created_at is not None
    assert Booking.objects.get(pk=payment.booking_id).status == Booking.Status.PAID
    event = WebhookEvent.objects.get(stripe_event_id="evt_valid_1")
    assert (event.type, event.outcome, event.attempts) == (SUCCEEDED, "processed", 1)
    assert event.processed_at is not None
    assert event.payload["data"]["object"]["id"] == payment.stripe_payment_intent_id
    assert Allocation.objects.filter(payment=payment).count() == 2
    assert Payout.objects.filter(payment=payment, status="locked").count() == 4


def test_several_v1_signatures_one_valid_is_accepted(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment)
    good = sign(body)
    timestamp, v1 = good.split(",")
    header = f"{timestamp},v1={'0' * 64},{v1},v0=deadbeef"

    response = post_event(api_client, body, header)

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_timestamp_within_tolerance_is_accepted(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment)
    response = post_event(api_client, body, sign(body, timestamp=int(time.time()) - 290))
    assert response.status_code == 200


# --- rejected deliveries: 400, nothing recorded -------------------------------------------------


def _assert_rejected(response, code, payment):
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not WebhookEvent.objects.exists()
    assert_untouched(payment)


def test_bad_signature_is_rejected(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment)
    response = post_event(api_client, body, sign(body, secret="whsec_someone_else"))
    _assert_rejected(response, "invalid_signature", payment)


def test_body_changed_by_one_byte_is_rejected(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment)
    header = sign(body)
    tampered = body.replace(b'"livemode": false', b'"livemode": fals ', 1)
    assert len(tampered) == len(body) and tampered != body
    response = post_event(api_client, tampered, header)
    _assert_rejected(response, "invalid_signature", payment)


def test_timestamp_301_seconds_old_is_rejected(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment)
    response = post_event(api_client, body, sign(body, timestamp=int(time.time()) - 301))
    _assert_rejected(response, "invalid_signature", payment)


def test_missing_signature_is_rejected(api_client):
    payment = PaymentFactory()
    response = post_event(api_client, succeeded_body(payment), header="")
    _assert_rejected(response, "invalid_signature", payment)


def test_garbage_signature_header_is_rejected(api_client):
    payment = PaymentFactory()
    response = post_event(api_client, succeeded_body(payment), header="nonsense")
    _assert_rejected(response, "invalid_signature", payment)


@pytest.mark.parametrize("body", [b"not json at all", b'["a list"]', b'{"type": "x"}'])
def test_signed_body_that_is_not_an_event_is_invalid_payload(api_client, body):
    payment = PaymentFactory()
    response = post_event(api_client, body)
    _assert_rejected(response, "invalid_payload", payment)


# --- exactly once ---------------------------------------------------------------------------


def test_duplicate_delivery_is_answered_200_without_effect(api_client):
    payment = PaymentFactory()
    body = succeeded_body(payment, event_id="evt_dup")
    assert post_event(api_client, body).status_code == 200

    again = post_event(api_client, body)

    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert WebhookEvent.objects.get().attempts == 1
    assert Allocation.objects.filter(payment=payment).count() == 2
    assert LedgerEntry.objects.filter(payment=payment).count() == 3
    assert Payout.objects.filter(payment=payment).count() == 4


def test_same_success_under_another_event_id_is_stale(api_client):
    payment = PaymentFactory()
    assert post_event(api_client, succeeded_body(payment)).status_code == 200

    response = post_event(api_client, succeeded_body(payment))

    assert response.status_code == 200
    assert response.json()["outcome"] == "stale"
    assert Payout.objects.filter(payment=payment).count() == 4


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_deliveries_allocate_once():
    payment = PaymentFactory()
    body = succeeded_body(payment, event_id="evt_race")
    header = sign(body)
    barrier = threading.Barrier(20)
    statuses = []
    errors = []

    def deliver():
        try:
            barrier.wait(timeout=30)
            response = post_event(Client(), body, header)
            statuses.append(response.status_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sorted(statuses) == [200] * 20
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().attempts == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Allocation.objects.filter(payment=payment).count() == 2
    assert LedgerEntry.objects.filter(payment=payment, entry_type="held_funds").count() == 1
    assert Payout.objects.filter(payment=payment).count() == 4


# --- ordering and staleness -----------------------------------------------------------------


def test_payment_failed_after_succeeded_changes_nothing(api_client):
    payment = PaymentFactory()
    post_event(api_client, succeeded_body(payment))
    failed = event_body(FAILED, intent_object(payment, status="requires_payment_method"))

    response = post_event(api_client, failed)

    assert response.status_code == 200
    assert response.json()["outcome"] == "stale"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Booking.objects.get(pk=payment.booking_id).status == Booking.Status.PAID


def test_canceled_after_succeeded_changes_nothing(api_client):
    payment = PaymentFactory()
    post_event(api_client, succeeded_body(payment))
    response = post_event(
        api_client, event_body(CANCELED, intent_object(payment, status="canceled"))
    )
    assert response.json()["outcome"] == "stale"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_failed_then_retried_card_succeeds(api_client):
    payment = PaymentFactory()
    failed_obj = intent_object(
        payment,
        status="requires_payment_method",
        last_payment_error={"code": "card_declined", "message": "Your card was declined."},
    )
    assert post_event(api_client, event_body(FAILED, failed_obj)).json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_message == "Your card was declined."

    assert post_event(api_client, succeeded_body(payment)).json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.failure_message == ""


def test_canceled_event_cancels_pending_payment(api_client):
    payment = PaymentFactory()
    obj = intent_object(payment, status="canceled", cancellation_reason="abandoned")
    response = post_event(api_client, event_body(CANCELED, obj))
    assert response.json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    # ... and money arriving afterwards for it is not applied, but shown to staff.
    response = post_event(api_client, succeeded_body(payment))
    assert response.json()["outcome"] == "mismatch"
    assert_untouched_except_status(payment, Payment.Status.CANCELED)


def assert_untouched_except_status(payment, status):
    payment.refresh_from_db()
    assert payment.status == status
    assert not Payout.objects.filter(payment=payment).exists()
    assert not LedgerEntry.objects.filter(payment=payment).exists()


# --- mismatches and unknowns ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "text"),
    [({"amount": 1}, "amount 1 != expected"), ({"currency": "eur"}, "currency 'eur'")],
    ids=["amount", "currency"],
)
def test_amount_or_currency_mismatch_is_recorded_not_applied(
    api_client, admin_client_api, overrides, text
):
    payment = PaymentFactory()
    body = event_body(SUCCEEDED, intent_object(payment, **overrides), event_id="evt_mismatch")

    response = post_event(api_client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "mismatch"
    assert_untouched(payment)
    event = WebhookEvent.objects.get(stripe_event_id="evt_mismatch")
    assert text in event.error
    # Staff see it.
    listed = admin_client_api.get("/api/v1/admin/webhook-events?outcome=mismatch").json()
    assert [e["stripe_event_id"] for e in listed["results"]] == ["evt_mismatch"]
    assert text in listed["results"][0]["error"]


def test_unknown_event_type_is_recorded_and_ignored(api_client):
    body = event_body("customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_c")
    response = post_event(api_client, body)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    event = WebhookEvent.objects.get(stripe_event_id="evt_c")
    assert (event.type, event.outcome) == ("customer.created", "ignored")


def test_event_for_unknown_payment_intent_is_ignored(api_client):
    obj = {"id": "pi_nobody", "object": "payment_intent", "amount": 5, "currency": "usd"}
    response = post_event(api_client, event_body(SUCCEEDED, obj))
    assert response.json()["outcome"] == "ignored"
    assert "pi_nobody" in WebhookEvent.objects.get().error


def test_event_overtaking_the_stored_intent_id_is_matched_by_metadata(api_client):
    payment = PaymentFactory(stripe_payment_intent_id=None, client_secret="")
    obj = intent_object(payment) | {"id": "pi_not_yet_stored"}
    response = post_event(api_client, event_body(SUCCEEDED, obj))
    assert response.json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_success_for_a_canceled_booking_is_a_mismatch_for_staff(api_client, admin_user):
    payment = PaymentFactory()
    money.cancel_booking(
        Booking.objects.get(pk=payment.booking_id), by_staff=True, actor=admin_user, reason="fraud"
    )
    response = post_event(api_client, succeeded_body(payment))
    assert response.json()["outcome"] == "mismatch"
    assert "not applied" in WebhookEvent.objects.get().error
    payment.refresh_from_db()
    # Canceling the booking voided the pending payment; the late success is not applied.
    assert payment.status == Payment.Status.CANCELED
    assert not LedgerEntry.objects.filter(payment=payment).exists()


def test_webhook_works_in_read_only_mode(api_client, settings):
    settings.READ_ONLY_MODE = True
    payment = PaymentFactory()
    assert post_event(api_client, succeeded_body(payment)).status_code == 200


# --- failures and replay --------------------------------------------------------------------


def test_processing_error_rolls_back_answers_500_then_replay_succeeds(api_client, monkeypatch):
    payment = PaymentFactory()

    def broken_allocate(*args, **kwargs):
        raise RuntimeError("allocation service exploded")

    # Fails after the payment was marked succeeded and the booking paid: both must roll back.
    monkeypatch.setattr(services, "allocate", broken_allocate)
    body = succeeded_body(payment, event_id="evt_boom")

    response = post_event(api_client, body)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    event = WebhookEvent.objects.get(stripe_event_id="evt_boom")
    assert event.outcome == WebhookEvent.Outcome.FAILED
    assert "allocation service exploded" in event.error
    assert event.attempts == 1
    assert_untouched(payment)

    # Stripe's retry of a failed event processes it again (not a duplicate) ...
    assert post_event(api_client, body).status_code == 500
    assert WebhookEvent.objects.get().attempts == 2

    # ... and once the bug is fixed, staff replay it.
    monkeypatch.undo()
    call_command("replay_webhook_events", "--failed")

    event.refresh_from_db()
    assert event.outcome == WebhookEvent.Outcome.PROCESSED
    assert event.error == ""
    assert event.attempts == 3
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Payout.objects.filter(payment=payment).count() == 4
    # A redelivery after the replay is a duplicate.
    assert post_event(api_client, body).json()["duplicate"] is True


def test_replay_by_ids_and_unknown_ids(api_client, monkeypatch):
    from django.core.management.base import CommandError

    payment = PaymentFactory()
    monkeypatch.setattr(
        services, "record_payment_success", lambda *a, **k: (_ for _ in ()).throw(KeyError("x"))
    )
    post_event(api_client, succeeded_body(payment, event_id="evt_ids"))
    with pytest.raises(CommandError, match="still failing"):
        call_command("replay_webhook_events", "--ids", "evt_ids")
    monkeypatch.undo()
    with pytest.raises(CommandError, match="Unknown webhook events: evt_nope"):
        call_command("replay_webhook_events", "--ids", "evt_nope")
    call_command("replay_webhook_events", "--ids", "evt_ids")
    assert WebhookEvent.objects.get().outcome == "processed"


def test_forced_replay_of_a_processed_event_keeps_its_outcome(api_client):
    payment = PaymentFactory()
    post_event(api_client, succeeded_body(payment, event_id="evt_forced"))
    event = WebhookEvent.objects.get()
    assert event.outcome == "processed"
    first_processed_at = event.processed_at

    call_command("replay_webhook_events", "--ids", "evt_forced", "--force")

    event.refresh_from_db()
    # Nothing new was applied, and the history of what the event did is not overwritten.
    assert event.outcome == "processed"
    assert event.processed_at == first_processed_at
    assert event.attempts == 2
    assert LedgerEntry.objects.filter(payment=payment, entry_type="held_funds").count() == 1


# --- a failed deposit priced on old lines (review) -------------------------------------------


def _fail(api_client, payment):
    failed_obj = intent_object(
        payment,
        status="requires_payment_method",
        last_payment_error={"code": "card_declined", "message": "Your card was declined."},
    )
    assert post_event(api_client, event_body(FAILED, failed_obj)).json()["outcome"] == "processed"


def test_failed_deposit_priced_on_old_lines_is_not_applied_after_a_line_change(
    api_client, monkeypatch
):
    """A failed PaymentIntent can still be paid with another card. Once the booking's lines
    changed, its (old) amount must not pay the booking: it is voided like a pending one."""
    from payments import stripe_client

    canceled_at_stripe = []
    monkeypatch.setattr(stripe_client, "cancel_payment_intent", canceled_at_stripe.append)
    payment = PaymentFactory(booking=ready_booking(prices=(500_000, 150_000, 50_000)))
    _fail(api_client, payment)
    booking = payment.booking
    line = booking.vendors.get(role="service", proposed_price_cents=50_000)
    money.remove_vendor(booking, actor=booking.organizer, line=line)
    booking = Booking.objects.get(pk=booking.pk)
    assert booking.status == Booking.Status.READY
    assert booking.deposit_cents != payment.amount_cents

    # The organizer retries the old intent with another card: the money is not applied.
    response = post_event(api_client, succeeded_body(payment))

    assert response.json()["outcome"] == "mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.READY
    assert not LedgerEntry.objects.filter(payment=payment).exists()
    assert not Payout.objects.filter(payment=payment).exists()


def test_canceling_a_booking_voids_its_failed_deposit_at_stripe(
    api_client, monkeypatch, django_capture_on_commit_callbacks
):
    from payments import stripe_client

    canceled_at_stripe = []
    monkeypatch.setattr(stripe_client, "cancel_payment_intent", canceled_at_stripe.append)
    payment = PaymentFactory()
    _fail(api_client, payment)
    booking = Booking.objects.get(pk=payment.booking_id)

    with django_capture_on_commit_callbacks(execute=True):
        money.cancel_booking(booking, actor=booking.organizer, reason="")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert canceled_at_stripe == [payment.stripe_payment_intent_id]


def test_success_voids_the_bookings_other_live_deposits(
    api_client, monkeypatch, django_capture_on_commit_callbacks
):
    """The first deposit failed, a second was started, then the first was paid with another
    card: the booking is paid, so the second must not stay payable (a double charge)."""
    from payments import stripe_client

    canceled_at_stripe = []
    monkeypatch.setattr(stripe_client, "cancel_payment_intent", canceled_at_stripe.append)
    first = PaymentFactory()
    _fail(api_client, first)
    second = PaymentFactory(booking=first.booking)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(api_client, succeeded_body(first))

    assert response.json()["outcome"] == "processed"
    second.refresh_from_db()
    assert second.status == Payment.Status.CANCELED
    assert canceled_at_stripe == [second.stripe_payment_intent_id]


def test_staff_webhook_event_api_never_shows_the_client_secret(api_client, admin_client_api):
    # Real payment_intent events carry the PaymentIntent's client_secret; it is the paying
    # organizer's alone, so the staff view of stored events masks it (as the console does).
    payment = PaymentFactory()
    secret = f"{payment.stripe_payment_intent_id}_secret_abc123"
    body = event_body(
        SUCCEEDED, intent_object(payment, client_secret=secret), event_id="evt_with_secret"
    )
    assert post_event(api_client, body).status_code == 200

    listed = admin_client_api.get("/api/v1/admin/webhook-events").json()["results"]
    event_id = WebhookEvent.objects.get(stripe_event_id="evt_with_secret").pk
    detail = admin_client_api.get(f"/api/v1/admin/webhook-events/{event_id}").json()
    for shown in (listed[0], detail):
        assert shown["stripe_event_id"] == "evt_with_secret"
        assert secret not in str(shown)
        assert shown["payload"]["data"]["object"]["id"] == payment.stripe_payment_intent_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_success_racing_an_organizer_cancel_ends_in_one_consistent_state(
    monkeypatch, attempt, stripe_local
):
    from payments import stripe_client
    from payments.management.commands.check_ledger import find_discrepancies
    from strathwell.exceptions import InvalidTransition

    monkeypatch.setattr(stripe_client, "cancel_payment_intent", lambda intent_id: None)
    payment = charge_on_localstripe(PaymentFactory(stripe_payment_intent_id=None))
    body = succeeded_body(payment)
    header = sign(body)
    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def deliver():
        try:
            barrier.wait(timeout=30)
            outcomes["event"] = post_event(Client(), body, header).json()["outcome"]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def cancel():
        try:
            barrier.wait(timeout=30)
            booking = Booking.objects.get(pk=payment.booking_id)
            money.cancel_booking(booking, actor=booking.organizer, reason="changed our minds")
            outcomes["cancel"] = "canceled"
        except InvalidTransition:
            outcomes["cancel"] = "refused"
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    payment.refresh_from_db()
    booking = Booking.objects.get(pk=payment.booking_id)
    # The organizer may cancel before and after payment: the cancel always applies.
    assert outcomes["cancel"] == "canceled"
    assert booking.status == Booking.Status.CANCELED
    if outcomes["event"] == "mismatch":  # canceled first: the money is not applied
        assert payment.status == Payment.Status.CANCELED
        assert not LedgerEntry.objects.filter(payment=payment).exists()
    else:  # paid first, then canceled 60 days out: all of it refunded through Stripe
        assert outcomes["event"] == "processed"
        assert payment.status == Payment.Status.SUCCEEDED
        assert Payout.objects.filter(payment=payment).count() == 4
        [refund] = payment.refunds.all()
        assert (refund.status, refund.amount_cents) == ("succeeded", payment.amount_cents)
    assert find_discrepancies()[1] == []
