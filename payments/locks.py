"""The project's one lock order, in code.

Every flow that changes more than one of these rows takes its locks through the functions
below (and `bookings.locks`), in this order, and takes each at most once per transaction:

    1. webhook event   `lock_webhook_event`   (processing a Stripe event exactly once)
    2. booking         `bookings.locks.lock_booking` / `lock_booking_row`
    3. its lines       `bookings.locks.lock_lines` / `lock_line`
    4. vendor units    `lock_booking_units`, `lock_line_unit` (`vendors.locks`: the capacity
                       units the lines hold or booked; taking a unit inserts one, see there)
    5. payment(s)      `lock_payment`, `lock_payments`
    5b. refunds        `lock_refund` (with or after their payment, before any payout)
    6. payouts         `lock_payouts`, `lock_payout` (which takes the booking first),
                       `lock_payouts_by_id`
    7. dispute         `Dispute.lock_row()` (always last: nothing is locked after it)

Two flows that share rows therefore wait for each other instead of deadlocking (pretix's "lock
once, in a sorted order", Saleor's `lock_objects`), and the booking lock serialises every
change to a booking's lines and money. No Stripe call is made while any of these is held.
"""

from __future__ import annotations

from collections.abc import Iterable

from bookings.locks import (
    lock_booking,
    lock_booking_row,
    lock_booking_units,
    lock_line,
    lock_line_unit,
    lock_lines,
)

# `payments.models` imports this module (payout transitions lock through it); the module object
# is bound here and its classes are read only when a lock is taken.
from payments import models

__all__ = [
    "lock_booking",
    "lock_booking_row",
    "lock_booking_units",
    "lock_line",
    "lock_line_unit",
    "lock_lines",
    "lock_payment",
    "lock_payments",
    "lock_payout",
    "lock_payouts",
    "lock_payouts_by_id",
    "lock_refund",
    "lock_webhook_event",
    "try_lock_webhook_event",
]


def lock_webhook_event(pk) -> models.WebhookEvent:
    """Step 1: the stored Stripe event being processed."""
    return models.WebhookEvent.objects.select_for_update().get(pk=pk)


def try_lock_webhook_event(pk) -> models.WebhookEvent | None:
    """Step 1 without waiting (`SKIP LOCKED`): None when another transaction is processing the
    event, so a periodic retry leaves it to that one."""
    return models.WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=pk).first()


def lock_payment(pk) -> models.Payment:
    """Step 5: one payment (its booking is locked first by the flows that need both)."""
    return models.Payment.objects.select_for_update().get(pk=pk)


def lock_payments(booking_id, *, statuses: Iterable[str]) -> list[models.Payment]:
    """Step 5: a (locked) booking's payments in these statuses, in a stable order."""
    return list(
        models.Payment.objects.select_for_update()
        .filter(booking_id=booking_id, status__in=list(statuses))
        .order_by("id")
    )


def lock_payouts(booking_id, *, statuses: Iterable[str], **filters) -> list[models.Payout]:
    """Step 6: a (locked) booking's payouts in these statuses, in a stable order."""
    return list(
        models.Payout.objects.select_for_update(of=("self",))
        .select_related("booking")
        .filter(booking_id=booking_id, status__in=list(statuses), **filters)
        .order_by("id")
    )


def lock_payout(payout: models.Payout) -> models.Payout:
    """Steps 2 and 6 for one payout: its booking (so dispute and booking checks cannot race
    the change), then the payout itself, re-read."""
    lock_booking_row(payout.booking_id)
    return (
        models.Payout.objects.select_for_update(of=("self",))
        .select_related("booking")
        .get(pk=payout.pk)
    )


def lock_payouts_by_id(ids: Iterable) -> list[models.Payout]:
    """Step 5: these payouts (of a locked booking), in a stable order."""
    return list(
        models.Payout.objects.select_for_update(of=("self",))
        .select_related("booking")
        .filter(pk__in=list(ids))
        .order_by("id")
    )


def lock_refund(pk) -> models.Refund:
    """Step 4b: one refund (its booking and payment are locked first)."""
    return models.Refund.objects.select_for_update().get(pk=pk)
