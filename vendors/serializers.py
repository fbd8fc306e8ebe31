import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from strathwell.api.fields import StrictCharField, StrictIntegerField, StrictModelSerializer
from strathwell.api.lean import LeanSerializerMixin
from vendors.availability import MAX_RANGE_DAYS
from vendors.models import MAX_DAILY_CAPACITY, ServiceProfile, Vendor, VenueProfile

MAX_PRICE_CENTS = 10**12  # 10 billion in major units: anything above is a typo


class VenueProfileSerializer(LeanSerializerMixin, StrictModelSerializer):
    capacity = StrictIntegerField(min_value=1, max_value=1_000_000)
    base_price_cents = StrictIntegerField(min_value=1, max_value=MAX_PRICE_CENTS)
    amenities = serializers.ListField(
        child=StrictCharField(max_length=100), max_length=50, required=False
    )

    class Meta:
        model = VenueProfile
        fields = ["address", "capacity", "base_price_cents", "amenities"]


class ServiceProfileSerializer(LeanSerializerMixin, StrictModelSerializer):
    base_price_cents = StrictIntegerField(min_value=1, max_value=MAX_PRICE_CENTS)

    class Meta:
        model = ServiceProfile
        fields = ["category", "service_area", "base_price_cents"]


def daily_capacity_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAILY_CAPACITY,
        required=False,
        help_text="Events the vendor takes on one date (default 1). Venues: always 1.",
    )


def check_daily_capacity(attrs: dict, vendor_type: str) -> None:
    """A venue hosts one event per date: its daily capacity is 1 and nothing else."""
    capacity = attrs.get("daily_capacity")
    if vendor_type == Vendor.VendorType.VENUE and capacity not in (None, 1):
        raise serializers.ValidationError(
            {"daily_capacity": ["A venue hosts one event per date; its daily capacity is 1."]}
        )


def check_profile_matches(attrs: dict, vendor_type: str, *, required: bool) -> None:
    """The one profile matching vendor_type: the other one is refused, the matching one is
    required on onboarding. Errors name the field."""
    expected = Vendor.PROFILE_FIELDS[vendor_type]
    other = next(f for t, f in Vendor.PROFILE_FIELDS.items() if t != vendor_type)
    errors = {}
    if attrs.get(other) is not None:
        errors[other] = [f"A {vendor_type} vendor has a {expected}, not a {other}."]
    if required and attrs.get(expected) is None:
        errors[expected] = [f"This field is required for a {vendor_type} vendor."]
    if errors:
        raise serializers.ValidationError(errors)


class OnboardingSerializer(serializers.Serializer):
    vendor_type = serializers.ChoiceField(choices=Vendor.VendorType.choices)
    business_name = StrictCharField(max_length=200)
    description = StrictCharField(max_length=5000, allow_blank=True, required=False)
    city = StrictCharField(max_length=120)
    venue_profile = VenueProfileSerializer(required=False, allow_null=True)
    service_profile = ServiceProfileSerializer(required=False, allow_null=True)
    daily_capacity = daily_capacity_field()

    def validate(self, attrs):
        check_profile_matches(attrs, attrs["vendor_type"], required=True)
        check_daily_capacity(attrs, attrs["vendor_type"])
        return attrs


class VendorUpdateSerializer(serializers.Serializer):
    """PATCH /vendors/me (used with partial=True): every field optional, profile fields merge
    into the existing profile."""

    vendor_type = serializers.ChoiceField(choices=Vendor.VendorType.choices, required=False)
    business_name = StrictCharField(max_length=200, required=False)
    description = StrictCharField(max_length=5000, allow_blank=True, required=False)
    city = StrictCharField(max_length=120, required=False)
    venue_profile = VenueProfileSerializer(required=False)
    service_profile = ServiceProfileSerializer(required=False)
    photo_keys = serializers.ListField(
        child=StrictCharField(max_length=300), max_length=50, required=False
    )
    daily_capacity = daily_capacity_field()

    def validate(self, attrs):
        vendor = self.context["vendor"]
        check_daily_capacity(attrs, vendor.vendor_type)
        if "vendor_type" in attrs and attrs["vendor_type"] != vendor.vendor_type:
            raise serializers.ValidationError(
                {"vendor_type": ["The vendor type cannot change after onboarding."]}
            )
        check_profile_matches(attrs, vendor.vendor_type, required=False)
        return attrs


class VendorSerializer(LeanSerializerMixin, serializers.ModelSerializer):
    """The public face of an (approved) vendor, with its profile. No admin notes."""

    venue_profile = serializers.SerializerMethodField()
    service_profile = serializers.SerializerMethodField()
    # A JSONField: declared so the schema says what it holds (upload keys).
    photo_keys = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Vendor
        fields = [
            "id",
            "vendor_type",
            "business_name",
            "description",
            "city",
            "verification_status",
            "daily_capacity",
            "photo_keys",
            "venue_profile",
            "service_profile",
        ]
        read_only_fields = fields

    # The profile comes from select_related (no query here): the other one is None.
    def _profile(self, vendor, vendor_type, serializer_class):
        if vendor.vendor_type != vendor_type:
            return None
        profile = vendor.profile
        return serializer_class(profile).data if profile is not None else None

    @extend_schema_field(VenueProfileSerializer(allow_null=True))
    def get_venue_profile(self, vendor):
        return self._profile(vendor, Vendor.VendorType.VENUE, VenueProfileSerializer)

    @extend_schema_field(ServiceProfileSerializer(allow_null=True))
    def get_service_profile(self, vendor):
        return self._profile(vendor, Vendor.VendorType.SERVICE, ServiceProfileSerializer)


class OwnVendorSerializer(VendorSerializer):
    """The vendor's own view: status, the staff's notes on what to change, timestamps."""

    class Meta(VendorSerializer.Meta):
        fields = [
            *VendorSerializer.Meta.fields,
            "admin_notes",
            "verified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AdminVendorSerializer(OwnVendorSerializer):
    user_id = serializers.UUIDField(read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)

    class Meta(OwnVendorSerializer.Meta):
        fields = [*OwnVendorSerializer.Meta.fields, "user_id", "user_email"]
        read_only_fields = fields


class ApproveSerializer(serializers.Serializer):
    notes = StrictCharField(max_length=5000, allow_blank=True, required=False, default="")


class NeedsChangesSerializer(serializers.Serializer):
    notes = StrictCharField(max_length=5000)


# --- availability -----------------------------------------------------------------------------


class DateRangeQuerySerializer(serializers.Serializer):
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD`, both optional: from today, to 90 days after `from`.
    `from ≤ to`, and the range spans at most 366 days (both ends included)."""

    DEFAULT_DAYS = 90

    # `from` is a Python keyword: the field is declared under its query name below.
    to = serializers.DateField(required=False, help_text="Last date (default: from + 90 days).")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False, help_text="First date (default: today)."
        )
        return fields

    def validate(self, attrs):
        start = attrs.get("from") or timezone.localdate()
        end = attrs.get("to") or start + datetime.timedelta(days=self.DEFAULT_DAYS)
        if start > end:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"to": [f"The range spans at most {MAX_RANGE_DAYS} days."]}
            )
        return {"from": start, "to": end}


class CalendarEntrySerializer(serializers.Serializer):
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=["blocked", "held", "booked"])
    booking_id = serializers.UUIDField(
        allow_null=True, help_text="The booking holding the date (null for a block)."
    )
    booking_vendor_id = serializers.UUIDField(
        allow_null=True, help_text="The vendor's line on that booking (null for a block)."
    )
    note = serializers.CharField(allow_blank=True, help_text="The vendor's note on a block.")


class BlockDateSerializer(serializers.Serializer):
    date = serializers.DateField()
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_date(self, value):
        if value < timezone.localdate():
            raise serializers.ValidationError("A past date cannot be blocked.")
        return value


class BlockedDateSerializer(serializers.Serializer):
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=["blocked"])
    note = serializers.CharField(allow_blank=True)


class AvailabilitySerializer(serializers.Serializer):
    vendor_id = serializers.UUIDField()
    unavailable = serializers.ListField(
        child=serializers.DateField(), help_text="Dates in the range on which the vendor is full."
    )
    from_ = serializers.DateField(help_text="First date of the range read.")
    to = serializers.DateField(help_text="Last date of the range read.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields
