"""Money flows that span apps. Lock order everywhere: Booking → BookingVendor → Payment →
Payout → Dispute (Saleor's lock_objects idea), so two flows never deadlock. No Stripe call is
ever made while a row lock is held.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import stripe_client
from payments.allocation import allocate
from payments.models import Allocation, IdempotencyRecord, LedgerEntry, Payment, Payout
from strathwell.exceptions import (
    DomainValidationError,
    IdempotencyConflict,
    InvalidTransition,
    PaymentProviderError,
)

logger = logging.getLogger("strathwell.payments")

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
    """The `Idempotency-Key` header: required, 1–255 characters (else 400)."""
    key = (key or "").strip()
    if not key:
        raise DomainValidationError(
            "The Idempotency-Key header is required.",
            details={"Idempotency-Key": ["This header is required."]},
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
    *, booking, user, idempotency_key: str, body, serialize
) -> StoredResponse:
    """Create the deposit Payment of a booking and its Stripe PaymentIntent, idempotently.

    Guarantees: one Payment and one PaymentIntent per (user, Idempotency-Key), however many
    copies of the request arrive and however they interleave; every copy answers the same
    stored response; the same key for another booking/body → IdempotencyConflict (409). The
    Stripe call is made with no row lock held; when it fails, nothing is kept (payment and
    idempotency record are deleted) and PaymentProviderError (502) is raised.

    `serialize(payment) -> dict` renders the 201 body (kept so the replay is identical).
    """
    key = validate_idempotency_key(idempotency_key)
    fingerprint = request_fingerprint(booking_id=booking.pk, body=body)

    existing = _find_record(user, key)
    if existing is None:
        record = _start_payment(booking=booking, user=user, key=key, fingerprint=fingerprint)
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


def _start_payment(*, booking, user, key, fingerprint) -> IdempotencyRecord | None:
    """Phase 1 (one transaction, booking locked): check the booking, create the pending
    Payment and claim the key. None when a concurrent copy claimed the key first."""
    from bookings.models import Booking

    try:
        with transaction.atomic():
            locked = Booking.objects.select_for_update().get(pk=booking.pk)
            if IdempotencyRecord.objects.filter(user=user, key=key).exists():
                return None  # a concurrent copy (serialized by the booking lock) got here first
            if locked.status != Booking.Status.READY:
                raise InvalidTransition(
                    f"A {locked.status} booking cannot be paid; it must be ready_for_payment.",
                    details={"booking_id": str(locked.pk), "status": locked.status},
                )
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
            amount = int(locked.deposit_cents)
            if amount <= 0:
                raise InvalidTransition(
                    "This booking has no deposit to pay.",
                    details={"booking_id": str(locked.pk), "deposit_cents": amount},
                )
            payment = Payment.objects.create(
                booking=locked,
                organizer=locked.organizer,
                kind=Payment.Kind.DEPOSIT,
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


# --- payment success ---------------------------------------------------------------------------


def record_payment_success(payment: Payment, *, event=None, actor=None) -> bool:
    """A payment's money arrived: in ONE transaction, payment `succeeded` → booking `paid` →
    allocation (API.md's formula) → `held_funds` and `platform_fee` ledger entries → a
    `reservation` and a `completion` payout per booking vendor, all `locked`. The booking's
    other pending or failed deposits are voided (their intents canceled after the commit).

    Locks booking → booking vendors → payment. Guarded by `payments.payouts_created_at`: it
    happens once; a repeat returns False and changes nothing. Raises InvalidTransition when
    the money cannot be applied (payment canceled, booking not payable, booking already paid
    by another payment) — the caller records that for staff.
    """
    from bookings.models import Booking, BookingVendor

    reason = f"Stripe event {event.stripe_event_id}" if event is not None else ""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
        lines = list(
            BookingVendor.objects.select_for_update()
            .filter(booking_id=booking.pk)
            .order_by("position", "created_at", "id")
        )
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.payouts_created_at is not None:
            return False
        other = (
            Payment.objects.filter(
                booking_id=booking.pk, kind=locked.kind, status=Payment.Status.SUCCEEDED
            )
            .exclude(pk=locked.pk)
            .first()
        )
        if other is not None:
            raise InvalidTransition(
                f"Booking {booking.pk} is already paid by payment {other.pk}; this payment's "
                f"money ({locked.amount_cents} {locked.currency}) must be refunded by staff.",
                details={"payment_id": str(locked.pk), "paid_by": str(other.pk)},
            )
        if not lines or not all(line.agreed_price_cents for line in lines):
            raise InvalidTransition(
                "The booking's vendors do not all have an agreed price; cannot allocate.",
                details={"booking_id": str(booking.pk)},
            )

        locked = locked.mark_succeeded(actor=actor, reason=reason)
        booking.mark_paid(actor=actor, payment=locked)
        # The booking is paid: its other deposits (a failed one is still payable with another
        # card) must not charge the organizer a second time. Payments before payouts.
        _void_pending_payments(booking, actor=actor, reason=f"booking paid by payment {locked.pk}")

        allocations = allocate(
            locked.amount_cents,
            [line.agreed_price_cents for line in lines],
            commission_percent=settings.PLATFORM_COMMISSION_PERCENT,
            reservation_percent=settings.RESERVATION_RELEASE_PERCENT,
        )
        shares = list(zip(lines, allocations, strict=True))
        Allocation.objects.bulk_create(
            Allocation(
                payment=locked,
                booking_vendor=line,
                agreed_price_cents=line.agreed_price_cents,
                share_cents=a.share_cents,
                fee_cents=a.fee_cents,
                reservation_cents=a.reservation_cents,
                completion_cents=a.completion_cents,
            )
            for line, a in shares
        )
        # One held_funds of P, and one platform_fee per vendor (also when it rounds to 0,
        # so every vendor's split is visible in the ledger).
        entries = [
            LedgerEntry(
                entry_type=LedgerEntry.EntryType.HELD_FUNDS,
                payment=locked,
                booking=booking,
                amount_cents=locked.amount_cents,
                currency=locked.currency,
                memo=f"deposit held for booking {booking.pk}",
            )
        ]
        entries += [
            LedgerEntry(
                entry_type=LedgerEntry.EntryType.PLATFORM_FEE,
                payment=locked,
                booking=booking,
                booking_vendor=line,
                amount_cents=a.fee_cents,
                currency=locked.currency,
                memo=f"{settings.PLATFORM_COMMISSION_PERCENT}% commission on {a.share_cents}",
            )
            for line, a in shares
        ]
        LedgerEntry.objects.bulk_create(entries)
        payouts = []
        for line, a in shares:
            for kind, amount in (
                (Payout.Kind.RESERVATION, a.reservation_cents),
                (Payout.Kind.COMPLETION, a.completion_cents),
            ):
                payouts.append(
                    Payout(
                        vendor_id=line.vendor_id,
                        booking=booking,
                        booking_vendor=line,
                        payment=locked,
                        kind=kind,
                        amount_cents=amount,
                        currency=locked.currency,
                        status=Payout.Status.LOCKED,
                    )
                )
        Payout.objects.bulk_create(payouts)
        locked.payouts_created_at = timezone.now()
        locked.save(update_fields=["payouts_created_at", "updated_at"])
    return True


# --- booking lifecycle hooks -------------------------------------------------------------------


def on_booking_completed(booking, *, actor=None):
    """Called by Booking.complete/force_complete inside its transaction (booking locked):
    the booking's locked completion payouts become eligible. While a dispute on the booking
    is open they stay locked (the dispute's resolution decides)."""
    from disputes.models import Dispute

    if Dispute.open_for_booking(booking.pk):
        return []
    payouts = list(
        Payout.objects.filter(
            booking_id=booking.pk, kind=Payout.Kind.COMPLETION, status=Payout.Status.LOCKED
        ).order_by("id")
    )
    return [payout.make_eligible(actor=actor) for payout in payouts]


def on_booking_canceled(booking, *, actor=None, reason=""):
    """Called by Booking.cancel/admin_cancel inside its transaction (booking locked).

    Paid booking: every locked or eligible payout is held ("booking canceled: <reason>") so
    staff settle each one (release or reverse). Its pending and failed payments are voided
    (see `_void_pending_payments`); nothing may be paid for it any more."""
    hold_reason = f"booking canceled: {reason}".strip() if reason else "booking canceled"
    # Payments before payouts: the global lock order.
    _void_pending_payments(booking, actor=actor, reason=hold_reason)
    held = []
    payouts = list(
        Payout.objects.filter(
            booking_id=booking.pk, status__in=[Payout.Status.LOCKED, Payout.Status.ELIGIBLE]
        ).order_by("id")
    )
    for payout in payouts:
        held.append(payout.hold(actor=actor, reason=hold_reason))
    return held


def on_booking_lines_changed(booking, *, actor=None):
    """Called by Booking inside its transaction when the lines of a `ready_for_payment` booking
    change (a vendor added or removed): a pending deposit was priced on the old lines, so it is
    voided and the organizer pays afresh once the booking is ready again."""
    _void_pending_payments(booking, actor=actor, reason="booking vendors changed")


def _void_pending_payments(booking, *, actor=None, reason=""):
    """Mark the booking's pending and failed payments canceled in this transaction (so a new
    payment can start at once, even when Stripe is unreachable) and cancel their PaymentIntents
    at Stripe after the commit, best effort. A failed PaymentIntent is still payable with
    another card (failed → succeeded), so it is voided too: else its old amount could pay the
    booking after its lines changed. Should one succeed anyway, its webhook finds a canceled
    payment and records a `mismatch` (refund needed) for staff instead of applying it."""
    pending = list(
        Payment.objects.filter(
            booking_id=booking.pk, status__in=[Payment.Status.PENDING, Payment.Status.FAILED]
        ).order_by("id")
    )
    for payment in pending:
        payment.mark_canceled(actor=actor, reason=reason)
        if payment.stripe_payment_intent_id:
            transaction.on_commit(
                lambda intent_id=payment.stripe_payment_intent_id: (
                    stripe_client.cancel_payment_intent(intent_id)
                )
            )
