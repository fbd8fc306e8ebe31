from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import User
from strathwell.api.fields import StrictCharField, StrictEmailField


class SubscriptionSerializer(serializers.Serializer):
    status = serializers.CharField(source="subscription_status", read_only=True)
    plan = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(
        source="subscription_started_at", read_only=True, allow_null=True
    )
    canceled_at = serializers.DateTimeField(
        source="subscription_canceled_at", read_only=True, allow_null=True
    )

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


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResultSerializer(TokenPairSerializer):
    user = UserSerializer()


class SubscriptionStartSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=User.Plan.choices)
