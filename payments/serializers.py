from rest_framework import serializers

from bookings.models import MAX_PRICE_CENTS
from payments.models import Payment, Payout, Refund, WebhookEvent
from strathwell.api.fields import StrictCharField, StrictIntegerField
from strathwell.api.lean import LeanSerializerMixin
from strathwell.audit.services import mask_secrets


class PaymentSerializer(serializers.ModelSerializer):
    """A payment. The booking's organizer also gets the PaymentIntent's `client_secret` (the
    frontend confirms the card payment with it through Stripe.js); staff never do: serialize
    with `context={"staff": True}` and the field is left out. (One serializer for both, so the
    schema has one `Payment` component and its enums keep their names.)"""

    booking_id = serializers.UUIDField(read_only=True)
    organizer_id = serializers.UUIDField(read_only=True)
    client_secret = serializers.CharField(
        read_only=True, help_text="Only for the booking's organizer; never in staff responses."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "booking_id",
            "organizer_id",
            "status",
            "kind",
            "amount_cents",
            "currency",
            "stripe_payment_intent_id",
            "client_secret",
            "failure_message",
            "succeeded_at",
            "payouts_created_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        if self.context.get("staff"):
            fields.pop("client_secret")
        return fields


class PaymentCreateSerializer(serializers.Serializer):
    """`POST /bookings/{id}/payments`: which part of the booking's price to collect."""

    kind = serializers.ChoiceField(
        choices=Payment.Kind.choices,
        default=Payment.Kind.DEPOSIT,
        help_text="deposit (default): the booking's deposit_cents, once it is "
        "ready_for_payment; balance: its balance_cents, once the deposit succeeded.",
    )


class RefundSerializer(serializers.ModelSerializer):
    payment_id = serializers.UUIDField(read_only=True)
    booking_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment_id",
            "booking_id",
            "amount_cents",
            "net_cents",
            "fee_cents",
            "currency",
            "status",
            "origin",
            "reason",
            "stripe_refund_id",
            "failure_message",
            "created_at",
            "succeeded_at",
        ]
        read_only_fields = fields


class RefundRequestSerializer(serializers.Serializer):
    """`POST /admin/payments/{id}/refund`: the amount (default: everything refundable)."""

    amount_cents = StrictIntegerField(required=False, min_value=1, max_value=MAX_PRICE_CENTS)
    reason = StrictCharField(max_length=2000, trim_whitespace=True)

    def validate_amount_cents(self, value):
        if isinstance(self.initial_data.get("amount_cents"), (bool, float, str)):
            raise serializers.ValidationError("A whole number of cents (a JSON integer).")
        return value


class PayoutSerializer(LeanSerializerMixin, serializers.ModelSerializer):
    vendor_id = serializers.UUIDField(read_only=True)
    booking_id = serializers.UUIDField(read_only=True)
    booking_vendor_id = serializers.UUIDField(read_only=True)
    payment_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "vendor_id",
            "booking_id",
            "booking_vendor_id",
            "payment_id",
            "kind",
            "amount_cents",
            "currency",
            "status",
            "requested_at",
            "eligible_at",
            "paid_at",
            "held_at",
            "hold_reason",
            "reversed_at",
            "reverse_reason",
            "split_from",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, trim_whitespace=True)


class OptionalReasonSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=2000, trim_whitespace=True, required=False, allow_blank=True
    )


class WebhookEventSerializer(serializers.ModelSerializer):
    # A JSONField: the Stripe event object as received (secrets masked).
    payload = serializers.DictField(read_only=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "stripe_event_id",
            "type",
            "outcome",
            "error",
            "attempts",
            "livemode",
            "received_at",
            "processed_at",
            "payload",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        # A payment_intent event carries the PaymentIntent's client_secret, which is the paying
        # organizer's alone: staff see the payload with secrets masked, as in the console.
        data = super().to_representation(instance)
        data["payload"] = mask_secrets(data["payload"])
        return data


class WebhookAckSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    event_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=WebhookEvent.Outcome.choices)
    duplicate = serializers.BooleanField()
