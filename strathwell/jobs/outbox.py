"""Effects owed after a commit, delivered exactly once: enqueue in the flow's transaction,
deliver from a task enqueued on commit, and sweep up whatever that task did not deliver.

    with transaction.atomic():
        ...the change...
        enqueue([OutboxItem("notifications.email", f"notification-email:{n.pk}", {...})])

- `enqueue` writes the rows (a `dedupe_key` already owed is skipped: retrying the flow owes
  nothing twice) and, on commit, enqueues one `jobs.deliver_outbox_message` task per row.
  Without a broker (REDIS_URL unset) the task runs in process right after the commit.
- `deliver(pk)` locks the row with `SKIP LOCKED`, re-checks that it is pending and due, runs the
  topic's handler and marks it delivered in the same transaction. A handler that raises leaves
  the row pending with a backoff (or `failed` after OUTBOX_MAX_ATTEMPTS). A process that dies
  mid-delivery holds no lock any more and has committed nothing: the row is still pending.
- `deliver_due` (the `deliver_outbox` periodic job) delivers every due pending row.

The guarantee is "nothing lost, nothing delivered twice" as far as the handler's peer allows:
an SMTP server that accepted a message just before the process died (before the commit) gets
it again; each email carries a stable Message-ID so mail systems can spot that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from strathwell.jobs.models import OutboxMessage

logger = logging.getLogger("strathwell.jobs")

Handler = Callable[[OutboxMessage], None]
_HANDLERS: dict[str, Handler] = {}


def outbox_handler(topic: str):
    """Register the function that delivers the messages of `topic` (called with the locked
    message, inside its transaction; raise to retry later)."""

    def register(func: Handler) -> Handler:
        _HANDLERS[topic] = func
        return func

    return register


@dataclass(frozen=True)
class OutboxItem:
    topic: str
    dedupe_key: str
    payload: dict = field(default_factory=dict)


def enqueue(items: Iterable[OutboxItem]) -> list:
    """Owe these effects in the current transaction; deliver them once it commits. Returns the
    ids of the rows tried (a key already owed keeps its first row)."""
    rows = [
        OutboxMessage(topic=item.topic, dedupe_key=item.dedupe_key, payload=item.payload)
        for item in items
    ]
    if not rows:
        return []
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    ids = [row.pk for row in rows]
    dispatch_on_commit(ids)
    return ids


def dispatch_on_commit(ids: list) -> None:
    """After the commit, enqueue one delivery task per message. Robust: should the broker be
    unreachable, the error is logged and the `deliver_outbox` sweep delivers them instead."""
    transaction.on_commit(lambda: _dispatch(ids), robust=True)


def _dispatch(ids: list) -> None:
    for pk in ids:
        deliver_outbox_message.delay(str(pk))


@shared_task(name="jobs.deliver_outbox_message", ignore_result=True)
def deliver_outbox_message(pk: str) -> str:
    """Deliver one outbox message (safe to run twice: see `deliver`)."""
    return deliver(pk)


def deliver(pk, *, now: datetime | None = None) -> str:
    """Deliver one message if it is pending and due and nobody else is delivering it.

    Returns `delivered`, `failed` (retried later, or failed for good) or `skipped` (already
    delivered, not due, or locked by another delivery right now)."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return "skipped"
        handler = _HANDLERS.get(message.topic)
        try:
            if handler is None:
                raise LookupError(f"no outbox handler is registered for {message.topic!r}")
            with transaction.atomic():  # a savepoint: a failing handler's writes are undone
                handler(message)
        except Exception as exc:
            logger.warning(
                "Outbox message %s (%s) failed: %s", message.pk, message.topic, exc, exc_info=True
            )
            message.record_failure(f"{type(exc).__name__}: {exc}", now=now)
            return "failed"
        message.mark_delivered(now=now)
    return "delivered"


def due_messages(now: datetime):
    return OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now
    )


def deliver_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """The sweep: deliver every due pending message (oldest first, at most `limit`, default
    JOB_BATCH_SIZE). Returns how many were delivered."""
    now = now or timezone.now()
    limit = limit or settings.JOB_BATCH_SIZE
    ids = list(
        due_messages(now).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if deliver(pk, now=now) == "delivered")


def backlog(now: datetime) -> tuple[int, datetime | None]:
    """How many messages are due and undelivered, and since when the oldest has been due."""
    row = due_messages(now).aggregate(n=Count("pk"), oldest=Min("next_attempt_at"))
    return row["n"], row["oldest"]


def retry(message: OutboxMessage, *, actor, reason: str = "") -> OutboxMessage:
    """Staff retry (`OutboxMessage.retry`, audited), delivered by a task enqueued on commit."""
    with transaction.atomic():
        retried = message.retry(actor=actor, reason=reason)
        dispatch_on_commit([retried.pk])
    return retried
