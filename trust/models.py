"""The moderation log: one `ModerationEvent` per screening worth recording.

The model moved here from `disputes`; its table keeps the old name (`disputes_moderationevent`)
so no data moved (see migrations/0001_initial.py)."""

import uuid

from django.conf import settings
from django.db import models


class ModerationEvent(models.Model):
    """A trust screening result. Stores only the masked excerpt, never raw contact details."""

    class Action(models.TextChoices):
        ALLOW = "allow"
        WARN = "warn"
        BLOCK = "block"

    class ContextType(models.TextChoices):
        BOOKING_NOTE = "booking_note"
        COUNTER_NOTE = "counter_note"
        PROFILE = "profile"
        MESSAGE = "message"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_events",
    )
    context_type = models.CharField(max_length=20, choices=ContextType.choices)
    context_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices, db_index=True)
    signals = models.JSONField(default=list)
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "disputes_moderationevent"
        ordering = ["-created_at", "id"]

    def __str__(self):
        return f"{self.action} {self.context_type}"
