"""Stripe webhooks: verify the signature, record each event once, process it exactly once.

Flow of one delivery (`POST /api/v1/webhooks/stripe`):

1. `verify()` — `stripe.WebhookSignature.verify_header` with `STRIPE_WEBHOOK_SECRET` and a
   300 s tolerance, both ways (several `v1` signatures in the header are fine: one valid one is
   enough). Bad or missing signature, or a timestamp more than the tolerance in the past or in
   the future → 400 `invalid_signature`; not JSON / nested deeper than 64 / not an event → 400
   `invalid_payload`. NUL characters are removed and out-of-range numbers (`1e400`) kept as
   their text, so every signed event fits PostgreSQL's jsonb. Nothing is recorded for a
   delivery that fails verification.
2. `record_event()` — one `WebhookEvent` row per Stripe event id, in one
   `INSERT … ON CONFLICT DO NOTHING` (the unique constraint decides between racing copies).
   `refuse_other_mode()` — an event whose `livemode` is not the mode of
   `STRIPE_SECRET_KEY` (a test event reaching a live deployment, or the reverse) is kept as a
   `mismatch` and answered 400 `livemode_mismatch`; it never moves money.
   With `WEBHOOK_PROCESSING` async (the default when a broker is configured) the request
   stops here and answers 200 (`outcome: received`); the `payments.process_webhook_event`
   task, enqueued on commit, runs step 3 on the worker, and the `retry_webhook_events` job
   processes any event whose task was lost. Sync (no broker, the tests): step 3 runs in the
   request, whose answer carries the outcome.
3. `process_event()` — locks that row; an event with a final outcome is a duplicate (200, no
   effect). Otherwise the handler runs inside a savepoint: an exception rolls its effects back,
   the row is kept as `failed` with the error, and the view answers 500 so Stripe retries.
   `manage.py replay_webhook_events` runs stored events through the same function, and the
   `retry_webhook_events` job retries failed ones with a backoff (`retry_event`).

Handled: `payment_intent.succeeded|payment_failed|canceled` (a deposit or a balance), and
`charge.refunded` / `refund.updated`, which confirm (or report as failed) a refund whose status
the Refund API's answer normally already gave (`services.apply_refund_result`, idempotent).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import billing
from payments import locks, services
from payments.models import Payment, Refund, WebhookEvent
from strathwell.api.parsers import JSONDocumentError, load_json, strip_nul
from strathwell.db import insert_ignore_conflicts
from strathwell.exceptions import DomainError, InvalidTransition

logger = logging.getLogger("strathwell.payments")

SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"
HANDLED_TYPES = (SUCCEEDED, PAYMENT_FAILED, CANCELED)
# Refunds: their status is first known from the Refund API's answer; these confirm it (or
# report a refund that failed later).
CHARGE_REFUNDED = "charge.refunded"
REFUND_UPDATED = "refund.updated"
REFUND_TYPES = (CHARGE_REFUNDED, REFUND_UPDATED)

# Events owned by a lower app, routed to its handler: recorded, deduplicated, locked, retried
# and given their outcome here (the one inbox), applied there. A handler takes the event body
# and returns (outcome value, note); it makes no Stripe call.
ROUTED_HANDLERS = {
    # Stripe Billing: organizer subscriptions (accounts.billing).
    **dict.fromkeys(billing.STRIPE_EVENT_TYPES, billing.handle_stripe_event),
}

Outcome = WebhookEvent.Outcome
FINAL_OUTCOMES = frozenset({Outcome.PROCESSED, Outcome.IGNORED, Outcome.STALE, Outcome.MISMATCH})
MAX_ERROR_LENGTH = 4000
# Stripe's events are a handful of levels deep; this bounds what jsonb and json.dumps recurse.
WEBHOOK_MAX_JSON_DEPTH = 64


class InvalidSignature(DomainError):
    status_code = 400
    code = "invalid_signature"
    default_message = "The Stripe-Signature header is missing or does not match the payload."


class InvalidPayload(DomainError):
    status_code = 400
    code = "invalid_payload"
    default_message = "The webhook body is not a Stripe event."


class LivemodeMismatch(DomainError):
    status_code = 400
    code = "livemode_mismatch"
    default_message = "The event's livemode does not match this server's Stripe key."


class WebhookNotConfigured(DomainError):
    # 500, not 4xx: once STRIPE_WEBHOOK_SECRET is set, Stripe's retries will succeed.
    status_code = 500
    code = "server_error"
    default_message = "Stripe webhooks are not configured on this server."


@dataclass(frozen=True)
class ProcessResult:
    event: WebhookEvent
    duplicate: bool = False
    failed: bool = False


# --- 1. verify ---------------------------------------------------------------------------------


def verify(payload: bytes, signature_header: str | None) -> dict:
    """Check the signature and return the event as a dict (raises InvalidSignature /
    InvalidPayload). Any body that is validly signed is either returned, ready for jsonb
    (NUL characters removed, out-of-range numbers kept as their text), or refused with
    InvalidPayload: never an exception that would answer 500 and make Stripe retry forever."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not set.")
        raise WebhookNotConfigured()
    if not signature_header:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPayload("The webhook body is not UTF-8 text.") from exc
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    try:
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature(
            "The Stripe-Signature header does not match the payload "
            "(wrong secret, altered body or a timestamp outside the tolerance).",
            details={"reason": str(exc.user_message or exc)[:200]},
        ) from exc
    except (TypeError, ValueError) as exc:  # e.g. non-ASCII characters where a signature is
        raise InvalidSignature("The Stripe-Signature header is malformed.") from exc
    # The library only refuses old timestamps; a signed timestamp far ahead of our clock is as
    # suspect (a replay prepared in advance), so the same tolerance applies both ways.
    if _signed_at(signature_header) > time.time() + tolerance:
        raise InvalidSignature(
            "The Stripe-Signature timestamp is in the future, beyond the tolerance.",
            details={"tolerance_seconds": tolerance},
        )
    try:
        data = load_json(
            text, max_depth=WEBHOOK_MAX_JSON_DEPTH, allow_nul=True, keep_out_of_range=True
        )
    except JSONDocumentError as exc:
        raise InvalidPayload(f"The webhook body is not acceptable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidPayload("The webhook body is not a Stripe event.")
    data = strip_nul(data)  # PostgreSQL refuses U+0000 in jsonb
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise InvalidPayload("The webhook body is not a Stripe event (no id).")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise InvalidPayload("The webhook body is not a Stripe event (no type).")
    return data


def _signed_at(signature_header: str) -> int:
    """The `t=` timestamp of a header that `verify_header` accepted (parsed as it does)."""
    items = [item.split("=", 2) for item in signature_header.split(",")]
    return int(next(item[1] for item in items if item[0] == "t"))


# --- 2. record ---------------------------------------------------------------------------------


def record_event(data: dict) -> tuple[WebhookEvent, bool]:
    """The event's row and whether this call created it: ONE statement on first sight
    (`INSERT … ON CONFLICT DO NOTHING RETURNING`; racing copies: the unique id decides), one
    more (a SELECT) for a redelivery."""
    event = WebhookEvent(
        stripe_event_id=data["id"][:255],
        type=data["type"][:100],
        payload=data,
        livemode=bool(data.get("livemode")),
    )
    inserted = insert_ignore_conflicts([event], returning="id")
    if inserted:
        event.pk = inserted[0]
        event._state.adding = False
        return event, True
    return WebhookEvent.objects.get(stripe_event_id=event.stripe_event_id), False


def key_is_live() -> bool:
    """Whether STRIPE_SECRET_KEY is a live-mode key (sk_live_…, or a restricted rk_live_…)."""
    return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))


def _mode_problem(event: WebhookEvent) -> str | None:
    if event.livemode == key_is_live():
        return None
    event_mode, key_mode = ("live", "test") if event.livemode else ("test", "live")
    return f"a {event_mode}-mode event reached a server with a {key_mode}-mode key; not applied"


def refuse_other_mode(event: WebhookEvent) -> None:
    """Record an event of the other Stripe mode as a mismatch and refuse it (LivemodeMismatch)."""
    problem = _mode_problem(event)
    if problem is None:
        return
    logger.warning("Stripe event %s refused: %s", event.stripe_event_id, problem)
    WebhookEvent.objects.filter(pk=event.pk).exclude(outcome__in=FINAL_OUTCOMES).update(
        outcome=Outcome.MISMATCH, error=problem, processed_at=timezone.now()
    )
    raise LivemodeMismatch(
        f"The event's livemode is {str(event.livemode).lower()}, but this server uses a "
        f"{'live' if key_is_live() else 'test'}-mode key: it was recorded and not applied.",
        details={"event_id": event.stripe_event_id},
    )


def processing_is_async() -> bool:
    """Whether the request leaves processing to the worker (`WEBHOOK_PROCESSING`; empty: when
    tasks go to a broker rather than running eagerly in the request)."""
    mode = settings.WEBHOOK_PROCESSING
    if mode:
        return mode == "async"
    return not settings.CELERY_TASK_ALWAYS_EAGER


# --- 3. process ------------------------------------------------------------------------------


def process_event(event_pk: int, *, force: bool = False) -> ProcessResult:
    """Process a stored event exactly once (row-locked). `force` reprocesses an event that
    already has a final outcome (safe: every handler is idempotent).

    The handler runs in the event's own transaction (a savepoint when called inside one): an
    exception rolls all of its effects back, then a second short transaction records the
    event as `failed` with the error (no savepoint on the path every event takes)."""
    try:
        with transaction.atomic():
            event = locks.lock_webhook_event(event_pk)
            if event.outcome in FINAL_OUTCOMES and not force:
                return ProcessResult(event=event, duplicate=True)
            was_final = event.outcome in FINAL_OUTCOMES
            event.attempts += 1
            outcome, note = _dispatch(event)
            if force and was_final and outcome == Outcome.STALE:
                # A forced replay that changed nothing keeps the record of what the event did.
                event.save(update_fields=["attempts"])
                return ProcessResult(event=event)
            event.outcome = outcome
            event.error = note[:MAX_ERROR_LENGTH]
            event.processed_at = timezone.now()
            event.save(update_fields=["outcome", "error", "attempts", "processed_at"])
        return ProcessResult(event=event)
    except _Refused as refused:  # nothing may stay of what the handler did: rolled back
        outcome, note, failed = refused.outcome, refused.note, False
    except Exception as exc:
        logger.exception("Processing Stripe event %s failed", event_pk)
        outcome, note, failed = Outcome.FAILED, f"{type(exc).__name__}: {exc}", True
    with transaction.atomic():
        event = locks.lock_webhook_event(event_pk)
        if event.outcome in FINAL_OUTCOMES and not force:
            # Another delivery processed it while ours was rolling back.
            return ProcessResult(event=event, duplicate=True)
        event.attempts += 1
        event.outcome = outcome
        event.error = note[:MAX_ERROR_LENGTH]
        event.processed_at = None if failed else timezone.now()
        event.save(update_fields=["outcome", "error", "attempts", "processed_at"])
    return ProcessResult(event=event, failed=failed)


class _Refused(Exception):
    """A handler's final answer that must roll back what it started (money that cannot be
    applied): `process_event` records `outcome` after the rollback."""

    def __init__(self, outcome: str, note: str):
        super().__init__(note)
        self.outcome, self.note = outcome, note


# --- 4. retry (the `retry_webhook_events` job) ---------------------------------------------------

# An event recorded but never processed for this long died with its request (Stripe may have
# given up on it, or be waiting hours to redeliver): the job processes it.
UNPROCESSED_AFTER = timedelta(minutes=5)


def retry_due_at(event: WebhookEvent) -> datetime | None:
    """When the job next processes this event: a failed one WEBHOOK_RETRY_BASE_SECONDS ×
    (2^attempts − 1) after it arrived (1, 3, 7, 15… minutes: each wait twice the last), at most
    WEBHOOK_MAX_ATTEMPTS attempts in all; one never processed, UNPROCESSED_AFTER after it
    arrived. None: nothing more to do."""
    if event.outcome == Outcome.RECEIVED:
        return event.received_at + UNPROCESSED_AFTER
    if event.outcome != Outcome.FAILED or event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        return None
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return event.received_at + timedelta(seconds=base * (2**event.attempts - 1))


def retry_candidates():
    """Events the job may have to process: failed with attempts left, or never processed."""
    return WebhookEvent.objects.filter(
        Q(outcome=Outcome.FAILED, attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS)
        | Q(outcome=Outcome.RECEIVED)
    )


def retry_event(event_pk: int, *, now: datetime) -> ProcessResult | None:
    """Process a failed (or never processed) event again if its backoff is over. Takes the
    event's lock first with SKIP LOCKED and re-checks under it, so two runs of the job (or the
    job and a redelivery from Stripe) never process it at once; None when not due or busy."""
    with transaction.atomic():
        event = locks.try_lock_webhook_event(event_pk)
        if event is None:
            return None
        due_at = retry_due_at(event)
        if due_at is None or due_at > now:
            return None
        return process_event(event.pk)


def _dispatch(event: WebhookEvent) -> tuple[str, str]:
    """Apply one event. Returns (outcome, note); raises only for unexpected failures."""
    problem = _mode_problem(event)
    if problem:  # a replay of a refused event: still never applied
        return Outcome.MISMATCH, problem
    routed = ROUTED_HANDLERS.get(event.type)
    if routed is not None:
        outcome, note = routed(event.payload)
        return Outcome(outcome), note
    if event.type in REFUND_TYPES:
        return _dispatch_refund(event)
    if event.type not in HANDLED_TYPES:
        return Outcome.IGNORED, f"event type {event.type} is not handled"
    obj = (event.payload.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict) or obj.get("object") != "payment_intent" or not obj.get("id"):
        return Outcome.IGNORED, "the event carries no PaymentIntent"
    payment = _find_payment(obj)
    if payment is None:
        return Outcome.IGNORED, f"no payment is recorded for PaymentIntent {obj['id']}"

    problem = _amount_mismatch(payment, obj, event.type)
    if problem:
        logger.warning(
            "Stripe event %s (%s) not applied to payment %s: %s",
            event.stripe_event_id,
            event.type,
            payment.pk,
            problem,
        )
        return Outcome.MISMATCH, problem

    reason = f"Stripe event {event.stripe_event_id}"
    if event.type == SUCCEEDED:
        if payment.status == Payment.Status.SUCCEEDED:
            return Outcome.STALE, "the payment had already succeeded"
        try:
            # The handler runs in the event's transaction: no savepoint of its own.
            applied = services.record_payment_success(payment, event=event, savepoint=False)
        except InvalidTransition as exc:
            # Money arrived that cannot be applied (canceled payment or booking, booking paid
            # twice): staff must look at it, so it is a mismatch, not a silent stale. Raised
            # through the event's transaction so that nothing the flow wrote stays.
            logger.warning(
                "Stripe event %s: payment %s succeeded but was not applied: %s",
                event.stripe_event_id,
                payment.pk,
                exc.message,
            )
            raise _Refused(Outcome.MISMATCH, f"not applied: {exc.message}") from exc
        if not applied:
            return Outcome.STALE, "the payment had already succeeded"
        return Outcome.PROCESSED, ""

    try:
        if event.type == PAYMENT_FAILED:
            error = obj.get("last_payment_error") or {}
            message = error.get("message") or error.get("code") or "The payment failed."
            payment.mark_failed(message=str(message), reason=reason)
        else:
            payment.mark_canceled(
                reason=f"{reason}: {obj.get('cancellation_reason') or 'canceled'}"
            )
    except InvalidTransition as exc:
        return Outcome.STALE, f"not applied: {exc.message}"
    return Outcome.PROCESSED, ""


def _find_payment(intent: dict) -> Payment | None:
    payment = Payment.objects.filter(stripe_payment_intent_id=intent["id"]).first()
    if payment is not None:
        return payment
    # The event may overtake the request that stores the PaymentIntent id (metadata has ours).
    payment_id = (intent.get("metadata") or {}).get("payment_id")
    try:
        payment_uuid = uuid.UUID(str(payment_id))
    except (TypeError, ValueError):
        return None
    return Payment.objects.filter(pk=payment_uuid, stripe_payment_intent_id__isnull=True).first()


def _amount_mismatch(payment: Payment, intent: dict, event_type: str) -> str:
    amount = intent.get("amount")
    if event_type == SUCCEEDED and intent.get("amount_received") is not None:
        amount = intent["amount_received"]  # the money that actually arrived
    currency = str(intent.get("currency") or "").lower()
    problems = []
    if not isinstance(amount, int) or isinstance(amount, bool) or amount != payment.amount_cents:
        problems.append(f"amount {amount!r} != expected {payment.amount_cents}")
    if currency != payment.currency.lower():
        problems.append(f"currency {currency!r} != expected {payment.currency!r}")
    if not problems:
        return ""
    return f"PaymentIntent {intent.get('id')} does not match payment {payment.pk}: " + "; ".join(
        problems
    )


# --- refunds --------------------------------------------------------------------------------------


def _dispatch_refund(event: WebhookEvent) -> tuple[str, str]:
    """`charge.refunded` (a Charge with its refunds) or `refund.updated` (one Refund): apply
    each refund's status to ours (`services.apply_refund_result`, idempotent)."""
    obj = (event.payload.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        return Outcome.IGNORED, "the event carries no object"
    if obj.get("object") == "refund":
        stripe_refunds = [obj]
    elif obj.get("object") == "charge":
        stripe_refunds = [
            r for r in ((obj.get("refunds") or {}).get("data") or []) if isinstance(r, dict)
        ]
        if not stripe_refunds:
            return Outcome.IGNORED, "the charge lists no refunds (refund.updated settles them)"
    else:
        return Outcome.IGNORED, "the event carries no Refund or Charge"
    outcomes, notes = [], []
    for stripe_refund in stripe_refunds:
        refund = _find_refund(stripe_refund)
        if refund is None:
            outcomes.append("ignored")
            notes.append(f"no refund is recorded for Stripe refund {stripe_refund.get('id')}")
            continue
        amount = stripe_refund.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            outcomes.append("mismatch")
            notes.append(f"Stripe refund {stripe_refund.get('id')} has no amount")
            continue
        _refund, outcome = services.apply_refund_result(
            refund,
            stripe_refund_id=str(stripe_refund.get("id")),
            status=str(stripe_refund.get("status") or ""),
            amount=amount,
            failure=str(stripe_refund.get("failure_reason") or ""),
        )
        outcomes.append(outcome.split(":")[0])
        if outcome not in ("processed", "stale", "pending"):
            notes.append(outcome)
    note = "; ".join(notes)
    if "mismatch" in outcomes:
        logger.warning("Stripe event %s: refund mismatch: %s", event.stripe_event_id, note)
        return Outcome.MISMATCH, note
    if "processed" in outcomes:
        return Outcome.PROCESSED, note
    if all(o == "ignored" for o in outcomes):
        return Outcome.IGNORED, note
    return Outcome.STALE, note or "the refunds were already in this state"


def _find_refund(stripe_refund: dict) -> Refund | None:
    refund = Refund.objects.filter(stripe_refund_id=stripe_refund.get("id")).first()
    if refund is not None:
        return refund
    # The event may overtake the answer that stores the Stripe refund id (metadata has ours).
    refund_id = (stripe_refund.get("metadata") or {}).get("refund_id")
    try:
        refund_uuid = uuid.UUID(str(refund_id))
    except (TypeError, ValueError):
        return None
    return Refund.objects.filter(pk=refund_uuid).first()
