import uuid

from django.conf import settings
from django.db import models


class Booking(models.Model):
    """An organizer's request for one venue plus any number of service vendors."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        AWAITING = "awaiting_vendor_approval"
        READY = "ready_for_payment"
        PAID = "paid"
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"
        CANCELED = "canceled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    template = models.ForeignKey(
        "templates_app.Template",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    title = models.CharField(max_length=200)
    event_date = models.DateField()
    guest_count = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    cancel_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(guest_count__gt=0), name="bookings_guest_count_positive"
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.status})"


class BookingVendor(models.Model):
    """One vendor's line on a booking: its role, price negotiation and approval status."""

    class Role(models.TextChoices):
        VENUE = "venue"
        SERVICE = "service"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DECLINED = "declined"
        COUNTERED = "countered"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="vendors")
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.PROTECT, related_name="booking_lines"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Creation order within the booking: allocation ties go to the earlier line.
    position = models.PositiveIntegerField(default=0)
    proposed_price_cents = models.PositiveBigIntegerField()
    counter_price_cents = models.PositiveBigIntegerField(null=True, blank=True)
    agreed_price_cents = models.PositiveBigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["booking", "position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "vendor"], name="bookings_vendor_once_per_booking"
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(role="venue"),
                name="bookings_one_venue_per_booking",
            ),
            models.CheckConstraint(
                condition=models.Q(proposed_price_cents__gt=0),
                name="bookings_proposed_price_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(counter_price_cents__isnull=True)
                | models.Q(counter_price_cents__gt=0),
                name="bookings_counter_price_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(agreed_price_cents__isnull=True)
                | models.Q(agreed_price_cents__gt=0),
                name="bookings_agreed_price_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(agreed_price_cents__isnull=False),
                name="bookings_approved_has_agreed_price",
            ),
        ]

    def __str__(self):
        return f"{self.vendor_id} on {self.booking_id} ({self.status})"
