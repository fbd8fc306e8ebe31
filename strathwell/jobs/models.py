"""The outbox: one durable row per effect owed after a commit (an email to send...).

A flow writes the row in its own transaction (`strathwell.jobs.outbox.enqueue`), so the effect
is owed exactly when the change commits; a Celery task is enqueued on commit to deliver it at
once, and the `deliver_outbox` sweep delivers whatever that task did not (the process died
between the commit and the enqueue, the broker was down, the worker was killed mid-send).
Delivery holds the row's lock (`SKIP LOCKED`), so a task and a sweep, or two sweeps, never
deliver the same row twice; a delivered row is final.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from strathwell.jobs.signals import outbox_message_transitioned
from strathwell.transitions import Transitions

MAX_ERROR_LENGTH = 4000
MAX_BACKOFF = timedelta(hours=6)


class OutboxMessage(Transitions, models.Model):
    """An effect owed after a commit, delivered by the handler registered for its `topic`."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    # pending → delivered (done) or failed (OUTBOX_MAX_ATTEMPTS used up; staff decide);
    # staff put a failed message back to pending from the console.
    TRANSITIONS = {
        Status.PENDING: {Status.DELIVERED, Status.FAILED},
        Status.FAILED: {Status.PENDING},
        Status.DELIVERED: set(),
    }
    TRANSITION_ERROR = "Cannot {verb} an outbox message that is {old}."
    TRANSITION_ERROR_DETAILS = {"status": "{old}", "message_id": "{pk}"}
    transition_signal = outbox_message_transitioned

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    topic = models.CharField(max_length=100, db_index=True)
    # What the effect is about, e.g. "notification-email:<notification id>": the same effect is
    # never owed twice, however often the flow that owes it is retried.
    dedupe_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            # The sweep's and the health check's query: due pending messages, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="jobs_outbox_pending_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "delivered", "failed"]),
                name="jobs_outbox_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.topic} {self.dedupe_key} ({self.status})"

    def audit_state(self) -> dict:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error[:500],
        }

    # --- delivery bookkeeping (the row is locked by `outbox.deliver`) ---------------------------

    def mark_delivered(self, *, now) -> None:
        self.attempts += 1
        self.transition(
            self.Status.DELIVERED,
            actor=None,
            action="outbox.deliver",
            verb="deliver",
            attempts=self.attempts,
            delivered_at=now,
            last_error="",
        )

    def record_failure(self, error: str, *, now) -> None:
        """One failed attempt: retried after an exponential backoff (base
        OUTBOX_RETRY_BASE_SECONDS, at most 6 h), or `failed` once OUTBOX_MAX_ATTEMPTS are used."""
        self.attempts += 1
        error = error[:MAX_ERROR_LENGTH]
        if self.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            self.transition(
                self.Status.FAILED,
                actor=None,
                action="outbox.fail",
                verb="fail",
                attempts=self.attempts,
                last_error=error,
            )
            return
        self.next_attempt_at = now + self.backoff(self.attempts)
        self.last_error = error
        self.save(update_fields=["attempts", "next_attempt_at", "last_error", "updated_at"])

    @staticmethod
    def backoff(attempts: int) -> timedelta:
        """Wait after the n-th failed attempt: base × 2^(n−1), capped at 6 hours."""
        seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
        return min(timedelta(seconds=seconds), MAX_BACKOFF)

    # --- staff ------------------------------------------------------------------------------

    def retry(self, *, actor, reason: str = "") -> "OutboxMessage":
        """Staff: deliver this message again now (through `outbox.retry`, which enqueues the
        delivery on commit). A failed one goes back to pending with a fresh set of attempts; a
        pending one (waiting for its backoff) becomes due at once. Audited. Refused (409) for a
        delivered message. Locks the row."""
        with transaction.atomic():
            locked = self.lock_row()
            now = timezone.now()
            if locked.status == self.Status.PENDING:
                before = locked.audit_state()
                locked.next_attempt_at = now
                locked.save(update_fields=["next_attempt_at", "updated_at"])
                locked.send_transition(
                    actor=actor, action="outbox.retry", before=before, reason=reason
                )
            else:
                locked.transition(
                    self.Status.PENDING,
                    actor=actor,
                    action="outbox.retry",
                    reason=reason,
                    allowed_from={self.Status.FAILED},
                    verb="retry",
                    attempts=0,
                    next_attempt_at=now,
                )
        return locked
