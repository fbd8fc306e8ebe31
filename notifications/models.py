"""In-app notifications: one row per event and recipient, listed by `GET /notifications` and
emailed by the worker (through the outbox: `notifications.delivery`)."""

import uuid

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """What happened, told to one user: title and body as the email and the feed show them
    (user-written text in them is masked like trust screening masks it)."""

    class Kind(models.TextChoices):
        # To vendors
        BOOKING_REQUESTED = "booking_requested"
        COUNTER_ACCEPTED = "counter_accepted"
        BOOKING_PAID = "booking_paid"
        BOOKING_CANCELED = "booking_canceled"
        BOOKING_EXPIRED = "booking_expired"
        PAYOUT_ELIGIBLE = "payout_eligible"
        PAYOUT_PAID = "payout_paid"
        DISPUTE_OPENED = "dispute_opened"
        VERIFICATION_DECIDED = "verification_decided"
        # To organizers
        LINE_APPROVED = "line_approved"
        LINE_DECLINED = "line_declined"
        LINE_COUNTERED = "line_countered"
        LINE_EXPIRED = "line_expired"
        BOOKING_READY = "booking_ready"
        PAYMENT_RECEIVED = "payment_received"
        DISPUTE_DECIDED = "dispute_decided"
        SUBSCRIPTION_ACTIVATED = "subscription_activated"
        SUBSCRIPTION_CANCELED = "subscription_canceled"
        SUBSCRIPTION_PAST_DUE = "subscription_past_due"
        REFUND_MADE = "refund_made"
        BALANCE_DUE = "balance_due"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    # The event this notification tells of (e.g. "booking.submit:bookings.booking:<id>:<time>"):
    # unique with the recipient, so a retried job or flow never tells anyone twice.
    event_key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField()
    booking = models.ForeignKey(
        "bookings.Booking",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient"], name="notifications_once_per_event_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notifications_feed"),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notifications_unread_feed",
            ),
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient_id}"

    @property
    def email_dedupe_key(self) -> str:
        """The outbox key of this notification's email."""
        return email_dedupe_key(self.pk)


EMAIL_KEY_PREFIX = "notification-email:"


def email_dedupe_key(notification_id) -> str:
    return f"{EMAIL_KEY_PREFIX}{notification_id}"
