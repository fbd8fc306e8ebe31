"""Every flow that moves or freezes money, in one place.

Models own their transitions (lock, re-read, guard, write, signal); the flows here own what
spans apps, and call those transitions inside ONE transaction that takes its row locks in the
project's lock order (`payments.locks`: webhook event → booking → lines → vendor units →
payment → payouts → dispute):

- `record_payment_success`: payment (deposit or balance) succeeded → booking paid →
  allocation → ledger (`payments.ledger`) → payouts;
- `cancel_booking` / `complete_booking`: the booking's transition, then its payments voided and
  a paid booking refunded by the cancellation policy (cancel) or its completion payouts made
  eligible (complete);
- `expire_booking` / `complete_event`: the same for the periodic jobs (actor `system`), each
  re-checking under the booking's lock that the booking is still due;
- `add_vendor` / `remove_vendor`: a line change that voids the deposit of a payable booking;
- `open_dispute` / `change_dispute_status` (and `start_dispute_review`, `resolve_dispute`):
  the dispute's transition, then the payouts it freezes, releases or refunds;
- refunds: `refund_payment` (staff), `refund_payout` (one payout), `execute_refund`,
  `apply_refund_result` (Stripe's answer or webhook), `retry_refund` — see "refunds" below.

Creating a PaymentIntent idempotently is `payments.deposits`. No Stripe call is ever made while
a row lock is held (cancellations of PaymentIntents run after the commit; a refund is reserved
in one transaction, sent to Stripe, then applied in another). Refunds are locked with or after
their payment and before any payout (`payments.locks`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from bookings.models import Booking
from disputes.models import Dispute
from payments import ledger, locks, stripe_client
from payments.allocation import allocate
from payments.models import Allocation, Payment, Payout, Refund, RefundLine
from strathwell.audit import services as audit
from strathwell.exceptions import (
    DomainValidationError,
    InvalidTransition,
    NothingToRefund,
    PaymentProviderError,
)
from strathwell.money import round_half_up
from strathwell.system import SYSTEM
from vendors import availability

logger = logging.getLogger("strathwell.payments")


# --- payment success ---------------------------------------------------------------------------


def record_payment_success(
    payment: Payment, *, event=None, actor=None, savepoint: bool = True
) -> bool:
    """A payment's money arrived: in ONE transaction, payment `succeeded` → booking `paid` (a
    deposit) → allocation (API.md's formula) → ledger (`held_funds`, one `platform_fee` per
    vendor) → payouts: per booking vendor a `reservation` and a `completion` payout for a
    deposit, one more `completion` payout for a balance, all `locked`. The booking's other
    pending or failed payments are voided (their intents canceled after the commit).

    Locks booking → booking vendors → their capacity units (held → booked, in
    `Booking.mark_paid`) → payment (`payments.locks`). Guarded by
    `payments.payouts_created_at`: it happens once; a repeat returns False and changes nothing.
    Raises InvalidTransition when the money cannot be applied (payment canceled, booking not
    payable, booking already paid by another payment of that kind) — the caller records that
    for staff. `savepoint=False` for a caller that already wraps it in a savepoint of its own
    (the webhook's handler block) and so cannot go on after a refusal anyway.
    """
    reason = f"Stripe event {event.stripe_event_id}" if event is not None else ""
    with transaction.atomic(savepoint=savepoint):
        booking = locks.lock_booking(payment.booking_id)
        lines = locks.lock_lines(booking.pk)
        # Booked by `mark_paid` below; `lines` are all of the booking's lines, locked above.
        units = locks.lock_booking_units(booking.pk, line_ids=[line.pk for line in lines])
        # The booking's payments, this one included, in one lock: is it already paid by
        # another payment of this kind, and which pending ones must be voided?
        payments = locks.lock_payments(booking.pk, statuses=Payment.Status.values)
        locked = next(p for p in payments if p.pk == payment.pk)
        if locked.payouts_created_at is not None:
            return False
        other = next(
            (
                p
                for p in payments
                if p.pk != locked.pk and p.kind == locked.kind and p.status == "succeeded"
            ),
            None,
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
        is_balance = locked.kind == Payment.Kind.BALANCE
        if is_balance and booking.status not in Booking.ALREADY_PAID:
            raise InvalidTransition(
                f"A balance cannot be applied to a {booking.status} booking; its money "
                f"({locked.amount_cents} {locked.currency}) must be refunded by staff.",
                details={"payment_id": str(locked.pk), "booking_status": booking.status},
            )

        # The locked booking and lines, attached for the receivers of the signals below (the
        # notifications read them; no query again).
        booking._prefetched_objects_cache = {"vendors": lines}
        locked.booking = booking
        # The audit rows of the payment's, the booking's and the units' transitions: one
        # INSERT (an exception leaving the block rolls the whole flow back, rows included).
        with audit.collected():
            locked = locked.mark_succeeded(
                actor=actor, reason=reason, locked=True, payouts_created_at=timezone.now()
            )
            if locked.payouts_created_at is None:  # it had succeeded already (no transition)
                locked.payouts_created_at = timezone.now()
                locked.save(update_fields=["payouts_created_at", "updated_at"])
            if is_balance:
                booking.record_money(received=locked.amount_cents)
            else:
                booking = booking.mark_paid(
                    actor=actor,
                    payment=locked,
                    received_cents=locked.amount_cents,
                    locked=True,
                    units=units,
                )
        # The booking is paid: its other payments (a failed one is still payable with another
        # card) must not charge the organizer a second time. Payments before payouts.
        _void_payments(
            [p for p in payments if p.pk != locked.pk and p.status in VOIDABLE],
            actor=actor,
            reason=f"booking paid by payment {locked.pk}",
        )

        allocations = allocate(
            locked.amount_cents,
            [line.agreed_price_cents for line in lines],
            commission_percent=settings.PLATFORM_COMMISSION_PERCENT,
            reservation_percent=0 if is_balance else settings.RESERVATION_RELEASE_PERCENT,
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
        # One held_funds of P, and one platform_fee per vendor (also when the fee rounds to
        # 0, so every vendor's split is visible in the ledger).
        ledger.post(
            [ledger.held_funds(locked)]
            + [
                ledger.platform_fee(
                    locked,
                    line=line,
                    share_cents=a.share_cents,
                    fee_cents=a.fee_cents,
                    memo=f"{settings.PLATFORM_COMMISSION_PERCENT}% commission on {a.share_cents}",
                )
                for line, a in shares
            ]
        )
        kinds = (
            [(Payout.Kind.COMPLETION, "completion_cents")]
            if is_balance
            else [
                (Payout.Kind.RESERVATION, "reservation_cents"),
                (Payout.Kind.COMPLETION, "completion_cents"),
            ]
        )
        Payout.objects.bulk_create(
            Payout(
                vendor_id=line.vendor_id,
                booking=booking,
                booking_vendor=line,
                payment=locked,
                kind=kind,
                amount_cents=getattr(a, field),
                currency=locked.currency,
                status=Payout.Status.LOCKED,
            )
            for line, a in shares
            for kind, field in kinds
        )
        if booking.status == Booking.Status.COMPLETED:
            # A balance that arrived after completion: its payouts are due at once.
            on_booking_completed(booking, actor=actor)
    return True


# --- a booking's lifecycle -------------------------------------------------------------------


def cancel_booking(booking, *, actor, reason: str = "", by_staff: bool = False) -> Booking:
    """Cancel a booking and settle its money. The organizer cancels before the event starts
    (`Booking.cancel`); staff cancel from any non-final state with a reason
    (`Booking.admin_cancel`). Pending and failed payments are voided. When money was paid
    (`on_booking_canceled`): staff's cancel refunds everything refundable; the organizer's
    follows the cancellation policy (≥ CANCELLATION_FULL_REFUND_DAYS before the event:
    everything refundable; later: all but the vendors' reservation payouts, which become
    `eligible` for them to keep). The payouts a refund draws from are held until it succeeds.

    An unpaid booking's capacity holds are released (in `Booking.cancel`/`admin_cancel`); a
    paid one's booked units are released when it is refunded (`_release_capacity`).

    One transaction (locks booking → units → payments → refunds → payouts) cancels and reserves
    the refunds; their Stripe calls are made after it commits, with no lock held. A refund Stripe
    refuses stays `failed` (retryable, its payouts untouched and held) and the call raises
    PaymentProviderError (502) naming it — the booking stays canceled."""
    with transaction.atomic():
        locked = locks.lock_booking(booking.pk)
        was_paid = locked.is_paid_or_later
        if was_paid and not by_staff and Dispute.open_for_booking(locked.pk):
            raise InvalidTransition(
                "A booking with an open dispute cannot be canceled by its organizer; staff "
                "decide the dispute first.",
                details={"booking_id": str(locked.pk), "status": locked.status},
            )
        if by_staff:
            canceled = booking.admin_cancel(actor=actor, reason=reason)
        else:
            canceled = booking.cancel(actor=actor, reason=reason)
        if was_paid:  # the lock order: the vendors' date units before the payments
            _release_capacity(canceled, actor=actor)
        refunds = on_booking_canceled(
            canceled, actor=actor, reason=reason or "", by_staff=by_staff, was_paid=was_paid
        )
    execute_refunds(refunds, actor=actor)
    return canceled


def complete_booking(booking, *, actor, reason: str = "", by_staff: bool = False) -> Booking:
    """Complete a booking (`Booking.complete` by its organizer or the system, or staff's
    `force_complete` with a reason) and make its completion payouts eligible in the same
    transaction (`on_booking_completed`). Locks booking → payouts."""
    with transaction.atomic():
        locks.lock_booking(booking.pk)
        if by_staff:
            completed = booking.force_complete(actor=actor, reason=reason)
        else:
            completed = booking.complete(actor=actor, reason=reason)
        on_booking_completed(completed, actor=actor)
    return completed


# --- timed transitions (the periodic jobs; actor `system`) ---------------------------------------


def expire_booking(booking, *, now=None) -> Booking | None:
    """`expire_unpaid_bookings`: a booking `ready_for_payment` for PAYMENT_WINDOW_HOURS becomes
    `expired` (final) and, in the same transaction, its pending and failed payments are voided
    (their PaymentIntents canceled at Stripe after the commit) and its vendors' date holds are
    released. Locks booking → payments and re-checks the window on the locked booking; None
    when it is no longer due (paid, canceled, reopened, or expired by another run)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = locks.lock_booking(booking.pk)
        if not locked.payment_overdue(now):
            return None
        reason = (
            f"expire_unpaid_bookings: not paid within {settings.PAYMENT_WINDOW_HOURS} hours "
            f"of becoming ready ({locked.ready_at.isoformat()})"
        )
        expired = locked.expire(actor=SYSTEM, reason=reason)
        # The lock order: the vendors' date units come before the payments.
        release_availability_holds(expired, reason="booking expired unpaid")
        _void_pending_payments(expired, actor=SYSTEM, reason="booking expired unpaid")
    return expired


def release_availability_holds(booking, *, reason: str, actor=SYSTEM) -> int:
    """Release the vendors' date holds (and booked units) of a booking whose money will not
    stay: it ends unpaid (expiry) or its payment went back (a refund). Inside its transaction,
    with the booking locked. Returns how many units were released."""
    return availability.release_for_booking(booking.pk, actor=actor, reason=reason)


def complete_event(booking, *, today=None) -> Booking | None:
    """`complete_events`: an `in_progress` booking COMPLETION_GRACE_DAYS after its event date
    and without an open dispute is completed by the system through `complete_booking` (its
    completion payouts become eligible). Locks the booking and re-checks; None when it is no
    longer due or a dispute is open (the dispute's decision settles it)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = locks.lock_booking(booking.pk)
        if not locked.completion_due(today) or Dispute.open_for_booking(locked.pk):
            return None
        return complete_booking(
            locked,
            actor=SYSTEM,
            reason=(
                f"complete_events: {settings.COMPLETION_GRACE_DAYS} days after the event date "
                f"{locked.event_date}"
            ),
        )


def on_booking_completed(booking, *, actor=None):
    """Inside `complete_booking`'s transaction (booking locked): the booking's locked completion
    payouts become eligible. While a dispute on the booking is open they stay locked (the
    dispute's resolution decides)."""
    if Dispute.open_for_booking(booking.pk):
        return []
    payouts = locks.lock_payouts(
        booking.pk, statuses=[Payout.Status.LOCKED], kind=Payout.Kind.COMPLETION
    )
    return [payout.make_eligible(actor=actor) for payout in payouts]


def on_booking_canceled(booking, *, actor=None, reason="", by_staff=False, was_paid=False):
    """Inside `cancel_booking`'s transaction (booking locked): void the pending and failed
    payments (see `_void_pending_payments`), then, when the booking had been paid, apply the
    cancellation policy and reserve its refunds. Returns the pending refunds to execute."""
    label = f"booking canceled: {reason}".strip() if reason else "booking canceled"
    # Payments before payouts: the global lock order.
    _void_pending_payments(booking, actor=actor, reason=label)
    if not was_paid:
        return []
    full = by_staff or cancellation_is_full_refund(booking)
    locks.lock_payments(booking.pk, statuses=[Payment.Status.SUCCEEDED])
    unpaid = locks.lock_payouts(
        booking.pk, statuses=[Payout.Status.LOCKED, Payout.Status.ELIGIBLE, Payout.Status.HELD]
    )
    refunded_from = []
    for payout in unpaid:
        if not full and payout.kind == Payout.Kind.RESERVATION:
            # Late cancel: the vendor keeps its reservation payout.
            payout.keep_on_cancellation(actor=actor, reason=label)
            continue
        if payout.status != Payout.Status.HELD:
            payout = payout.hold(actor=actor, reason=label)
        refunded_from.append(payout)
    origin = Refund.Origin.CANCELLATION
    policy = "staff cancel" if by_staff else ("full refund" if full else "reservations kept")
    return _reserve_refunds(
        booking,
        payouts=refunded_from,
        actor=actor,
        origin=origin,
        reason=f"{label} ({policy})",
    )


def cancellation_is_full_refund(booking) -> bool:
    """The organizer's cancel of a paid booking refunds everything refundable when made at
    least CANCELLATION_FULL_REFUND_DAYS days before the event."""
    days_before = (booking.event_date - timezone.localdate()).days
    return days_before >= settings.CANCELLATION_FULL_REFUND_DAYS


def _release_capacity(booking, *, actor) -> int:
    """A paid booking was canceled (its money refunded by the policy): its vendors' booked
    units on the event date are free again, in the cancel's transaction (booking locked).
    Returns how many units were released."""
    return availability.release_for_booking(
        booking.pk, actor=actor, reason="The paid booking was canceled and refunded."
    )


# --- a payable booking's lines -----------------------------------------------------------------


def add_vendor(booking, *, actor, vendor, proposed_price_cents: int):
    """`Booking.add_vendor`; on a `ready_for_payment` booking its pending deposit, priced on the
    old lines, is voided in the same transaction (the organizer pays afresh once the booking is
    ready again). Returns the new line."""
    with transaction.atomic():
        was_payable = locks.lock_booking(booking.pk).status == Booking.Status.READY
        line = booking.add_vendor(
            actor=actor, vendor=vendor, proposed_price_cents=proposed_price_cents
        )
        if was_payable:
            on_booking_lines_changed(line.booking, actor=actor)
    return line


def remove_vendor(booking, *, actor, line) -> Booking:
    """`Booking.remove_vendor`, voiding a payable booking's pending deposit like `add_vendor`."""
    with transaction.atomic():
        was_payable = locks.lock_booking(booking.pk).status == Booking.Status.READY
        changed = booking.remove_vendor(actor=actor, line=line)
        if was_payable:
            on_booking_lines_changed(changed, actor=actor)
    return changed


def on_booking_lines_changed(booking, *, actor=None):
    """The lines of a `ready_for_payment` booking changed (a vendor added or removed): a pending
    deposit was priced on the old lines, so it is voided."""
    _void_pending_payments(booking, actor=actor, reason="booking vendors changed")


def _void_pending_payments(booking, *, actor=None, reason=""):
    """Mark the booking's pending and failed payments canceled in this transaction (so a new
    payment can start at once, even when Stripe is unreachable) and cancel their PaymentIntents
    at Stripe after the commit, best effort. A failed PaymentIntent is still payable with
    another card (failed → succeeded), so it is voided too: else its old amount could pay the
    booking after its lines changed. Should one succeed anyway, its webhook finds a canceled
    payment and records a `mismatch` (refund needed) for staff instead of applying it."""
    _void_payments(locks.lock_payments(booking.pk, statuses=VOIDABLE), actor=actor, reason=reason)


VOIDABLE = (Payment.Status.PENDING, Payment.Status.FAILED)


def _void_payments(pending, *, actor=None, reason=""):
    """`_void_pending_payments` for payments already locked."""
    for payment in pending:
        payment.mark_canceled(actor=actor, reason=reason)
        if payment.stripe_payment_intent_id:
            transaction.on_commit(
                lambda intent_id=payment.stripe_payment_intent_id: (
                    stripe_client.cancel_payment_intent(intent_id)
                )
            )


# --- disputes ------------------------------------------------------------------------------------


def open_dispute(*, booking, opened_by, reason: str, description: str = "") -> Dispute:
    """A participant opens a dispute (`Dispute.open`) and, in the same transaction, every
    `eligible` payout of the booking is held with `hold_reason` naming the dispute and
    `held_by_dispute` set. Locks booking → its eligible payouts → the new dispute. The caller
    screens the reason and description first."""
    with transaction.atomic():
        locks.lock_booking(booking.pk)
        payouts = locks.lock_payouts(booking.pk, statuses=[Payout.Status.ELIGIBLE])
        dispute = Dispute.open(
            booking=booking, opened_by=opened_by, reason=reason, description=description
        )
        hold_reason = f"dispute {dispute.pk}: {dispute.reason}"
        for payout in payouts:
            payout.hold(actor=opened_by, reason=hold_reason, dispute=dispute)
    return dispute


def start_dispute_review(dispute, *, actor, note: str = "") -> Dispute:
    """Staff take the dispute: open → under_review. Payouts stay frozen."""
    return change_dispute_status(
        dispute, actor=actor, status=Dispute.Status.UNDER_REVIEW, note=note
    )


def resolve_dispute(dispute, *, actor, status: str, resolution_note: str) -> Dispute:
    """Staff decide the dispute: under_review → resolved | refunded | adjusted."""
    if status not in Dispute.FINAL_STATUSES:
        raise DomainValidationError(
            f"status: {status!r} does not decide a dispute.",
            details={"status": [f"Must be one of {', '.join(Dispute.FINAL_STATUSES)}."]},
        )
    return change_dispute_status(dispute, actor=actor, status=status, note=resolution_note)


def change_dispute_status(dispute, *, actor, status: str, note: str = "") -> Dispute:
    """`Dispute.change_status`, and a decision settles the booking's money in the same
    transaction. Locks booking → payments → refunds → its held and locked payouts → the
    dispute; the dispute's new status is written FIRST (so the payout guards no longer see an
    open dispute):

    - `resolved`: the payouts this dispute held are released (back to `eligible`, or to
      `locked` if they were never due), and completion payouts of a completed booking that
      the dispute kept locked become `eligible`;
    - `refunded`: what the dispute froze — the payouts it held and the booking's still-locked
      payouts (held by it now) — is refunded to the organizer through Stripe, with the fee on
      it; the refunds' Stripe calls are made after the commit (a failure: PaymentProviderError,
      the refund `failed` and retryable, the payouts still held by the dispute);
    - `adjusted`: the held payouts stay `held` for staff to settle one by one (release,
      reverse, or refund a payout: `refund_payout`), with the completion payouts the dispute
      kept locked.
    """
    final = status in Dispute.FINAL_STATUSES
    refunds = []
    with transaction.atomic():
        locks.lock_booking_row(dispute.booking_id)
        if final:
            locks.lock_payments(dispute.booking_id, statuses=[Payment.Status.SUCCEEDED])
            locks.lock_payouts(
                dispute.booking_id, statuses=[Payout.Status.HELD, Payout.Status.LOCKED]
            )
        decided = dispute.change_status(actor=actor, status=status, note=note)
        if final:
            refunds = _settle_disputed_payouts(decided, actor=actor)
    execute_refunds(refunds, actor=actor)
    return decided


def _settle_disputed_payouts(dispute: Dispute, *, actor) -> list[Refund]:
    """Apply a dispute's decision to the booking's money (booking and unpaid payouts locked,
    the dispute already decided). Returns the refunds to execute after the commit."""
    reason = f"dispute {dispute.pk} {dispute.status}: {dispute.resolution_note}"
    held = list(
        Payout.objects.filter(held_by_dispute_id=dispute.pk, status=Payout.Status.HELD).order_by(
            "id"
        )
    )
    if dispute.status == Dispute.Status.RESOLVED:
        for payout in held:
            payout.release(actor=actor, reason=reason)
        for payout in _completions_kept_locked(dispute):
            payout.make_eligible(actor=actor)
        return []
    if dispute.status == Dispute.Status.REFUNDED:
        locked_payouts = Payout.objects.filter(
            booking_id=dispute.booking_id, status=Payout.Status.LOCKED
        ).order_by("id")
        held += [
            payout.hold(actor=actor, reason=reason, dispute=dispute) for payout in locked_payouts
        ]
        return _reserve_refunds(
            dispute.booking,
            payouts=held,
            actor=actor,
            origin=Refund.Origin.DISPUTE,
            reason=reason,
            dispute=dispute,
        )
    # ADJUSTED: the held payouts stay held; staff release, reverse or refund each one.
    # Nothing else would ever move the kept-locked completion payouts, so they join the held
    # ones in the staff queue.
    for payout in _completions_kept_locked(dispute):
        payout.hold(actor=actor, reason=reason, dispute=dispute)
    return []


def _completions_kept_locked(dispute: Dispute):
    """The completion payouts of a completed booking, which stayed `locked` while the dispute
    was open (none when the booking is not completed)."""
    if dispute.booking.status != Booking.Status.COMPLETED:
        return []
    return Payout.objects.filter(
        booking_id=dispute.booking_id, kind=Payout.Kind.COMPLETION, status=Payout.Status.LOCKED
    ).order_by("id")


# --- refunds ----------------------------------------------------------------------------------
#
# Refundable on a payment = what its vendors have not been paid out (its unpaid, unreversed
# payouts, and the money of payouts staff reversed, waiting in the booking's escrow), with the
# platform fee on that part. The fee returned is always proportional to the net returned so
# far: after refunds of a total net n, round_half_up(n × F / N) of the payment's fees F (on its
# net N) has come back — so partial refunds add up to exactly what one refund would return.
#
# A refund is made in three steps: (1) one transaction (locks booking → payment → payouts)
# checks what is refundable, net of every pending or succeeded refund, and creates the refund
# `pending` with its draws (`RefundLine`) — while pending they are reserved: a payout a refund
# draws from cannot be approved or reversed; (2) Stripe's Refund API is called with no lock
# held (idempotency key from the refund's id); (3) one transaction applies Stripe's answer:
# `succeeded` reverses (or splits) the drawn payouts and writes the ledger; a failure leaves
# the refund `failed` — it no longer reserves anything, payouts untouched — and retryable.

DRAWABLE = (Payout.Status.LOCKED, Payout.Status.ELIGIBLE, Payout.Status.HELD)
REFUND_RETRY_AFTER_SECONDS = 600  # a pending refund with no Stripe answer for this long died


@dataclass
class RefundPlan:
    """What can be refunded from one payment (computed with its booking locked)."""

    payment: Payment
    fees_cents: int  # F: the payment's platform fees
    net_cents: int  # N: the payment's vendor net (P − F)
    refunded_net_cents: int  # net of pending + succeeded refunds
    refunded_fee_cents: int  # fee of pending + succeeded refunds
    sources: list = field(default_factory=list)  # [(payout or None for escrow, available)]

    @property
    def available_net_cents(self) -> int:
        return sum(cents for _source, cents in self.sources)

    def fee_returned_after(self, net: int) -> int:
        """Total fee returned once `net` in total has been refunded."""
        if self.net_cents <= 0:
            return 0
        return min(self.fees_cents, round_half_up(Fraction(net * self.fees_cents, self.net_cents)))

    def _fee_for(self, net: int) -> int:
        return max(
            0, self.fee_returned_after(self.refunded_net_cents + net) - self.refunded_fee_cents
        )

    @property
    def refundable_cents(self) -> int:
        available = self.available_net_cents
        return available + self._fee_for(available)

    def split(self, amount: int) -> tuple[int, int]:
        """(net, fee) of a refund of `amount` (≤ refundable): the most net whose proportional
        fee fits, the rest as fee."""
        low, high = 0, min(amount, self.available_net_cents)
        while low < high:  # largest n with n + fee(n) <= amount (monotone)
            mid = (low + high + 1) // 2
            if mid + self._fee_for(mid) <= amount:
                low = mid
            else:
                high = mid - 1
        return low, amount - low

    def draws(self, net: int) -> list[tuple[Payout | None, int]]:
        """Where `net` comes from: escrow first (if a source), then payouts in order."""
        result, left = [], net
        for source, available in self.sources:
            if left <= 0:
                break
            take = min(available, left)
            if take > 0:
                result.append((source, take))
                left -= take
        return result


def _draw_order(payout: Payout):
    # Completion payouts (due last) before reservations; then the vendors' booking order.
    kind_rank = 0 if payout.kind == Payout.Kind.COMPLETION else 1
    return (kind_rank, payout.booking_vendor.position, str(payout.pk))


def refund_plan(payment: Payment, *, payouts=None, include_escrow=True) -> RefundPlan:
    """What is refundable from `payment` now, drawing from `payouts` (default: all its unpaid,
    unreversed payouts) and, if `include_escrow`, its money in the booking's escrow. Call with
    the booking, the payment and those payouts locked."""
    fees = Allocation.objects.filter(payment=payment).aggregate(
        fee=Sum("fee_cents", default=0), share=Sum("share_cents", default=0)
    )
    active = Refund.objects.filter(
        payment=payment, status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED]
    ).aggregate(net=Sum("net_cents", default=0), fee=Sum("fee_cents", default=0))
    reserved = defaultdict(int)
    for row in (
        RefundLine.objects.filter(refund__payment=payment, refund__status=Refund.Status.PENDING)
        .values("payout_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    ):
        reserved[row["payout_id"]] = int(row["total"])
    if payouts is None:
        payouts = Payout.objects.filter(payment=payment, status__in=DRAWABLE)
    candidates = sorted(
        (
            p
            for p in Payout.objects.filter(
                pk__in=[p.pk for p in payouts], payment=payment, status__in=DRAWABLE
            ).select_related("booking_vendor")
        ),
        key=_draw_order,
    )
    sources = []
    if include_escrow:
        escrow = ledger.payment_escrow_cents(payment.pk) - reserved[None]
        if escrow > 0:
            sources.append((None, escrow))
    for payout in candidates:
        available = payout.amount_cents - reserved[payout.pk]
        if available > 0:
            sources.append((payout, available))
    return RefundPlan(
        payment=payment,
        fees_cents=int(fees["fee"]),
        net_cents=int(fees["share"]) - int(fees["fee"]),
        refunded_net_cents=int(active["net"]),
        refunded_fee_cents=int(active["fee"]),
        sources=sources,
    )


def _create_refund(plan: RefundPlan, amount: int, *, actor, origin, reason, dispute=None):
    """Create a pending refund of `amount` with its draws (inside the planning transaction)."""
    net, fee = plan.split(amount)
    payment = plan.payment
    refund = Refund.objects.create(
        payment=payment,
        booking_id=payment.booking_id,
        amount_cents=amount,
        net_cents=net,
        fee_cents=fee,
        currency=payment.currency,
        origin=origin,
        reason=reason[:2000],
        requested_by=actor if getattr(actor, "pk", None) else None,
        dispute=dispute,
        attempts=1,
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=refund, payout=source, amount_cents=cents)
        for source, cents in plan.draws(net)
    )
    refund.send_transition(actor=actor, action="refund.create", before=None, reason=reason)
    return refund


def _reserve_refunds(booking, *, payouts, actor, origin, reason, dispute=None) -> list[Refund]:
    """Inside a flow's transaction (booking, its succeeded payments and `payouts` locked):
    one pending refund per succeeded payment of everything refundable from `payouts` (and, for
    a cancellation, the payment's escrow)."""
    include_escrow = origin == Refund.Origin.CANCELLATION
    by_payment = defaultdict(list)
    for payout in payouts:
        by_payment[payout.payment_id].append(payout)
    refunds = []
    paid = Payment.objects.filter(booking_id=booking.pk, status=Payment.Status.SUCCEEDED)
    for payment in paid.order_by("created_at", "id"):
        plan = refund_plan(
            payment, payouts=by_payment.get(payment.pk, []), include_escrow=include_escrow
        )
        amount = plan.refundable_cents
        if amount > 0:
            refunds.append(
                _create_refund(
                    plan, amount, actor=actor, origin=origin, reason=reason, dispute=dispute
                )
            )
    return refunds


def _require_reason(reason) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainValidationError(
            "A reason is required.", details={"reason": ["This field is required."]}
        )
    return reason


def refund_payment(payment: Payment, *, actor, reason: str, amount_cents: int | None = None):
    """Staff refund (part of) a succeeded payment: `amount_cents` or, by default, everything
    refundable. 409 `nothing_to_refund` when nothing is; 400 when the amount is more than
    refundable. Returns the refund (succeeded, or pending while Stripe confirms); a Stripe
    failure → PaymentProviderError (502), the refund kept `failed`."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locks.lock_booking_row(payment.booking_id)
        locked = locks.lock_payment(payment.pk)
        if locked.status != Payment.Status.SUCCEEDED:
            raise NothingToRefund(
                f"A {locked.status} payment has no money to refund.",
                details={"payment_id": str(locked.pk), "status": locked.status},
            )
        payouts = locks.lock_payouts(locked.booking_id, statuses=DRAWABLE, payment_id=locked.pk)
        plan = refund_plan(locked, payouts=payouts)
        refundable = plan.refundable_cents
        if refundable <= 0:
            raise NothingToRefund(
                "Nothing of this payment is refundable: its vendors have been paid out or it "
                "was refunded already.",
                details={"payment_id": str(locked.pk), "refundable_cents": 0},
            )
        amount = refundable if amount_cents is None else int(amount_cents)
        if amount > refundable:
            raise DomainValidationError(
                f"amount_cents: at most {refundable} of this payment is refundable.",
                details={"amount_cents": [f"At most {refundable} is refundable."]},
            )
        refund = _create_refund(
            plan, amount, actor=actor, origin=Refund.Origin.ADMIN, reason=reason
        )
    return execute_refund(refund, actor=actor)


def refund_payout(payout: Payout, *, actor, reason: str):
    """Staff refund one unpaid payout to the organizer (with the fee on it): how an
    `adjusted` dispute is settled payout by payout. The payout is reversed once Stripe
    confirms. Same outcomes as `refund_payment`."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locks.lock_booking_row(payout.booking_id)
        payment = locks.lock_payment(payout.payment_id)
        [locked] = locks.lock_payouts_by_id([payout.pk])
        if locked.status not in DRAWABLE:
            raise NothingToRefund(
                f"A {locked.status} payout has nothing to refund.",
                details={"payout_id": str(locked.pk), "status": locked.status},
            )
        plan = refund_plan(payment, payouts=[locked], include_escrow=False)
        if plan.refundable_cents <= 0:
            raise NothingToRefund(
                "Nothing of this payout is refundable (a pending refund draws from it).",
                details={"payout_id": str(locked.pk)},
            )
        refund = _create_refund(
            plan,
            plan.refundable_cents,
            actor=actor,
            origin=Refund.Origin.PAYOUT,
            reason=reason,
            dispute=locked.held_by_dispute,
        )
    return execute_refund(refund, actor=actor)


def execute_refunds(refunds, *, actor=None) -> list[Refund]:
    """Make each pending refund at Stripe (no lock held). Every refund is attempted; if any
    failed, PaymentProviderError (502) names them after the others were made."""
    done, failed = [], []
    for refund in refunds:
        try:
            done.append(execute_refund(refund, actor=actor))
        except PaymentProviderError as exc:
            failed.append((refund, exc))
    if failed:
        raise PaymentProviderError(
            "The payment provider failed or is unreachable: "
            f"{len(failed)} refund(s) could not be made. They are kept as failed and can be "
            "retried; the rest of the change was made.",
            details={
                "refund_ids": [str(r.pk) for r, _ in failed],
                "provider_error": failed[0][1].details.get("provider_error", ""),
            },
        )
    return done


def execute_refund(refund: Refund, *, actor=None) -> Refund:
    """Step 2 and 3 of a refund: call Stripe (never under a lock), then apply its answer. A
    Stripe failure marks the refund failed and raises PaymentProviderError (502)."""
    payment = Payment.objects.get(pk=refund.payment_id)
    try:
        created = stripe_client.create_refund(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
            refund_id=refund.pk,
            payment_id=payment.pk,
            booking_id=payment.booking_id,
            attempt=refund.attempts,
        )
    except PaymentProviderError as exc:
        message = exc.details.get("provider_message") or exc.message
        mark_refund_failed(refund, message=str(message), actor=actor)
        raise
    updated, _outcome = apply_refund_result(
        refund,
        stripe_refund_id=created.id,
        status=created.status,
        amount=created.amount,
        failure=created.failure_reason,
        actor=actor,
    )
    if updated.status == Refund.Status.FAILED:
        raise PaymentProviderError(
            f"The payment provider refused the refund ({created.failure_reason or 'failed'}). "
            "It is kept as failed and can be retried.",
            details={"refund_id": str(refund.pk), "provider_status": created.status},
        )
    return updated


def mark_refund_failed(refund: Refund, *, message: str, actor=None) -> Refund:
    """A pending refund failed at Stripe: `failed`, its draws no longer reserved; the payouts
    were never touched. Locks booking → payment → refund."""
    with transaction.atomic():
        locks.lock_booking_row(refund.booking_id)
        locks.lock_payment(refund.payment_id)
        locked = locks.lock_refund(refund.pk)
        if locked.status == Refund.Status.PENDING:
            locked.transition(
                Refund.Status.FAILED,
                actor=actor,
                action="refund.fail",
                reason=message[:2000],
                failure_message=message[:2000],
                failed_at=timezone.now(),
            )
    return locked


REFUND_OK = "succeeded"
REFUND_FAILED = ("failed", "canceled")


def apply_refund_result(
    refund: Refund, *, stripe_refund_id: str, status: str, amount: int, failure="", actor=None
) -> tuple[Refund, str]:
    """Apply what Stripe says about a refund (its API answer, or a `charge.refunded` /
    `refund.updated` webhook), exactly once. Returns (refund, outcome): `processed`, `stale`
    (nothing new), `pending` (Stripe has not decided) or `mismatch: …` (Stripe's record
    disagrees with ours in a way only staff can settle: nothing applied).

    Locks booking → payment → refund → the payouts it draws from. On success: the payouts are
    reversed or split (`Payout.draw_for_refund`), the `fee_refund` and `refund` ledger
    transactions written, the booking's amounts updated, the refund `succeeded`."""
    with transaction.atomic():
        booking = locks.lock_booking(refund.booking_id)
        locks.lock_payment(refund.payment_id)
        locked = locks.lock_refund(refund.pk)
        if amount != locked.amount_cents:
            return locked, (
                f"mismatch: Stripe refund {stripe_refund_id} is {amount}, refund {locked.pk} "
                f"is {locked.amount_cents}"
            )
        if locked.stripe_refund_id and locked.stripe_refund_id != stripe_refund_id:
            return locked, (
                f"mismatch: refund {locked.pk} is Stripe refund {locked.stripe_refund_id}, "
                f"not {stripe_refund_id}"
            )
        if status == REFUND_OK:
            if locked.status == Refund.Status.SUCCEEDED:
                return locked, "stale"
            if locked.status == Refund.Status.FAILED:
                problem = _draws_unavailable(locked)
                if problem:
                    return locked, f"mismatch: Stripe refunded {stripe_refund_id} but {problem}"
            _apply_refund_success(locked, booking, stripe_refund_id=stripe_refund_id, actor=actor)
            return locked, "processed"
        if status in REFUND_FAILED:
            if locked.status == Refund.Status.SUCCEEDED:
                return locked, (
                    f"mismatch: Stripe says refund {stripe_refund_id} is {status} after it "
                    "succeeded; the organizer did not get the money back"
                )
            if locked.status == Refund.Status.FAILED:
                return locked, "stale"
            message = f"Stripe refund {stripe_refund_id} {status}: {failure or 'no reason given'}"
            locked.transition(
                Refund.Status.FAILED,
                actor=actor,
                action="refund.fail",
                reason=message,
                stripe_refund_id=stripe_refund_id,
                failure_message=message,
                failed_at=timezone.now(),
            )
            return locked, "processed"
        # pending / requires_action: Stripe decides later (its webhook tells us).
        if not locked.stripe_refund_id:
            locked.stripe_refund_id = stripe_refund_id
            locked.save(update_fields=["stripe_refund_id", "updated_at"])
        return locked, "pending"


def _draws_unavailable(refund: Refund) -> str:
    """Why a failed refund's draws can no longer be taken ('' when they can)."""
    others = RefundLine.objects.filter(
        refund__payment_id=refund.payment_id, refund__status=Refund.Status.PENDING
    ).exclude(refund_id=refund.pk)
    reserved = defaultdict(int)
    for row in others.values("payout_id").annotate(total=Sum("amount_cents")).order_by():
        reserved[row["payout_id"]] = int(row["total"])
    lines = list(refund.lines.all())
    payouts = {
        p.pk: p for p in locks.lock_payouts_by_id(ln.payout_id for ln in lines if ln.payout_id)
    }
    for line in lines:
        if line.payout_id is None:
            escrow = ledger.payment_escrow_cents(refund.payment_id) - reserved[None]
            if escrow < line.amount_cents:
                return f"only {max(escrow, 0)} of the booking's escrow is left to refund"
            continue
        payout = payouts[line.payout_id]
        if payout.status not in DRAWABLE:
            return f"payout {payout.pk} is {payout.status}"
        if payout.amount_cents - reserved[payout.pk] < line.amount_cents:
            return f"payout {payout.pk} no longer holds {line.amount_cents}"
    return ""


def _apply_refund_success(refund: Refund, booking, *, stripe_refund_id, actor) -> None:
    lines = list(refund.lines.all())
    payouts = {
        p.pk: p for p in locks.lock_payouts_by_id(ln.payout_id for ln in lines if ln.payout_id)
    }
    drawn = []
    for line in lines:
        if line.payout_id is None:
            continue  # from escrow: the ledger's refund transaction takes it
        payout = payouts[line.payout_id]
        payout.draw_for_refund(amount_cents=line.amount_cents, refund=refund, actor=actor)
        drawn.append((payout.vendor_id, line.amount_cents))
    ledger.post(ledger.refund_postings(refund, drawn=drawn))
    booking.record_money(refunded=refund.amount_cents)
    refund.transition(
        Refund.Status.SUCCEEDED,
        actor=actor,
        action="refund.succeed",
        reason=f"Stripe refund {stripe_refund_id}",
        stripe_refund_id=stripe_refund_id,
        succeeded_at=timezone.now(),
        failure_message="",
    )


def retry_refund(refund: Refund, *, actor) -> Refund:
    """Staff retry a failed refund (or one left pending by a process that died): its draws are
    checked again (409 `nothing_to_refund` when they are gone — make a new refund), it becomes
    pending, and Stripe is called again (a refund an earlier attempt made is found first)."""
    with transaction.atomic():
        locks.lock_booking_row(refund.booking_id)
        locks.lock_payment(refund.payment_id)
        locked = locks.lock_refund(refund.pk)
        if locked.status == Refund.Status.SUCCEEDED:
            return locked
        if locked.status == Refund.Status.PENDING:
            age = (timezone.now() - locked.updated_at).total_seconds()
            if locked.stripe_refund_id or age < REFUND_RETRY_AFTER_SECONDS:
                raise InvalidTransition(
                    "This refund is in progress at the payment provider; wait for its answer.",
                    details={"refund_id": str(locked.pk), "status": locked.status},
                )
            locked.attempts += 1
            locked.save(update_fields=["attempts", "updated_at"])
        else:
            problem = _draws_unavailable(locked)
            if problem:
                raise NothingToRefund(
                    f"This refund cannot be retried: {problem}. Make a new refund.",
                    details={"refund_id": str(locked.pk)},
                )
            locked.transition(
                Refund.Status.PENDING,
                actor=actor,
                action="refund.retry",
                attempts=locked.attempts + 1,
                failure_message="",
            )
    return execute_refund(locked, actor=actor)
