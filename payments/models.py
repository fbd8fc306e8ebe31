import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from strathwell.audit.models import AppendOnlyQuerySet
from strathwell.audit.services import snapshot
from strathwell.exceptions import DomainValidationError, InvalidTransition

# The fields an audit row shows for a payment / payout transition (client_secret never).
PAYMENT_AUDIT_FIELDS = [
    "status",
    "amount_cents",
    "currency",
    "stripe_payment_intent_id",
    "failure_message",
    "succeeded_at",
    "payouts_created_at",
]


class Payment(models.Model):
    """A deposit collected through a Stripe PaymentIntent. Success is learned only from a
    signed webhook."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payments"
    )
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DEPOSIT)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    failure_message = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    payouts_created_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="payments_amount_positive"
            ),
            # At most one successful deposit per booking.
            models.UniqueConstraint(
                fields=["booking", "kind"],
                condition=models.Q(status="succeeded"),
                name="payments_one_succeeded_per_booking_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount_cents} {self.currency} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first response to a (user, Idempotency-Key): replayed for the same request,
    refused (409) for a different one."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="payments_idempotency_user_key"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class WebhookEvent(models.Model):
    """Every verified Stripe event, recorded once by its Stripe id."""

    class Outcome(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        IGNORED = "ignored"
        STALE = "stale"
        MISMATCH = "mismatch"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    livemode = models.BooleanField(default=False)
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED, db_index=True
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.stripe_event_id} ({self.outcome})"


class Allocation(models.Model):
    """How a succeeded payment was split to one booking vendor (append-only)."""

    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    booking_vendor = models.ForeignKey(
        "bookings.BookingVendor", on_delete=models.PROTECT, related_name="allocations"
    )
    agreed_price_cents = models.PositiveBigIntegerField()
    share_cents = models.PositiveBigIntegerField()
    fee_cents = models.PositiveBigIntegerField()
    reservation_cents = models.PositiveBigIntegerField()
    completion_cents = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["payment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "booking_vendor"], name="payments_allocation_once"
            ),
        ]

    def __str__(self):
        return f"{self.share_cents} to {self.booking_vendor_id}"


class Payout(models.Model):
    """Money owed to a vendor from a succeeded payment, released only by staff."""

    class Kind(models.TextChoices):
        RESERVATION = "reservation"
        COMPLETION = "completion"

    class Status(models.TextChoices):
        LOCKED = "locked"
        ELIGIBLE = "eligible"
        PAID = "paid"
        HELD = "held"
        REVERSED = "reversed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="payouts")
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payouts"
    )
    booking_vendor = models.ForeignKey(
        "bookings.BookingVendor", on_delete=models.PROTECT, related_name="payouts"
    )
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="payouts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.LOCKED, db_index=True
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    eligible_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.TextField(blank=True)
    # The dispute that held this payout (so resolving it releases exactly what it held).
    held_by_dispute = models.ForeignKey(
        "disputes.Dispute", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reverse_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "booking_vendor", "kind"], name="payments_payout_once"
            ),
        ]

    def __str__(self):
        return f"{self.kind} payout {self.amount_cents} ({self.status})"


class LedgerEntry(models.Model):
    """An append-only money record. Balances are derived; rows are never updated or deleted
    (the ORM refuses, and on PostgreSQL a trigger refuses too)."""

    class EntryType(models.TextChoices):
        HELD_FUNDS = "held_funds"
        PLATFORM_FEE = "platform_fee"
        PAYOUT = "payout"

    id = models.BigAutoField(primary_key=True)
    entry_type = models.CharField(max_length=20, choices=EntryType.choices, db_index=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="ledger_entries")
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    booking_vendor = models.ForeignKey(
        "bookings.BookingVendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(entry_type="held_funds"),
                name="payments_ledger_one_held_funds_per_payment",
            ),
            models.UniqueConstraint(
                fields=["payment", "booking_vendor"],
                condition=models.Q(entry_type="platform_fee"),
                name="payments_ledger_one_fee_per_vendor",
            ),
            models.UniqueConstraint(
                fields=["payout"],
                condition=models.Q(entry_type="payout"),
                name="payments_ledger_one_entry_per_payout",
            ),
        ]

    def __str__(self):
        return f"{self.entry_type} {self.amount_cents} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger entries are append-only.")
