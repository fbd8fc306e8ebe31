from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from bookings.models import Booking
from disputes.models import Dispute
from payments.models import Payment, Payout, Refund
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
    held_cents = serializers.IntegerField(
        help_text="Stripe clearing account: Σ money received (held_funds)."
    )
    fees_cents = serializers.IntegerField(
        help_text="Platform revenue account: commission earned less commission refunded."
    )
    paid_out_cents = serializers.IntegerField(help_text="Vendor payouts account: Σ paid out.")
    refunded_cents = serializers.IntegerField(help_text="Organizer refunds account.")
    owed_to_vendors_cents = serializers.IntegerField(
        help_text="Σ vendor payable accounts: unpaid, unreversed payouts."
    )
    escrow_cents = serializers.IntegerField(
        help_text="Σ booking escrow accounts: money owed to nobody yet (to be refunded)."
    )
    outstanding_cents = serializers.IntegerField(
        help_text="owed to vendors + escrow: what the platform still holds for others."
    )
    platform_holds_cents = serializers.IntegerField(
        help_text="held − refunded − paid out (= outstanding + fees)."
    )


class AdminOverviewSerializer(serializers.Serializer):
    vendors = _counts("VendorCountsSerializer", Vendor.VerificationStatus.values)
    bookings = _counts("BookingCountsSerializer", Booking.Status.values)
    payments = _counts("PaymentCountsSerializer", Payment.Status.values)
    payouts = _counts("PayoutCountsSerializer", Payout.Status.values)
    refunds = _counts("RefundCountsSerializer", Refund.Status.values)
    disputes = _counts("DisputeCountsSerializer", Dispute.Status.values)
    money = MoneyTotalsSerializer(help_text="Ledger totals in DEFAULT_CURRENCY.")
    money_by_currency = MoneyTotalsSerializer(many=True)


# --- audit log --------------------------------------------------------------------------------


class AuditActorSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        allow_null=True, help_text="null for `system` (a periodic job acting on its own)."
    )
    email = serializers.CharField(help_text="The user's email then, or `system`.")


class AuditLogSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    # JSONFields: the object's snapshot (field → value) before and after; null when none.
    before = serializers.DictField(read_only=True, allow_null=True)
    after = serializers.DictField(read_only=True, allow_null=True)

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
            # A periodic job's change is the platform's own: actor `system` (no user).
            return {"id": None, "email": log.actor_email} if log.actor_email else None
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
    broker = serializers.DictField(
        help_text="{ok, mode: celery|eager, url, latency_ms}: the Celery broker (REDIS_URL)"
    )
    jobs = serializers.DictField(
        help_text="{ok, oldest_due_seconds, max_lag_seconds, backlog: {job: {due, "
        "oldest_due_seconds}}}: how long the oldest due-but-unprocessed work has waited"
    )
    read_only_mode = serializers.BooleanField()
    version = serializers.CharField()


class DemoLoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=User.Role.choices)
    note = serializers.CharField()


class SeedDemoSerializer(serializers.Serializer):
    created = serializers.DictField(child=serializers.IntegerField())
    password = serializers.CharField(help_text="The one password every demo user shares.")
    logins = DemoLoginSerializer(many=True)
