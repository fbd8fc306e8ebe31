from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import User


class SubscriptionSerializer(serializers.Serializer):
    status = serializers.CharField(source="subscription_status", read_only=True)
    plan = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(source="subscription_started_at", read_only=True)
    canceled_at = serializers.DateTimeField(source="subscription_canceled_at", read_only=True)

    def get_plan(self, user) -> str | None:
        return user.subscription_plan or None


class UserSerializer(serializers.ModelSerializer):
    is_admin = serializers.BooleanField(read_only=True)
    subscription = SubscriptionSerializer(source="*", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "is_admin", "subscription"]
        read_only_fields = fields


class SignupSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    full_name = serializers.CharField(max_length=200)
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
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        write_only=True,
        help_text="Staff only (when STAFF_OTP_REQUIRED): the code from their authenticator app.",
    )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
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
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResultSerializer(TokenPairSerializer):
    user = UserSerializer()


class SubscriptionStartSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=User.Plan.choices)
