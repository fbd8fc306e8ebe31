"""Periodic jobs that only tell people something (no state moves)."""

import datetime

from django.db import transaction
from django.utils import timezone

from bookings.models import Booking
from notifications.receivers import balance_due_drafts
from notifications.services import notify
from strathwell.jobs.periodic import periodic_job


def _reminder_day(booking: Booking, today: datetime.date) -> datetime.date | None:
    """Today, when today is the booking's `balance_due_on` or its event's eve."""
    eve = booking.event_date - datetime.timedelta(days=1)
    return today if today in (booking.balance_due_on, eve) else None


@periodic_job("remind_balance_due")
def remind_balance_due() -> int:
    """One reminder to the organizer at `balance_due_on` and one on the event's eve while a
    balance is owed. Each is a notification with the event key
    `balance_due:<booking>:<that day>`, so the unique (event, recipient) pair makes it go out
    once however often the job runs (or on two machines at once). Returns how many were
    written now."""
    today = timezone.localdate()
    candidates = (
        Booking.objects.filter(
            status__in=[Booking.Status.PAID, Booking.Status.IN_PROGRESS],
            event_date__gt=today,
        )
        .prefetch_related("vendors")
        .order_by("event_date", "id")
    )
    written = 0
    for booking in candidates:
        on = _reminder_day(booking, today)
        if on is None or booking.balance_cents <= 0:
            continue
        with transaction.atomic():
            written += len(notify(balance_due_drafts(booking, on)))
    return written
