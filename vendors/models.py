import uuid

from django.conf import settings
from django.db import models


class Vendor(models.Model):
    """A venue owner or service provider. Only `approved` vendors are listed or bookable."""

    class VendorType(models.TextChoices):
        VENUE = "venue"
        SERVICE = "service"

    class VerificationStatus(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        NEEDS_CHANGES = "needs_changes"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vendor"
    )
    vendor_type = models.CharField(max_length=10, choices=VendorType.choices)
    business_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    city = models.CharField(max_length=120, db_index=True)
    verification_status = models.CharField(
        max_length=20,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
        db_index=True,
    )
    admin_notes = models.TextField(blank=True)
    photo_keys = models.JSONField(default=list, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["business_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vendor_type__in=["venue", "service"]),
                name="vendors_vendor_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    verification_status__in=["pending", "approved", "needs_changes"]
                ),
                name="vendors_vendor_verification_status_valid",
            ),
        ]

    def __str__(self):
        return self.business_name


class VenueProfile(models.Model):
    vendor = models.OneToOneField(
        Vendor, on_delete=models.CASCADE, primary_key=True, related_name="venue_profile"
    )
    address = models.CharField(max_length=300)
    capacity = models.PositiveIntegerField()
    base_price_cents = models.PositiveBigIntegerField()
    amenities = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gt=0), name="vendors_venue_capacity_positive"
            ),
        ]

    def __str__(self):
        return f"Venue profile of {self.vendor_id}"


class ServiceProfile(models.Model):
    vendor = models.OneToOneField(
        Vendor, on_delete=models.CASCADE, primary_key=True, related_name="service_profile"
    )
    category = models.CharField(max_length=100, db_index=True)
    service_area = models.CharField(max_length=200)
    base_price_cents = models.PositiveBigIntegerField()

    def __str__(self):
        return f"Service profile of {self.vendor_id}"
