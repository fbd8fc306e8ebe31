"""Organizer subscriptions: start, cancel, staff grants, and the Stripe events that move them.

Providers (`SUBSCRIPTION_PROVIDER`):

- `stripe` — Stripe Billing. A start makes (once) the organizer's Customer, attaches the
  Stripe.js payment method as its invoices' default and creates the subscription, whose first
  invoice is charged at once: `active` when paid, `incomplete` + the PaymentIntent's
  `client_secret` when the card needs an action, `PaymentFailed` (402) on a decline, with the
  declined subscription canceled so none is left behind. Cancel schedules the end at the
  period's end (`cancel_at`); the webhooks (`handle_stripe_event`) do the rest.
- `manual` — no payment: start activates, cancel ends access at once. For local runs and tests
  without Stripe; refused with `APP_ENV=prod` (at boot by the settings, and here).
- Staff can grant a complimentary subscription (`grant_complimentary`, audited) with either.

Concurrency. Every change locks the subscription row (`accounts.locks.lock_subscription`), and
no Stripe call is made while it is held. A Stripe start therefore runs in three steps: claim the
row (`start_token`, one transaction), talk to Stripe unlocked, write the outcome back (one
transaction). A concurrent start finds the claim and waits for it, then answers the same
subscription: one Customer and one subscription however many starts race. A claim whose
process died expires after `START_CLAIM_TIMEOUT_SECONDS`; the next start then adopts whatever
the dead one made in Stripe (the Customer by our metadata, a live subscription by listing).

Stale events. Each Stripe state is stamped with Stripe's time (an event's `created`, an API
response's `Date`), kept in `stripe_state_at`. An older state never overwrites a newer one; two
states of the same second are ordered by how far along the lifecycle they are
(`Subscription.RANK`), except that the response to our own call wins its second. A canceled
Stripe subscription never comes back, whatever arrives after.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import stripe_billing
from accounts.locks import lock_subscription
from accounts.models import Subscription, User
from accounts.stripe_billing import StripeSubscription
from strathwell.exceptions import (
    DomainValidationError,
    InvalidTransition,
    PaymentFailed,
    PaymentProviderError,
)

logger = logging.getLogger("strathwell.accounts")

Status = Subscription.Status
Provider = Subscription.Provider

# A start that has not written its outcome after this long died between its steps.
START_CLAIM_TIMEOUT_SECONDS = 120
# How long a concurrent start waits for the one in progress, and how often it looks.
START_WAIT_SECONDS = 30.0
START_POLL_SECONDS = 0.1

LIVE = frozenset({Status.INCOMPLETE, Status.ACTIVE, Status.PAST_DUE})

# The outcomes of `handle_stripe_event`, in the webhook inbox's vocabulary
# (`payments.models.WebhookEvent.Outcome`).
PROCESSED, IGNORED, STALE = "processed", "ignored", "stale"

SUBSCRIPTION_CREATED = "customer.subscription.created"
SUBSCRIPTION_UPDATED = "customer.subscription.updated"
SUBSCRIPTION_DELETED = "customer.subscription.deleted"
INVOICE_SUCCEEDED = "invoice.payment_succeeded"
INVOICE_FAILED = "invoice.payment_failed"
STRIPE_EVENT_TYPES = (
    SUBSCRIPTION_CREATED,
    SUBSCRIPTION_UPDATED,
    SUBSCRIPTION_DELETED,
    INVOICE_SUCCEEDED,
    INVOICE_FAILED,
)


@dataclass(frozen=True)
class StartResult:
    subscription: Subscription
    # The first invoice's PaymentIntent secret, while the card needs an action (incomplete).
    client_secret: str | None = None


def uses_stripe() -> bool:
    return settings.SUBSCRIPTION_PROVIDER == "stripe"


# --- start --------------------------------------------------------------------------------------


def start_subscription(
    user: User, *, plan: str, payment_method: str | None = None, actor=None
) -> StartResult:
    """Start the organizer's subscription on `plan` with the configured provider.

    Idempotent: a start while one is incomplete or active answers that one (Stripe: no second
    subscription; a pending cancellation is withdrawn). See the module docstring for the
    guarantees under concurrency and what each provider does."""
    actor = actor or user
    if uses_stripe():
        return _start_stripe(user, plan=plan, payment_method=payment_method, actor=actor)
    return StartResult(_start_manual(user, plan=plan, actor=actor))


def _refuse_manual_in_prod() -> None:
    if settings.APP_ENV == "prod":
        raise PaymentProviderError(
            "Subscriptions need Stripe Billing in production; the manual provider is refused."
        )


def _start_manual(user: User, *, plan: str, actor) -> Subscription:
    """none|canceled → active on `plan`, for free. Active on the same plan: a no-op; on another
    plan: the plan is switched. A live Stripe subscription is left as it is."""
    _refuse_manual_in_prod()
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        if sub.is_stripe and sub.status in LIVE:
            return sub
        if sub.status == Status.ACTIVE:
            if sub.plan != plan:
                sub.record_change(actor=actor, action="subscription.start", plan=plan)
            return sub
        sub.transition(
            Status.ACTIVE,
            actor=actor,
            action="subscription.start",
            verb="start",
            **_fresh_start(plan=plan, provider=Provider.MANUAL),
        )
    return sub


def _fresh_start(*, plan: str, provider: str) -> dict:
    """The fields of a subscription that starts now without Stripe."""
    return {
        "plan": plan,
        "provider": provider,
        "started_at": timezone.now(),
        "canceled_at": None,
        "cancel_at": None,
        "current_period_end": None,
        "past_due_since": None,
        "stripe_subscription_id": None,
        "stripe_state_at": None,
    }


@dataclass(frozen=True)
class _Claim:
    token: uuid.UUID | None = None  # ours: go ahead and talk to Stripe
    existing: Subscription | None = None  # a live one: answer it
    # neither: another start holds the claim; wait


def _start_stripe(user: User, *, plan: str, payment_method: str | None, actor) -> StartResult:
    if not payment_method:
        raise DomainValidationError(
            "A payment method is required to subscribe.",
            details={"payment_method": ["This field is required."]},
        )
    deadline = time.monotonic() + START_WAIT_SECONDS
    while True:
        claim = _claim_start(user)
        if claim.existing is not None:
            return _answer_existing(claim.existing, actor=actor)
        if claim.token is not None:
            break
        if time.monotonic() >= deadline:
            raise InvalidTransition(
                "A subscription start for this account is still in progress; retry shortly.",
                details={"status": "starting"},
            )
        time.sleep(START_POLL_SECONDS)
    try:
        return _start_in_stripe(
            user, plan=plan, payment_method=payment_method, token=claim.token, actor=actor
        )
    finally:
        _release_claim(user, claim.token)


def _claim_start(user: User) -> _Claim:
    """Step 1 (row locked): a live Stripe subscription → answer it; a fresh claim by another
    start → wait; otherwise claim the row for this start."""
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        if sub.start_token is not None and not _claim_expired(sub):
            return _Claim()
        if sub.status in LIVE and (sub.is_stripe or sub.status == Status.ACTIVE):
            # A live Stripe one, or access granted another way (manual, complimentary): no
            # second subscription, no charge.
            return _Claim(existing=sub)
        token = uuid.uuid4()
        sub.start_token, sub.start_claimed_at = token, timezone.now()
        sub.save(update_fields=["start_token", "start_claimed_at", "updated_at"])
    return _Claim(token=token)


def _claim_expired(sub: Subscription) -> bool:
    age = timezone.now() - (sub.start_claimed_at or timezone.now())
    return age.total_seconds() > START_CLAIM_TIMEOUT_SECONDS


def _release_claim(user: User, token: uuid.UUID) -> None:
    """Clear this start's claim (a no-op once its outcome was written or another took over)."""
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        if sub.start_token == token:
            sub.start_token, sub.start_claimed_at = None, None
            sub.save(update_fields=["start_token", "start_claimed_at", "updated_at"])


def _answer_existing(sub: Subscription, *, actor) -> StartResult:
    """A start while a subscription is live: the same one. Incomplete: its PaymentIntent's
    client_secret, read again from Stripe (which may also say it got paid meanwhile). A
    cancellation pending at the period's end is withdrawn: starting again means staying."""
    if not sub.is_stripe or not sub.stripe_subscription_id:
        return StartResult(sub)
    if sub.status == Status.INCOMPLETE:
        state = stripe_billing.retrieve_subscription(sub.stripe_subscription_id)
        sub = _apply_response(sub, state, actor=actor, action="subscription.sync")
        secret = state.client_secret if sub.status == Status.INCOMPLETE else None
        return StartResult(sub, client_secret=secret)
    if sub.cancel_at is not None and sub.status in (Status.ACTIVE, Status.PAST_DUE):
        state = stripe_billing.set_cancel_at_period_end(sub.stripe_subscription_id, cancel=False)
        return StartResult(_apply_response(sub, state, actor=actor, action="subscription.resume"))
    return StartResult(sub)


def _start_in_stripe(
    user: User, *, plan: str, payment_method: str, token: uuid.UUID, actor
) -> StartResult:
    """Step 2 (no lock held): Customer, default payment method, subscription; then step 3."""
    key = f"strathwell-start-{token}"
    customer_id = _ensure_customer(user)
    stripe_billing.set_default_payment_method(
        customer_id=customer_id, payment_method=payment_method, key=key
    )
    live = stripe_billing.live_subscriptions(customer_id)
    if live:  # made by a start that died before writing it down: adopt it
        state = stripe_billing.retrieve_subscription(live[0].id)
    else:
        state = stripe_billing.create_subscription(
            customer_id=customer_id, plan=plan, user_id=user.pk, key=key
        )
        if state.status == Status.INCOMPLETE and state.intent_status == "requires_payment_method":
            # Declined: nothing the organizer can confirm. Leave no subscription behind.
            stripe_billing.discard_subscription(state.id)
            raise PaymentFailed(
                state.payment_error or PaymentFailed.default_message,
                details={"decline_code": "card_declined"},
            )
    if state.status not in LIVE:
        raise PaymentProviderError(
            f"Stripe answered the new subscription with status {state.stripe_status!r}.",
            details={"stripe_status": state.stripe_status},
        )
    sub = _record_start(user, state, plan=plan, token=token, actor=actor)
    secret = state.client_secret if sub.status == Status.INCOMPLETE else None
    return StartResult(sub, client_secret=secret)


def _ensure_customer(user: User) -> str:
    """The organizer's Stripe Customer, made once: the stored one, else the one an earlier
    (dead) start made, else a new one. Only the start holding the claim gets here."""
    stored = Subscription.objects.filter(pk=user.pk).values_list("stripe_customer_id", flat=True)
    if stored and stored[0]:
        return stored[0]
    customer_id = stripe_billing.find_customer(
        user_id=user.pk, email_address=user.email
    ) or stripe_billing.create_customer(
        user_id=user.pk, email_address=user.email, full_name=user.full_name
    )
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        if not sub.stripe_customer_id:
            sub.stripe_customer_id = customer_id
            sub.save(update_fields=["stripe_customer_id", "updated_at"])
    return sub.stripe_customer_id


def _record_start(
    user: User, state: StripeSubscription, *, plan: str, token: uuid.UUID, actor
) -> Subscription:
    """Step 3 (row locked): the new Stripe subscription becomes the organizer's, in its state;
    the claim is released in the same write."""
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        if sub.stripe_subscription_id == state.id:  # written already (a resumed start)
            return sub
        changes = {
            "plan": state.plan or plan,
            "provider": Provider.STRIPE,
            "stripe_subscription_id": state.id,
            "stripe_state_at": state.stamp,
            "started_at": state.started_at or timezone.now(),
            "canceled_at": None,
            "cancel_at": state.cancel_at,
            "current_period_end": state.current_period_end,
            "past_due_since": stripe_billing.when(state.stamp)
            if state.status == Status.PAST_DUE
            else None,
        }
        if sub.start_token == token:
            changes.update(start_token=None, start_claimed_at=None)
        if sub.status == state.status:
            sub.record_change(actor=actor, action="subscription.start", **changes)
        else:
            sub.transition(
                state.status, actor=actor, action="subscription.start", verb="start", **changes
            )
    return sub


# --- cancel -------------------------------------------------------------------------------------


def cancel_subscription(
    user: User, *, actor=None, immediately: bool = False, reason: str = ""
) -> Subscription:
    """Cancel the organizer's subscription.

    Stripe: at the period's end (`cancel_at_period_end`; status stays active with `cancel_at`,
    access runs until then, Stripe's `deleted` event cancels it), or at once with
    `immediately` (staff) and for an incomplete one nobody paid. Manual and complimentary: at
    once. Nothing live to cancel → InvalidTransition (409), nothing written."""
    actor = actor or user
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        cancelable = {Status.ACTIVE} if not sub.is_stripe else LIVE
        if sub.status not in cancelable:
            raise InvalidTransition(
                "There is no active subscription to cancel.", details={"status": sub.status}
            )
        if not sub.is_stripe:
            sub.transition(
                Status.CANCELED,
                actor=actor,
                action="subscription.cancel",
                reason=reason,
                verb="cancel",
                canceled_at=timezone.now(),
            )
            return sub
        now = immediately or sub.status == Status.INCOMPLETE
        if not now and sub.cancel_at is not None:
            return sub  # already canceled at the period's end
        subscription_id = sub.stripe_subscription_id
    if now:
        state = stripe_billing.cancel_now(subscription_id)
    else:
        state = stripe_billing.set_cancel_at_period_end(subscription_id, cancel=True)
    return _apply_response(sub, state, actor=actor, action="subscription.cancel", reason=reason)


# --- staff --------------------------------------------------------------------------------------


def grant_complimentary(user: User, *, plan: str, actor, reason: str) -> Subscription:
    """Staff: give the organizer an active subscription without payment (audited with the staff
    actor and reason), until canceled. Refused while a Stripe subscription is live (cancel it
    first) and for non-organizers; granting the same plan again changes nothing."""
    if not user.is_organizer:
        raise InvalidTransition("Only organizers have subscriptions.", details={"role": user.role})
    with transaction.atomic():
        sub = lock_subscription(user.pk)
        if sub.is_stripe and sub.status in LIVE:
            sub.refuse(
                verb="grant",
                error="This organizer pays through Stripe (subscription {old}); cancel it first.",
            )
        if sub.status == Status.ACTIVE:
            if (sub.provider, sub.plan) != (Provider.COMPLIMENTARY, plan):
                sub.record_change(
                    actor=actor,
                    action="subscription.grant_complimentary",
                    reason=reason,
                    provider=Provider.COMPLIMENTARY,
                    plan=plan,
                )
            return sub
        sub.transition(
            Status.ACTIVE,
            actor=actor,
            action="subscription.grant_complimentary",
            reason=reason,
            verb="grant",
            **_fresh_start(plan=plan, provider=Provider.COMPLIMENTARY),
        )
    return sub


# --- writing Stripe's state back ----------------------------------------------------------------


def _is_stale(sub: Subscription, *, stamp: int, status: str, ours: bool = False) -> bool:
    """Whether a Stripe state stamped `stamp` is older than what the row holds (see the module
    docstring). `ours`: the response to our own call, which wins a tie."""
    if sub.status == Status.CANCELED:
        return True
    if sub.stripe_state_at is None or stamp > sub.stripe_state_at:
        return False
    if stamp < sub.stripe_state_at:
        return True
    return not ours and Subscription.RANK[status] <= Subscription.RANK[sub.status]


def _apply_response(
    sub: Subscription, state: StripeSubscription, *, actor, action: str, reason: str = ""
) -> Subscription:
    """Write the state Stripe answered one of our calls with (row locked, re-read)."""
    with transaction.atomic():
        locked = lock_subscription(sub.pk)
        if locked.stripe_subscription_id != state.id:
            return locked  # replaced meanwhile by a newer subscription
        if not _is_stale(locked, stamp=state.stamp, status=state.status, ours=True):
            _move(locked, state, actor=actor, action=action, reason=reason)
    return locked


def _move(
    sub: Subscription, state: StripeSubscription, *, actor, action: str, reason: str = ""
) -> None:
    """Bring the locked row to a (fresher) Stripe state: a status transition with the fields
    that go with it, or a plain audited change, or only the new stamp when nothing else moved."""
    status = state.status
    at = stripe_billing.when(state.stamp) or timezone.now()
    changes = {
        "stripe_state_at": max(state.stamp, sub.stripe_state_at or 0),
        "current_period_end": state.current_period_end or sub.current_period_end,
        "cancel_at": state.cancel_at if status in (Status.ACTIVE, Status.PAST_DUE) else None,
    }
    if state.plan:
        changes["plan"] = state.plan
    if status == Status.PAST_DUE:
        changes["past_due_since"] = sub.past_due_since or at
    elif status == Status.ACTIVE:
        changes["past_due_since"] = None
    if status == Status.CANCELED:
        changes["canceled_at"] = state.ended_at or at
    _write(sub, status, changes, actor=actor, action=action, reason=reason)


def _write(sub: Subscription, status: str, changes: dict, *, actor, action, reason) -> None:
    if status != sub.status:
        sub.transition(
            status,
            actor=actor,
            action=action,
            reason=reason,
            verb=f"move to {status}",
            **changes,
        )
        return
    visible = {k: v for k, v in changes.items() if k != "stripe_state_at"}
    if any(getattr(sub, field) != value for field, value in visible.items()):
        sub.record_change(actor=actor, action=action, reason=reason, **changes)
    elif changes["stripe_state_at"] != sub.stripe_state_at:
        sub.stripe_state_at = changes["stripe_state_at"]
        sub.save(update_fields=["stripe_state_at", "updated_at"])


# --- webhooks -----------------------------------------------------------------------------------


def handle_stripe_event(event: dict) -> tuple[str, str]:
    """Apply one verified Stripe subscription or invoice event.

    Called by the webhook inbox (`payments.webhooks`), which records the event once by its id,
    holds its row lock and runs this inside a savepoint; the subscription row is locked next.
    No Stripe call is made. Returns (outcome, note): `processed`, `stale` (older than the
    state we hold: nothing changed) or `ignored` (not one of our subscriptions)."""
    event_type = event.get("type")
    obj = (event.get("data") or {}).get("object") or {}
    stamp = event.get("created")
    if not isinstance(obj, dict) or not isinstance(stamp, int) or isinstance(stamp, bool):
        return IGNORED, "the event carries no object or no created time"
    reason = f"Stripe event {event.get('id')} ({event_type})"
    if event_type in (SUBSCRIPTION_CREATED, SUBSCRIPTION_UPDATED, SUBSCRIPTION_DELETED):
        if obj.get("object") != "subscription" or not obj.get("id"):
            return IGNORED, "the event carries no subscription"
        state = stripe_billing.parse_subscription(obj, stamp=stamp)
        if event_type == SUBSCRIPTION_DELETED:
            state = replace(state, status=Status.CANCELED)
        return _apply_event(state.id, reason=reason, apply=lambda sub: state)
    if event_type in (INVOICE_SUCCEEDED, INVOICE_FAILED):
        subscription_id = stripe_billing.invoice_subscription_id(obj)
        if obj.get("object") != "invoice" or not subscription_id:
            return IGNORED, "not a subscription invoice"
        paid = event_type == INVOICE_SUCCEEDED
        return _apply_event(
            subscription_id,
            reason=reason,
            apply=lambda sub: _invoice_state(sub, obj, paid=paid, stamp=stamp),
        )
    return IGNORED, f"event type {event_type} is not a subscription event"


EVENT_ACTIONS = {
    Status.INCOMPLETE: "subscription.incomplete",
    Status.ACTIVE: "subscription.activate",
    Status.PAST_DUE: "subscription.past_due",
    Status.CANCELED: "subscription.ended",
}


def _apply_event(subscription_id: str, *, reason: str, apply) -> tuple[str, str]:
    """Find the organizer whose current subscription this is, lock it, and apply the state
    `apply(locked)` derives from the event unless it is stale."""
    found = Subscription.objects.filter(stripe_subscription_id=subscription_id).first()
    if found is None:
        return IGNORED, f"subscription {subscription_id} is not an organizer's current one"
    with transaction.atomic():
        sub = lock_subscription(found.pk)
        if sub.stripe_subscription_id != subscription_id:
            return IGNORED, f"subscription {subscription_id} was replaced by a newer one"
        state = apply(sub)
        if state is None:
            return STALE, f"nothing to apply to a {sub.status} subscription"
        if _is_stale(sub, stamp=state.stamp, status=state.status):
            return STALE, f"older than the state held ({sub.status} at {sub.stripe_state_at})"
        same = state.status == sub.status
        action = "subscription.update" if same else EVENT_ACTIONS[state.status]
        try:
            _move(sub, state, actor=None, action=action, reason=reason)
        except InvalidTransition as exc:  # a state Stripe cannot reach from ours: keep ours
            return STALE, f"not applied: {exc.message}"
    return PROCESSED, ""


def _invoice_state(
    sub: Subscription, invoice: dict, *, paid: bool, stamp: int
) -> StripeSubscription | None:
    """What a paid or failed invoice says about the subscription: paid → active (a renewal
    extends the period); failed → an active one is past_due (an incomplete one stays
    incomplete: the organizer can still confirm or change the card)."""
    if sub.status not in LIVE:
        return None
    if paid:
        status = Status.ACTIVE
    else:
        status = Status.PAST_DUE if sub.status == Status.ACTIVE else sub.status
    period_end = stripe_billing.invoice_period_end(invoice)
    if sub.current_period_end and (period_end is None or period_end < sub.current_period_end):
        period_end = sub.current_period_end
    return StripeSubscription(
        id=sub.stripe_subscription_id,
        customer=sub.stripe_customer_id,
        stripe_status="",
        status=status,
        plan=None,
        current_period_end=period_end,
        cancel_at=sub.cancel_at,
        started_at=sub.started_at,
        ended_at=None,
        user_id=str(sub.pk),
        stamp=stamp,
    )
