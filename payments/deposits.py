"""Creating a booking's deposit or balance Payment and its Stripe PaymentIntent, idempotently.

One Payment and one PaymentIntent per (user, Idempotency-Key), however many copies of the
request arrive and however they interleave. Three phases: claim the key and create the pending
Payment (booking locked), call Stripe with no row lock held, store the intent and the response.
A process that dies between the phases is resumed by a retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.locks import lock_booking
from bookings.models import Booking
from payments import stripe_client
from payments.models import IdempotencyRecord, Payment
from strathwell.db import delete_in_batches
from strathwell.exceptions import (
    DomainValidationError,
    IdempotencyConflict,
    InvalidTransition,
    PaymentProviderError,
)

IDEMPOTENCY_SCOPE_DEPOSIT = "payments.create_deposit"
IDEMPOTENCY_KEY_MAX_LENGTH = 255
# How long a duplicate request waits for the first one (same key) to finish.
IDEMPOTENCY_WAIT_SECONDS = 15.0
IDEMPOTENCY_POLL_SECONDS = 0.05
# A first request that has not finished after this long died (process killed between the
# phases): a retry with its key resumes it (safe: Stripe dedupes by the payment's key).
IDEMPOTENCY_ABANDONED_AFTER_SECONDS = 120


# --- payment creation -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict
    replayed: bool


def validate_idempotency_key(key: str | None) -> str:
    """The `Idempotency-Key` header: required, 1–255 printable characters (else 400)."""
    key = (key or "").strip()
    if not key:
        raise DomainValidationError(
            "The Idempotency-Key header is required.",
            details={"Idempotency-Key": ["This header is required."]},
        )
    if not key.isprintable():  # a NUL would reach PostgreSQL (500); control characters are junk
        raise DomainValidationError(
            "The Idempotency-Key header has control characters.",
            details={"Idempotency-Key": ["Use printable characters only."]},
        )
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise DomainValidationError(
            "The Idempotency-Key header is too long.",
            details={
                "Idempotency-Key": [
                    f"Ensure this header has at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
                ]
            },
        )
    return key


def request_fingerprint(*, booking_id, body) -> str:
    """sha256 of what the request asks for: the booking and the (canonical JSON) body."""
    canonical = json.dumps(
        {"booking_id": str(booking_id), "body": body or {}},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_deposit_payment(
    *, booking, user, idempotency_key: str, body, serialize, kind: str = Payment.Kind.DEPOSIT
) -> StoredResponse:
    """Create the deposit (or, with `kind=balance`, the balance) Payment of a booking and its
    Stripe PaymentIntent, idempotently. The kind is part of the request a key fixes.

    Guarantees: one Payment and one PaymentIntent per (user, Idempotency-Key), however many
    copies of the request arrive and however they interleave; every copy answers the same
    stored response; the same key for another booking/body → IdempotencyConflict (409). The
    Stripe call is made with no row lock held; when it fails, nothing is kept (payment and
    idempotency record are deleted) and PaymentProviderError (502) is raised.

    `serialize(payment) -> dict` renders the 201 body (kept so the replay is identical).
    """
    key = validate_idempotency_key(idempotency_key)
    # `{}` and `{"kind": "deposit"}` ask for the same thing: the kind is fingerprinted as given
    # or defaulted, so a key reused for the other kind is a conflict.
    fingerprint = request_fingerprint(booking_id=booking.pk, body={**(body or {}), "kind": kind})

    existing = _find_record(user, key)
    if existing is None:
        record = _start_payment(
            booking=booking, user=user, key=key, fingerprint=fingerprint, kind=kind
        )
        if record is not None:
            return _finish_payment(record, serialize=serialize)
        existing = _find_record(user, key)  # lost the insert race to a concurrent copy
        if existing is None:  # ... which already failed and was rolled back
            raise PaymentProviderError(
                "A concurrent request with this Idempotency-Key failed; retry the request."
            )
    return _replay(existing, fingerprint=fingerprint, serialize=serialize)


def _find_record(user, key) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.select_related("payment").filter(user=user, key=key).first()


def _payable_amount(booking, kind: str) -> int:
    """The amount a new payment of this kind would collect (booking locked), or
    InvalidTransition when the booking cannot take one."""
    if kind == Payment.Kind.DEPOSIT:
        if booking.status != Booking.Status.READY:
            raise InvalidTransition(
                f"A {booking.status} booking cannot be paid; it must be ready_for_payment.",
                details={"booking_id": str(booking.pk), "status": booking.status},
            )
        amount = int(booking.deposit_cents)
        if amount <= 0:
            raise InvalidTransition(
                "This booking has no deposit to pay.",
                details={"booking_id": str(booking.pk), "deposit_cents": amount},
            )
        return amount
    if booking.status not in (Booking.Status.PAID, Booking.Status.IN_PROGRESS):
        raise InvalidTransition(
            f"The balance of a {booking.status} booking cannot be paid; it must be paid (its "
            "deposit succeeded) or in_progress.",
            details={"booking_id": str(booking.pk), "status": booking.status},
        )
    amount = int(booking.balance_cents)
    if amount <= 0:
        raise InvalidTransition(
            "This booking has nothing left to pay.",
            details={"booking_id": str(booking.pk), "balance_cents": 0},
        )
    return amount


def _start_payment(*, booking, user, key, fingerprint, kind) -> IdempotencyRecord | None:
    """Phase 1 (one transaction, booking locked): check the booking, create the pending
    Payment and claim the key. None when a concurrent copy claimed the key first."""
    try:
        with transaction.atomic():
            locked = lock_booking(booking.pk)
            if IdempotencyRecord.objects.filter(user=user, key=key).exists():
                return None  # a concurrent copy (serialized by the booking lock) got here first
            amount = _payable_amount(locked, kind)
            live = (
                Payment.objects.filter(booking=locked, status=Payment.Status.PENDING)
                .order_by("created_at")
                .first()
            )
            if live is not None and _abandoned_before_intent(live):
                # Its request died before Stripe was called and its key may be lost: nobody
                # can pay it and it never fails, so it must not block the booking forever.
                live.mark_canceled(actor=user, reason="abandoned before its PaymentIntent")
                live = None
            if live is not None:
                raise InvalidTransition(
                    "This booking already has a payment in progress; pay that one "
                    "(GET /payments/{id} gives its client_secret) or wait for it to fail.",
                    details={"payment_id": str(live.pk), "booking_id": str(locked.pk)},
                )
            payment = Payment.objects.create(
                booking=locked,
                organizer=locked.organizer,
                kind=kind,
                amount_cents=amount,
                currency=locked.currency,
            )
            # The unique (user, key) insert is the claim: concurrent copies block on it here
            # and fail with IntegrityError once this transaction commits.
            return IdempotencyRecord.objects.create(
                user=user,
                key=key,
                scope=IDEMPOTENCY_SCOPE_DEPOSIT,
                request_hash=fingerprint,
                payment=payment,
            )
    except IntegrityError:
        if IdempotencyRecord.objects.filter(user=user, key=key).exists():
            return None
        raise


def _abandoned_before_intent(payment: Payment) -> bool:
    """A pending payment without a PaymentIntent whose creating request (or a retry resuming
    it, which touches the key's record) has not been heard of for the abandonment period.
    Should its key come back, the resumed intent finds the payment canceled and is canceled
    at Stripe too (see `_finish_payment`)."""
    if payment.stripe_payment_intent_id:
        return False
    record = IdempotencyRecord.objects.filter(payment=payment).only("updated_at").first()
    last_seen = record.updated_at if record is not None else payment.updated_at
    age = (timezone.now() - last_seen).total_seconds()
    return age > IDEMPOTENCY_ABANDONED_AFTER_SECONDS


def _finish_payment(record: IdempotencyRecord, *, serialize) -> StoredResponse:
    """Phases 2 and 3: create the PaymentIntent with no lock held, then store it and the
    response. On a Stripe failure delete the payment and the key's record (nothing kept)."""
    payment = record.payment
    try:
        intent = stripe_client.create_payment_intent(
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            payment_id=payment.pk,
            booking_id=payment.booking_id,
        )
    except Exception:
        _discard_attempt(record)  # nothing half-made: a retry with the same key starts fresh
        raise

    with transaction.atomic():
        payment = payment.attach_intent(intent_id=intent.id, client_secret=intent.client_secret)
        if payment.status != Payment.Status.PENDING:
            # Voided while Stripe created the intent (the booking's lines changed or it was
            # canceled): the void could not cancel an intent it did not know, so do it here.
            transaction.on_commit(lambda: stripe_client.cancel_payment_intent(intent.id))
        body = _store_response(record, serialize(payment))
    return StoredResponse(status=201, body=body, replayed=False)


def _store_response(record: IdempotencyRecord, body: dict) -> dict:
    """Keep the 201 body on the key's record (row-locked), for every later copy to replay."""
    with transaction.atomic(savepoint=False):  # joins the caller's transaction, if any
        locked = IdempotencyRecord.objects.select_for_update().get(pk=record.pk)
        locked.response_status = 201
        locked.response_body = body
        locked.save(update_fields=["response_status", "response_body", "updated_at"])
    return body


def _discard_attempt(record: IdempotencyRecord) -> None:
    with transaction.atomic():
        payment_id = record.payment_id
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        Payment.objects.filter(pk=payment_id, stripe_payment_intent_id__isnull=True).delete()


def _replay(record: IdempotencyRecord, *, fingerprint, serialize) -> StoredResponse:
    """A request whose key was seen before: conflict, stored response, or wait for it."""
    if record.scope != IDEMPOTENCY_SCOPE_DEPOSIT or record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request "
            "(another booking or body); use a new key for a new payment.",
            details={"Idempotency-Key": ["Already used for a different request."]},
        )
    deadline = time.monotonic() + IDEMPOTENCY_WAIT_SECONDS
    while True:
        if record.response_status is not None:
            return StoredResponse(
                status=record.response_status, body=record.response_body, replayed=True
            )
        # updated_at: a waiter that takes over touches it, so the others keep waiting.
        age = (timezone.now() - record.updated_at).total_seconds()
        if age > IDEMPOTENCY_ABANDONED_AFTER_SECONDS and record.payment_id is not None:
            resumed = _resume_abandoned(record, serialize=serialize)
            if resumed is not None:
                return resumed
        if time.monotonic() >= deadline:
            raise IdempotencyConflict(
                "A request with this Idempotency-Key is still in progress; retry shortly.",
                details={"Idempotency-Key": ["A request with this key is in progress."]},
            )
        time.sleep(IDEMPOTENCY_POLL_SECONDS)
        record = IdempotencyRecord.objects.select_related("payment").filter(pk=record.pk).first()
        if record is None:  # the first copy failed at Stripe and was rolled back
            raise PaymentProviderError(
                "The payment provider failed or is unreachable; nothing was charged. "
                "Retry with the same Idempotency-Key."
            )


def _resume_abandoned(record: IdempotencyRecord, *, serialize) -> StoredResponse | None:
    """Take over a first request that died between its phases (at most one taker)."""
    with transaction.atomic():
        claimed = (
            IdempotencyRecord.objects.select_for_update(skip_locked=True)
            .filter(pk=record.pk, response_status__isnull=True)
            .first()
        )
        if claimed is None:
            return None
        # Touch it so other waiters do not take over too while we talk to Stripe.
        claimed.save(update_fields=["updated_at"])
    record.refresh_from_db()
    if record.payment.stripe_payment_intent_id:
        body = _store_response(record, serialize(record.payment))
        return StoredResponse(status=201, body=body, replayed=True)
    return _finish_payment(record, serialize=serialize)


def purge_idempotency_records(*, before, batch_size: int = 1000) -> int:
    """Delete the idempotency records last touched before `before` (the `purge_expired_tokens`
    job passes now − PURGE_AFTER_DAYS): a key that old is no longer replayed, and a retry with
    it makes a new payment request. Returns how many rows were deleted."""
    stale = IdempotencyRecord.objects.filter(updated_at__lt=before)
    return delete_in_batches(stale, batch_size=batch_size)
