"""Every flow that moves or freezes money, in one place.

Models own their transitions (lock, re-read, guard, write, signal); the flows here own what
spans apps, and call those transitions inside ONE transaction that takes its row locks in the
project's lock order (`payments.locks`: webhook event → booking → lines → vendor units →
payment → payouts → dispute):

- `record_payment_success`: payment succeeded → booking paid → allocation → ledger → payouts;
- `cancel_booking` / `complete_booking`: the booking's transition, then its payments voided and
  payouts held (cancel) or its completion payouts made eligible (complete);
- `expire_booking` / `complete_event`: the same for the periodic jobs (actor `system`), each
  re-checking under the booking's lock that the booking is still due;
- `add_vendor` / `remove_vendor`: a line change that voids the deposit of a payable booking;
- `open_dispute` / `change_dispute_status` (and `start_dispute_review`, `resolve_dispute`):
  the dispute's transition, then the payouts it freezes, releases or reverses.

Creating a deposit's PaymentIntent idempotently is `payments.deposits`. No Stripe call is ever
made while a row lock is held (cancellations of PaymentIntents run after the commit).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings.models import Booking
from disputes.models import Dispute
from payments import locks, stripe_client
from payments.allocation import allocate
from payments.models import Allocation, LedgerEntry, Payment, Payout
from strathwell.exceptions import DomainValidationError, InvalidTransition
from strathwell.system import SYSTEM
from vendors import availability

logger = logging.getLogger("strathwell.payments")


# --- payment success ---------------------------------------------------------------------------


def record_payment_success(payment: Payment, *, event=None, actor=None) -> bool:
    """A payment's money arrived: in ONE transaction, payment `succeeded` → booking `paid` →
    allocation (API.md's formula) → `held_funds` and `platform_fee` ledger entries → a
    `reservation` and a `completion` payout per booking vendor, all `locked`. The booking's
    other pending or failed deposits are voided (their intents canceled after the commit).

    Locks booking → booking vendors → their capacity units (held → booked, in
    `Booking.mark_paid`) → payment (`payments.locks`). Guarded by
    `payments.payouts_created_at`: it happens once; a repeat returns False and changes nothing.
    Raises InvalidTransition when the money cannot be applied (payment canceled, booking not
    payable, booking already paid by another payment) — the caller records that for staff.
    """
    reason = f"Stripe event {event.stripe_event_id}" if event is not None else ""
    with transaction.atomic():
        booking = locks.lock_booking(payment.booking_id)
        lines = locks.lock_lines(booking.pk)
        locks.lock_booking_units(booking.pk)  # booked by `mark_paid` below: before the payment
        locked = locks.lock_payment(payment.pk)
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


# --- a booking's lifecycle -------------------------------------------------------------------


def cancel_booking(booking, *, actor, reason: str = "", by_staff: bool = False) -> Booking:
    """Cancel a booking and freeze its money, all or nothing. The organizer cancels before
    payment (`Booking.cancel`); staff cancel from any non-final state with a reason
    (`Booking.admin_cancel`). Its pending and failed payments are voided and, when it was
    paid, every locked or eligible payout is held for staff to settle (`on_booking_canceled`).
    An unpaid booking's capacity holds are released (in `Booking.cancel`/`admin_cancel`); a
    paid one keeps its booked units until a refund releases them
    (`vendors.availability.release_for_booking`). Locks booking → units → payments → payouts."""
    with transaction.atomic():
        locks.lock_booking(booking.pk)
        if by_staff:
            canceled = booking.admin_cancel(actor=actor, reason=reason)
        else:
            canceled = booking.cancel(actor=actor, reason=reason)
        on_booking_canceled(canceled, actor=actor, reason=reason or "")
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


def on_booking_canceled(booking, *, actor=None, reason=""):
    """Inside `cancel_booking`'s transaction (booking locked).

    Paid booking: every locked or eligible payout is held ("booking canceled: <reason>") so
    staff settle each one (release or reverse). Its pending and failed payments are voided
    (see `_void_pending_payments`); nothing may be paid for it any more."""
    hold_reason = f"booking canceled: {reason}".strip() if reason else "booking canceled"
    # Payments before payouts: the global lock order.
    _void_pending_payments(booking, actor=actor, reason=hold_reason)
    payouts = locks.lock_payouts(
        booking.pk, statuses=[Payout.Status.LOCKED, Payout.Status.ELIGIBLE]
    )
    return [payout.hold(actor=actor, reason=hold_reason) for payout in payouts]


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
    pending = locks.lock_payments(
        booking.pk, statuses=[Payment.Status.PENDING, Payment.Status.FAILED]
    )
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
    transaction. Locks booking → its held and locked payouts → the dispute; the dispute's
    new status is written FIRST (so the payout guards no longer see an open dispute):

    - `resolved`: the payouts this dispute held are released (back to `eligible`, or to
      `locked` if they were never due), and completion payouts of a completed booking that
      the dispute kept locked become `eligible`;
    - `refunded`: the payouts this dispute held and every still-`locked` payout of the
      booking are reversed (the deposit goes back to the organizer, nothing of it is due);
    - `adjusted`: the held payouts stay `held` for staff to settle one by one (with the
      completion payouts the dispute kept locked).
    """
    final = status in Dispute.FINAL_STATUSES
    with transaction.atomic():
        locks.lock_booking_row(dispute.booking_id)
        if final:
            locks.lock_payouts(
                dispute.booking_id, statuses=[Payout.Status.HELD, Payout.Status.LOCKED]
            )
        decided = dispute.change_status(actor=actor, status=status, note=note)
        if final:
            _settle_disputed_payouts(decided, actor=actor)
    return decided


def _settle_disputed_payouts(dispute: Dispute, *, actor) -> None:
    """Apply a dispute's decision to the booking's money (booking and unpaid payouts locked,
    the dispute already decided)."""
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
    elif dispute.status == Dispute.Status.REFUNDED:
        locked_payouts = Payout.objects.filter(
            booking_id=dispute.booking_id, status=Payout.Status.LOCKED
        ).order_by("id")
        for payout in [*held, *locked_payouts]:
            payout.reverse(actor=actor, reason=reason)
    else:  # ADJUSTED: the held payouts stay held; staff release or reverse each one.
        # Nothing else would ever move the kept-locked completion payouts, so they join
        # the held ones in the staff queue.
        for payout in _completions_kept_locked(dispute):
            payout.hold(actor=actor, reason=reason, dispute=dispute)


def _completions_kept_locked(dispute: Dispute):
    """The completion payouts of a completed booking, which stayed `locked` while the dispute
    was open (none when the booking is not completed)."""
    if dispute.booking.status != Booking.Status.COMPLETED:
        return []
    return Payout.objects.filter(
        booking_id=dispute.booking_id, kind=Payout.Kind.COMPLETION, status=Payout.Status.LOCKED
    ).order_by("id")
