import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from strathwell.audit.services import snapshot
from strathwell.exceptions import DomainValidationError
from strathwell.transitions import Transitions
from vendors.signals import vendor_availability_changed, vendor_verification_changed

# A vendor hosts at most this many events on one date (a venue exactly one).
MAX_DAILY_CAPACITY = 50


class VendorQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(verification_status=Vendor.VerificationStatus.APPROVED)

    def with_profiles(self):
        """Both profile relations in the same query (one of them is always empty)."""
        return self.select_related("venue_profile", "service_profile")


class Vendor(Transitions, models.Model):
    """A venue owner or service provider. Only `approved` vendors are listed or bookable.

    A vendor has exactly one profile, the one matching `vendor_type` (`VenueProfile` for a
    venue, `ServiceProfile` for a service). Onboarding creates both in one transaction; on
    PostgreSQL triggers (migration 0002) refuse a profile of the other type and a type change.
    """

    class VendorType(models.TextChoices):
        VENUE = "venue"
        SERVICE = "service"

    class VerificationStatus(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        NEEDS_CHANGES = "needs_changes"

    # The verification state table of API.md; anything else is 409 invalid_transition.
    TRANSITIONS = {
        VerificationStatus.PENDING: {
            VerificationStatus.APPROVED,
            VerificationStatus.NEEDS_CHANGES,
        },
        VerificationStatus.NEEDS_CHANGES: {VerificationStatus.PENDING},
        VerificationStatus.APPROVED: set(),
    }
    STATUS_FIELD = "verification_status"
    TRANSITION_ERROR = "A vendor cannot go from {old} to {new}."
    TRANSITION_ERROR_DETAILS = {"from": "{old}", "to": "{new}"}
    transition_signal = vendor_verification_changed

    # The one profile relation of each vendor type.
    PROFILE_FIELDS = {VendorType.VENUE: "venue_profile", VendorType.SERVICE: "service_profile"}

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
    # Events the vendor takes on one date (venues: always 1). Changed only through
    # `vendors.availability.set_daily_capacity`, which keeps the dates' units within it.
    daily_capacity = models.PositiveSmallIntegerField(default=1)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VendorQuerySet.as_manager()

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
            models.CheckConstraint(
                condition=models.Q(daily_capacity__gte=1, daily_capacity__lte=MAX_DAILY_CAPACITY),
                name="vendors_vendor_daily_capacity_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(vendor_type="venue") | models.Q(daily_capacity=1),
                name="vendors_venue_daily_capacity_one",
            ),
        ]

    def __str__(self):
        return self.business_name

    @property
    def is_approved(self) -> bool:
        return self.verification_status == self.VerificationStatus.APPROVED

    @property
    def profile(self):
        """The profile matching `vendor_type` (None if missing)."""
        name = self.PROFILE_FIELDS.get(self.vendor_type)
        try:
            return getattr(self, name) if name else None
        except (VenueProfile.DoesNotExist, ServiceProfile.DoesNotExist):
            return None

    def audit_snapshot(self) -> dict:
        """The vendor and its profile, JSON-safe, for the audit trail's before/after."""
        data = snapshot(self)
        profile = self.profile
        data["profile"] = snapshot(profile) if profile is not None else None
        return data

    def audit_state(self) -> dict:
        return self.audit_snapshot()

    # --- verification transitions: lock, re-read, guard, write, signal ---------------------

    def approve(self, actor, notes: str = "") -> "Vendor":
        """pending → approved (staff). Locks the vendor row; audited with before/after."""
        return self._transition(
            self.VerificationStatus.APPROVED,
            actor=actor,
            action="vendor.approve",
            notes=notes,
        )

    def request_changes(self, actor, notes: str) -> "Vendor":
        """pending → needs_changes (staff), with notes telling the vendor what to fix."""
        if not (notes or "").strip():
            raise DomainValidationError(
                "notes: say what the vendor has to change.",
                details={"notes": ["This field is required."]},
            )
        return self._transition(
            self.VerificationStatus.NEEDS_CHANGES,
            actor=actor,
            action="vendor.request_changes",
            notes=notes,
        )

    def resubmit(self, actor) -> "Vendor":
        """needs_changes → pending (the vendor, after editing its profile)."""
        return self._transition(
            self.VerificationStatus.PENDING, actor=actor, action="vendor.resubmit"
        )

    def _transition(self, new: str, *, actor, action: str, notes: str | None = None) -> "Vendor":
        with transaction.atomic():
            locked = self.lock_row()
            changes = {}
            if new == self.VerificationStatus.APPROVED:
                changes["verified_at"] = timezone.now()
            if notes is not None:  # approve clears stale change requests unless given notes
                changes["admin_notes"] = notes.strip()
            locked.transition(
                new, actor=actor, action=action, reason=(notes or "").strip(), **changes
            )
        self._refresh_from(locked)
        return locked

    def _refresh_from(self, other: "Vendor") -> None:
        for field in ("verification_status", "verified_at", "admin_notes", "updated_at"):
            setattr(self, field, getattr(other, field))


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


class VendorDateUnit(Transitions, models.Model):
    """One unit of a vendor's capacity on one date: `blocked` by the vendor, `held` by an
    approved line of an unpaid booking, `booked` by a paid one. A date is open while it has
    fewer units than the vendor's `daily_capacity`; a released unit is deleted.

    The database keeps every vendor within capacity, whatever the interleaving: a unit
    occupies one numbered `slot` of its (vendor, date), unique; on PostgreSQL a trigger
    (migration 0003) refuses a slot at or above the vendor's `daily_capacity` (reading it
    `FOR SHARE`, so a concurrent capacity change waits). Slots are taken and released only by
    `vendors.availability`.
    """

    class Status(models.TextChoices):
        BLOCKED = "blocked"
        HELD = "held"
        BOOKED = "booked"

    # Units are created in `blocked` or `held` and deleted when released; the one move in
    # between is a hold becoming booked when its booking is paid.
    TRANSITIONS = {
        Status.HELD: {Status.BOOKED},
        Status.BOOKED: set(),
        Status.BLOCKED: set(),
    }
    TRANSITION_ERROR = "Cannot {verb} a capacity unit that is {old}."
    TRANSITION_ERROR_DETAILS = {"unit_status": "{old}"}
    transition_signal = vendor_availability_changed

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="date_units")
    date = models.DateField()
    slot = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    # The approved line whose booking holds (or booked) this unit; none for a block. PROTECT:
    # a line's unit is released (deleted) before the line is.
    booking_vendor = models.OneToOneField(
        "bookings.BookingVendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capacity_unit",
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "vendor_id", "slot"]
        constraints = [
            # The guarantee: one unit per slot, and (trigger) slot < daily_capacity.
            models.UniqueConstraint(
                fields=["vendor", "date", "slot"], name="vendors_unit_one_per_slot"
            ),
            models.CheckConstraint(
                condition=models.Q(slot__lt=MAX_DAILY_CAPACITY), name="vendors_unit_slot_range"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["blocked", "held", "booked"]),
                name="vendors_unit_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="blocked", booking_vendor__isnull=True)
                | models.Q(status__in=["held", "booked"], booking_vendor__isnull=False),
                name="vendors_unit_block_or_line",
            ),
        ]

    def __str__(self):
        return f"{self.vendor_id} on {self.date} slot {self.slot} ({self.status})"

    def audit_state(self) -> dict:
        """A unit's audit rows record what holds which date."""
        return {
            "vendor_id": str(self.vendor_id),
            "date": self.date,
            "slot": self.slot,
            "status": self.status,
            "booking_vendor_id": str(self.booking_vendor_id) if self.booking_vendor_id else None,
        }
