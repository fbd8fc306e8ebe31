import hmac

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import serializers as s
from accounts.models import User
from accounts.signals import user_bootstrapped
from accounts.tokens import issue_tokens, revoke_refresh_token, rotate_refresh_token
from strathwell.api.exceptions import InvalidCredentials
from strathwell.api.permissions import IsOrganizer
from strathwell.api.throttling import AuthRateThrottle
from strathwell.audit.services import snapshot
from strathwell.exceptions import AlreadyExists


def _create_user(data: dict, **extra) -> User:
    try:
        with transaction.atomic():
            if User.objects.filter(email__iexact=data["email"]).exists():
                raise AlreadyExists("An account with this email already exists.")
            return User.objects.create_user(
                data["email"], data["password"], full_name=data["full_name"], **extra
            )
    except IntegrityError as exc:  # a concurrent signup won the race for this email
        raise AlreadyExists("An account with this email already exists.") from exc


class AuthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthRateThrottle]

    def get_authenticate_header(self, request):
        # No authenticators here, but credential failures are still 401, not 403.
        return 'Bearer realm="api"'


class SignupView(AuthView):
    @extend_schema(
        request=s.SignupSerializer,
        responses={201: s.AuthResultSerializer},
        tags=["auth"],
        # A valid body: clients see one, and schemathesis mutates it field by field.
        examples=[
            OpenApiExample(
                "organizer",
                request_only=True,
                value={
                    "email": "ann@example.com",
                    "password": "Plan-2026-events!",
                    "full_name": "Ann Lee",
                    "role": "organizer",
                },
            )
        ],
    )
    def post(self, request):
        serializer = s.SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _create_user(serializer.validated_data, role=serializer.validated_data["role"])
        body = {"user": s.UserSerializer(user).data, **issue_tokens(user)}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(AuthView):
    @extend_schema(
        request=s.LoginSerializer, responses={200: s.AuthResultSerializer}, tags=["auth"]
    )
    def post(self, request):
        serializer = s.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["email"].strip().lower(),
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise InvalidCredentials()
        return Response({"user": s.UserSerializer(user).data, **issue_tokens(user)})


class RefreshView(AuthView):
    @extend_schema(
        request=s.RefreshSerializer, responses={200: s.TokenPairSerializer}, tags=["auth"]
    )
    def post(self, request):
        serializer = s.RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(rotate_refresh_token(serializer.validated_data["refresh"]))


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.RefreshSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        serializer = s.RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not revoke_refresh_token(serializer.validated_data["refresh"], user=request.user):
            raise ValidationError({"refresh": ["This refresh token does not belong to you."]})
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)


class AdminBootstrapView(AuthView):
    """Create an admin with the operator's bootstrap token (constant-time compare, audited)."""

    @extend_schema(
        request=s.AdminBootstrapSerializer, responses={201: s.UserSerializer}, tags=["auth"]
    )
    def post(self, request):
        expected = settings.ADMIN_BOOTSTRAP_TOKEN
        if not expected:
            raise NotFound()
        presented = request.headers.get("X-Admin-Bootstrap-Token", "")
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise PermissionDenied("The bootstrap token is not valid.")
        serializer = s.AdminBootstrapSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            user = _create_user(
                serializer.validated_data, role=User.Role.ADMIN, is_staff=True, is_superuser=True
            )
            user_bootstrapped.send(
                sender=User,
                actor=None,
                action="admin.bootstrap",
                target=user,
                before=None,
                after=snapshot(user),
                reason="Admin created with the bootstrap token.",
            )
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class SubscriptionView(APIView):
    permission_classes = [IsOrganizer]

    @extend_schema(responses={200: s.SubscriptionSerializer}, tags=["subscription"])
    def get(self, request):
        return Response(s.SubscriptionSerializer(request.user).data)


class SubscriptionStartView(APIView):
    permission_classes = [IsOrganizer]

    @extend_schema(
        request=s.SubscriptionStartSerializer,
        responses={200: s.SubscriptionSerializer},
        tags=["subscription"],
    )
    def post(self, request):
        serializer = s.SubscriptionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user.start_subscription(
            plan=serializer.validated_data["plan"], actor=request.user
        )
        return Response(s.SubscriptionSerializer(user).data)


class SubscriptionCancelView(APIView):
    permission_classes = [IsOrganizer]

    @extend_schema(request=None, responses={200: s.SubscriptionSerializer}, tags=["subscription"])
    def post(self, request):
        user = request.user.cancel_subscription(actor=request.user)
        return Response(s.SubscriptionSerializer(user).data)
