from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Subscription, User
from strathwell.api.fields import StrictCharField, StrictEmailField


class SubscriptionSerializer(serializers.ModelSerializer):
    """An organizer's subscription. `has_access`: whether the organizer gates are open now
    (`Subscription.access()`: active until `cancel_at`, past_due within the grace period)."""

    # Declared (not left to the read-only model fields) so the schema has the enums and the
    # nullability a typed client needs: the dates are null until the event happens.
    status = serializers.ChoiceField(choices=Subscription.Status.choices, read_only=True)
    plan = serializers.SerializerMethodField()
    provider = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    canceled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    current_period_end = serializers.DateTimeField(read_only=True, allow_null=True)
    cancel_at = serializers.DateTimeField(read_only=True, allow_null=True)
    has_access = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "status",
            "plan",
            "provider",
            "started_at",
            "canceled_at",
            "current_period_end",
            "cancel_at",
            "has_access",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=Subscription.Plan.choices, allow_null=True)
    )
    def get_plan(self, sub) -> str | None:
        return sub.plan or None

    @extend_schema_field(
        serializers.ChoiceField(choices=Subscription.Provider.choices, allow_null=True)
    )
    def get_provider(self, sub) -> str | None:
        return sub.provider or None

    def get_has_access(self, sub) -> bool:
        return sub.access().granted


class SubscriptionStartResultSerializer(SubscriptionSerializer):
    """The subscription a start made or found. `client_secret`: while `incomplete`, the secret
    of the first invoice's PaymentIntent for Stripe.js to confirm (else null)."""

    client_secret = serializers.SerializerMethodField()

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "client_secret"]
        read_only_fields = fields

    def get_client_secret(self, sub) -> str | None:
        return self.context.get("client_secret")


class UserSerializer(serializers.ModelSerializer):
    is_admin = serializers.BooleanField(read_only=True)
    subscription = SubscriptionSerializer(source="current_subscription", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "is_admin", "subscription"]
        read_only_fields = fields


class SignupSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    # min_length: Django's MinimumLengthValidator (8), so the schema says it too.
    password = StrictCharField(
        write_only=True, min_length=8, max_length=128, style={"input_type": "password"}
    )
    full_name = StrictCharField(max_length=200)
    role = serializers.ChoiceField(choices=[User.Role.ORGANIZER, User.Role.VENDOR])

    def validate_email(self, value):
        return value.strip().lower()

    def validate(self, attrs):
        candidate = User(email=attrs["email"], full_name=attrs["full_name"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class AdminBootstrapSerializer(SignupSerializer):
    role = None


class LoginSerializer(serializers.Serializer):
    email = StrictEmailField()
    password = StrictCharField(write_only=True, style={"input_type": "password"})
    otp_token = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=16,
        write_only=True,
        help_text="Staff only (when STAFF_OTP_REQUIRED): the code from their authenticator app.",
    )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = StrictCharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    new_password = StrictCharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )

    def validate(self, attrs):
        user = self.context["user"]
        if attrs["new_password"] == attrs["current_password"]:
            raise serializers.ValidationError(
                {"new_password": ["The new password must differ from the current one."]}
            )
        try:
            validate_password(attrs["new_password"], user=user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"new_password": list(exc.messages)}) from exc
        return attrs


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResultSerializer(TokenPairSerializer):
    user = UserSerializer()


class SubscriptionStartSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=Subscription.Plan.choices)
    payment_method = StrictCharField(
        required=False,
        max_length=255,
        help_text="A Stripe PaymentMethod id made with Stripe.js (`pm_…`). Required when "
        "subscriptions go through Stripe Billing; ignored by the manual provider.",
    )
