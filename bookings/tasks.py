"""Periodic jobs of the bookings app (see `strathwell.jobs.periodic`): timed transitions that
move no money. Each selects due rows, then re-checks each one under the booking's lock in the
model method, so two runs at once move a row once."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, F, Min
from django.db.models.functions import Greatest
from django.utils import timezone

from bookings.models import Booking, BookingVendor
from strathwell.jobs.periodic import periodic_job


def _midnight(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def vendor_requests_backlog(now):
    row = BookingVendor.objects.filter(BookingVendor.response_overdue_q(now)).aggregate(
        n=Count("pk"), since=Min(Greatest(F("booking__submitted_at"), F("created_at")))
    )
    since = row["since"]
    return row["n"], (since + BookingVendor.response_window()) if since else None


@periodic_job("expire_vendor_requests", backlog=vendor_requests_backlog)
def expire_vendor_requests() -> int:
    """Lines still pending or countered VENDOR_RESPONSE_HOURS after the request → `expired`."""
    now = timezone.now()
    due = (
        BookingVendor.objects.filter(BookingVendor.response_overdue_q(now))
        .only("pk", "booking_id")
        .order_by("created_at", "id")[: settings.JOB_BATCH_SIZE]
    )
    return sum(1 for line in list(due) if line.expire(now=now) is not None)


def start_events_backlog(now):
    # Counts paid bookings whose date has come; with balance payments (#12) those still owing
    # money wait here too, by design of the contract ("a fully paid booking").
    row = Booking.objects.filter(Booking.start_due_q(timezone.localdate(now))).aggregate(
        n=Count("pk"), since=Min("event_date")
    )
    return row["n"], _midnight(row["since"])


@periodic_job("start_events", backlog=start_events_backlog)
def start_events() -> int:
    """Fully paid `paid` bookings on their event date → `in_progress`."""
    today = timezone.localdate()
    due = Booking.objects.filter(Booking.start_due_q(today)).order_by("event_date", "id")[
        : settings.JOB_BATCH_SIZE
    ]
    return sum(1 for booking in list(due) if booking.start_event(today=today) is not None)
