"""Periodic jobs of the payments app (see `strathwell.jobs.periodic`): the timed transitions
that move or free money (through `payments.services`), webhook retries and purges. Each is an
idempotent sweep: candidates are selected without locks, then each is re-checked under its
locks by the flow, which leaves it alone when it is no longer due."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef
from django.utils import timezone

from accounts.tokens import purge_refresh_tokens
from bookings.models import Booking
from disputes.models import Dispute
from payments import services, webhooks
from payments.deposits import purge_idempotency_records
from payments.reconcile import reconcile
from strathwell.audit.services import write_audit_log
from strathwell.jobs.periodic import periodic_job
from strathwell.system import SYSTEM


def _without_open_dispute(bookings):
    open_disputes = Dispute.objects.filter(
        booking_id=OuterRef("pk"), status__in=Dispute.OPEN_STATUSES
    )
    return bookings.exclude(Exists(open_disputes))


# --- expire_unpaid_bookings ----------------------------------------------------------------------


def unpaid_bookings_backlog(now):
    row = Booking.objects.filter(Booking.payment_overdue_q(now)).aggregate(
        n=Count("pk"), since=Min("ready_at")
    )
    since = row["since"]
    return row["n"], (since + Booking.payment_window()) if since else None


@periodic_job("expire_unpaid_bookings", backlog=unpaid_bookings_backlog)
def expire_unpaid_bookings() -> int:
    """Bookings unpaid PAYMENT_WINDOW_HOURS after they became ready → `expired` (pending
    payment canceled, holds released)."""
    now = timezone.now()
    due = Booking.objects.filter(Booking.payment_overdue_q(now)).order_by("ready_at", "id")[
        : settings.JOB_BATCH_SIZE
    ]
    return sum(1 for booking in list(due) if services.expire_booking(booking, now=now))


# --- complete_events -----------------------------------------------------------------------------


def completion_backlog(now):
    today = timezone.localdate(now)
    row = _without_open_dispute(Booking.objects.filter(Booking.completion_due_q(today))).aggregate(
        n=Count("pk"), since=Min("event_date")
    )
    if row["since"] is None:
        return row["n"], None
    due_day = row["since"] + datetime.timedelta(days=settings.COMPLETION_GRACE_DAYS)
    return row["n"], datetime.datetime.combine(due_day, datetime.time.min, tzinfo=datetime.UTC)


@periodic_job("complete_events", backlog=completion_backlog)
def complete_events() -> int:
    """`in_progress` bookings COMPLETION_GRACE_DAYS after the event, without an open dispute →
    `completed` (completion payouts eligible)."""
    today = timezone.localdate()
    due = _without_open_dispute(Booking.objects.filter(Booking.completion_due_q(today)))
    due = due.order_by("event_date", "id")[: settings.JOB_BATCH_SIZE]
    return sum(1 for booking in list(due) if services.complete_event(booking, today=today))


# --- retry_webhook_events ------------------------------------------------------------------------


def webhook_backlog(now):
    due = [
        due_at
        for due_at in map(webhooks.retry_due_at, webhooks.retry_candidates())
        if due_at is not None and due_at <= now
    ]
    return len(due), min(due) if due else None


@periodic_job("retry_webhook_events", backlog=webhook_backlog)
def retry_webhook_events() -> int:
    """Failed (or never processed) Stripe events are processed again, with backoff, at most
    WEBHOOK_MAX_ATTEMPTS times. Returns how many were processed without failing."""
    now = timezone.now()
    candidates = webhooks.retry_candidates().order_by("received_at", "id")
    processed = 0
    for event in candidates[: settings.JOB_BATCH_SIZE]:
        due_at = webhooks.retry_due_at(event)
        if due_at is None or due_at > now:
            continue
        result = webhooks.retry_event(event.pk, now=now)
        if result is not None and not result.failed and not result.duplicate:
            processed += 1
    return processed


# --- purge_expired_tokens ------------------------------------------------------------------------


@periodic_job("purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Spent/revoked/expired refresh tokens and idempotency records older than PURGE_AFTER_DAYS
    are deleted."""
    before = timezone.now() - datetime.timedelta(days=settings.PURGE_AFTER_DAYS)
    return purge_refresh_tokens(before=before) + purge_idempotency_records(before=before)


# --- reconcile_stripe ----------------------------------------------------------------------------


@periodic_job("reconcile_stripe")
def reconcile_stripe() -> int:
    """Compare the last two days of succeeded payments and refunds with Stripe's lists
    (`payments.reconcile`, as `manage.py reconcile_stripe --since`). Any difference is an
    AuditLog row for staff (`stripe.reconcile_differences`, actor system, every difference in
    `after`). Returns how many differences were found."""
    if not settings.STRIPE_SECRET_KEY:  # no Stripe account configured: nothing to compare
        return 0
    since = timezone.now() - datetime.timedelta(days=2)
    report = reconcile(since=since)
    differences = report.differences or []
    if differences:
        write_audit_log(
            actor=SYSTEM,
            action="stripe.reconcile_differences",
            target=("stripe.reconcile", since.date().isoformat()),
            after={"differences": [str(d) for d in differences]},
            reason=f"{len(differences)} difference(s) between our records and Stripe's",
        )
    return len(differences)


# --- webhook processing (WEBHOOK_PROCESSING=async) ----------------------------------------------


@shared_task(name="payments.process_webhook_event", ignore_result=True)
def process_webhook_event(event_pk: int) -> str:
    """Process a recorded Stripe event on the worker (enqueued by the webhook view after the
    event's INSERT). Safe to run twice (the event's row lock and outcome decide); a failure is
    recorded on the event and retried by `retry_webhook_events`, not raised to Celery."""
    return webhooks.process_event(event_pk).event.outcome
