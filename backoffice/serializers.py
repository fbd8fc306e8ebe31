from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.models import Booking
from disputes.models import Dispute
from payments.models import Payment, Payout
from strathwell.api.fields import StrictCharField
from strathwell.audit.models import AuditLog
from vendors.models import Vendor

# --- overview ---------------------------------------------------------------------------------


def _counts(name: str, statuses) -> serializers.Serializer:
    fields = {status: serializers.IntegerField() for status in statuses}
    fields["total"] = serializers.IntegerField()
    return type(name, (serializers.Serializer,), fields)()


class MoneyTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    held_cents = serializers.IntegerField(help_text="Σ held_funds ledger entries.")
    fees_cents = serializers.IntegerField(help_text="Σ platform_fee ledger entries.")
    paid_out_cents = serializers.IntegerField(help_text="Σ payout ledger entries.")
    outstanding_cents = serializers.IntegerField(
        help_text="held − fees − paid out: still on the platform (owed to vendors or refunds)."
    )


class AdminOverviewSerializer(serializers.Serializer):
    vendors = _counts("VendorCountsSerializer", Vendor.VerificationStatus.values)
    bookings = _counts("BookingCountsSerializer", Booking.Status.values)
    payments = _counts("PaymentCountsSerializer", Payment.Status.values)
    payouts = _counts("PayoutCountsSerializer", Payout.Status.values)
    disputes = _counts("DisputeCountsSerializer", Dispute.Status.values)
    money = MoneyTotalsSerializer(help_text="Ledger totals in DEFAULT_CURRENCY.")
    money_by_currency = MoneyTotalsSerializer(many=True)


# --- audit log --------------------------------------------------------------------------------


class AuditActorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.CharField()


class AuditLogSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "actor",
            "action",
            "target_type",
            "target_id",
            "before",
            "after",
            "reason",
            "ip",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AuditActorSerializer(allow_null=True))
    def get_actor(self, log):
        # From the row itself (no join): the email as it was when the action happened.
        if log.actor_id is None:
            return None
        return {"id": str(log.actor_id), "email": log.actor_email}


# --- admin actions and ops --------------------------------------------------------------------


class AdminReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000)


class OpsHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    database = serializers.DictField(help_text="{ok, latency_ms}")
    migrations = serializers.DictField(help_text="{ok, unapplied: [app.migration]}")
    storage = serializers.DictField(help_text="{ok, provider, detail}")
    stripe = serializers.DictField(
        help_text="{configured, webhook_secret_configured, api_base, mode}"
    )
    read_only_mode = serializers.BooleanField()
    version = serializers.CharField()


class DemoLoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.CharField()
    note = serializers.CharField()


class SeedDemoSerializer(serializers.Serializer):
    created = serializers.DictField(child=serializers.IntegerField())
    password = serializers.CharField(help_text="The one password every demo user shares.")
    logins = DemoLoginSerializer(many=True)
