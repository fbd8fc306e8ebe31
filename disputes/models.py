import uuid

from django.conf import settings
from django.db import models


class Dispute(models.Model):
    """A participant's complaint about a booking. While open it freezes the booking's payouts."""

    class Status(models.TextChoices):
        OPEN = "open"
        UNDER_REVIEW = "under_review"
        RESOLVED = "resolved"
        REFUNDED = "refunded"
        ADJUSTED = "adjusted"

    OPEN_STATUSES = (Status.OPEN, Status.UNDER_REVIEW)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="disputes"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes_opened"
    )
    reason = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            # One open dispute per booking at a time.
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(status__in=["open", "under_review"]),
                name="disputes_one_open_per_booking",
            ),
        ]

    def __str__(self):
        return f"Dispute on {self.booking_id} ({self.status})"

    @classmethod
    def open_for_booking(cls, booking_id) -> bool:
        return cls.objects.filter(booking_id=booking_id, status__in=cls.OPEN_STATUSES).exists()


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
        ordering = ["-created_at", "id"]

    def __str__(self):
        return f"{self.action} {self.context_type}"
