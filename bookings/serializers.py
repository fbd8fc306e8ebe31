"""Bookings API shapes. Output serializers read prefetched data only (no queries per row);
input serializers check shape and resolve ids, the model methods enforce the domain rules."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.models import MAX_BOOKING_VENDORS, MAX_PRICE_CENTS, Booking, BookingVendor
from strathwell.api.fields import StrictCharField, StrictIntegerField, StrictUUIDField
from strathwell.api.lean import LeanSerializerMixin
from templates_app.models import Template
from vendors.models import Vendor

MAX_NOTE_CHARS = 5000
MAX_GUESTS = 1_000_000


class CentsField(serializers.IntegerField):
    """A positive whole number of cents as a JSON integer: no floats, strings or booleans."""

    default_error_messages = {
        "invalid": "A whole number of cents (a JSON integer) is required.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PRICE_CENTS)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _check_future(value):
    if value <= timezone.localdate():
        raise serializers.ValidationError("The event date must be in the future.")
    return value


# --- output -----------------------------------------------------------------------------------


# A plain enum (no labels) gets its own schema component (BookingVendorRoleEnum) instead of
# colliding with the users' `role` enums and duplicating vendors' VendorTypeEnum under a second
# name, which drf-spectacular warns about.
@extend_schema_field({"type": "string", "enum": list(BookingVendor.Role.values)})
class LineRoleField(serializers.CharField):
    pass


class BookingVendorSerializer(LeanSerializerMixin, serializers.ModelSerializer):
    vendor_id = serializers.UUIDField(read_only=True)
    vendor_name = serializers.CharField(source="vendor.business_name", read_only=True)
    role = LineRoleField(read_only=True)

    class Meta:
        model = BookingVendor
        fields = [
            "id",
            "vendor_id",
            "vendor_name",
            "role",
            "status",
            "proposed_price_cents",
            "counter_price_cents",
            "agreed_price_cents",
            "note",
        ]
        read_only_fields = fields


class BookingSerializer(LeanSerializerMixin, serializers.ModelSerializer):
    template_id = serializers.UUIDField(read_only=True, allow_null=True)
    organizer_id = serializers.UUIDField(read_only=True)
    total_cents = serializers.IntegerField(
        read_only=True,
        help_text="Sum of agreed (before agreement: proposed) prices; declined lines excluded.",
    )
    deposit_cents = serializers.IntegerField(
        read_only=True,
        help_text="round_half_up(total_cents × BOOKING_DEPOSIT_PERCENT / 100).",
    )
    amount_paid_cents = serializers.IntegerField(
        read_only=True, help_text="Σ succeeded payments − Σ succeeded refunds."
    )
    balance_cents = serializers.IntegerField(
        read_only=True,
        help_text="total_cents − Σ succeeded payments, never negative (0 once canceled); "
        "POST /bookings/{id}/payments {kind: balance} collects it.",
    )
    balance_due_on = serializers.DateField(
        read_only=True, help_text="event_date − BALANCE_DUE_DAYS."
    )
    vendors = BookingVendorSerializer(many=True, read_only=True)
    my_line = serializers.SerializerMethodField(
        help_text="For a vendor caller: its own line on this booking, so an incoming request's "
        "status is first-class; null for organizers and admins."
    )

    class Meta:
        model = Booking
        fields = [
            "id",
            "title",
            "event_date",
            "guest_count",
            "notes",
            "template_id",
            "status",
            "currency",
            "total_cents",
            "deposit_cents",
            "amount_paid_cents",
            "balance_cents",
            "balance_due_on",
            "organizer_id",
            "vendors",
            "my_line",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(BookingVendorSerializer(allow_null=True))
    def get_my_line(self, booking):
        vendor_id = self.context.get("caller_vendor_id")
        if vendor_id is None:  # organizers and staff have no line
            return None
        line = next((ln for ln in booking.vendors.all() if ln.vendor_id == vendor_id), None)
        return BookingVendorSerializer(line).data if line is not None else None


# --- input ------------------------------------------------------------------------------------


class VendorLineInputSerializer(serializers.Serializer):
    vendor_id = StrictUUIDField()
    proposed_price_cents = CentsField()


class BookingCreateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=200)
    event_date = serializers.DateField()
    guest_count = StrictIntegerField(min_value=1, max_value=MAX_GUESTS)
    template_id = StrictUUIDField(required=False, allow_null=True)
    notes = StrictCharField(required=False, allow_blank=True, max_length=MAX_NOTE_CHARS, default="")
    vendors = VendorLineInputSerializer(
        many=True, allow_empty=False, max_length=MAX_BOOKING_VENDORS
    )

    def validate_event_date(self, value):
        return _check_future(value)

    def validate(self, attrs):
        ids = [line["vendor_id"] for line in attrs["vendors"]]
        found = {v.pk: v for v in Vendor.objects.filter(pk__in=ids).select_related("venue_profile")}
        unknown = [str(pk) for pk in dict.fromkeys(ids) if pk not in found]
        if unknown:
            raise serializers.ValidationError(
                {"vendors": [f"Vendor {pk} does not exist." for pk in unknown]}
            )
        attrs["lines"] = [
            (found[line["vendor_id"]], line["proposed_price_cents"]) for line in attrs["vendors"]
        ]
        attrs["template"] = None
        if attrs.get("template_id"):
            attrs["template"] = Template.objects.filter(
                pk=attrs["template_id"], is_published=True
            ).first()
            if attrs["template"] is None:
                raise serializers.ValidationError(
                    {"template_id": ["No published template has this id."]}
                )
        return attrs


class BookingUpdateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=200, required=False)
    event_date = serializers.DateField(required=False)
    guest_count = StrictIntegerField(min_value=1, max_value=MAX_GUESTS, required=False)
    notes = StrictCharField(required=False, allow_blank=True, max_length=MAX_NOTE_CHARS)

    def validate_event_date(self, value):
        return _check_future(value)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {f: ["This field cannot be changed here."] for f in unknown}
            )
        return attrs


class AddVendorSerializer(serializers.Serializer):
    vendor_id = StrictUUIDField()
    proposed_price_cents = CentsField()

    def validate(self, attrs):
        vendor = Vendor.objects.filter(pk=attrs["vendor_id"]).select_related("venue_profile")
        attrs["vendor"] = vendor.first()
        if attrs["vendor"] is None:
            raise serializers.ValidationError({"vendor_id": ["This vendor does not exist."]})
        return attrs


class DeclineSerializer(serializers.Serializer):
    reason = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_CHARS, default=""
    )


class CounterSerializer(serializers.Serializer):
    price_cents = CentsField()
    note = StrictCharField(required=False, allow_blank=True, max_length=MAX_NOTE_CHARS, default="")


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_CHARS, default=""
    )
