import hmac

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import billing
from accounts import serializers as s
from accounts.models import User
from accounts.signals import password_changed, user_bootstrapped
from accounts.tokens import issue_tokens, revoke_refresh_token, rotate_refresh_token
from strathwell import staff_auth
from strathwell.api.exceptions import InvalidCredentials, InvalidOTP, OTPRequired, OTPSetupRequired
from strathwell.api.permissions import IsOrganizer
from strathwell.api.schema import ErrorEnvelopeSerializer
from strathwell.api.throttling import AuthRateThrottle, UserRateThrottle
from strathwell.audit.services import snapshot
from strathwell.db import advisory_xact_lock
from strathwell.exceptions import AccountLocked, AlreadyExists


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


def check_password(request, email: str, password: str) -> User | None:
    """The user these credentials sign in, or None. Goes through `authenticate` with the
    HttpRequest, so the login lockout (django-axes) counts failures and refuses a locked-out
    email + client IP (AccountLocked, 429) before the password is checked."""
    http_request = request._request
    user = authenticate(http_request, username=email.strip().lower(), password=password)
    if user is None and getattr(http_request, "axes_locked_out", False):
        minutes = staff_auth.lockout_minutes()
        raise AccountLocked(
            f"Too many failed logins: try again in {minutes} minutes.",
            details={"retry_after_seconds": minutes * 60},
        )
    return user


def check_second_factor(user: User, code: str | None) -> None:
    """Staff who must use an authenticator (STAFF_OTP_REQUIRED) sign in with its code."""
    if not staff_auth.otp_required_for(user):
        return
    if not staff_auth.has_authenticator(user):
        raise OTPSetupRequired()
    if not code:
        raise OTPRequired()
    if staff_auth.verify_code(user, code) is None:
        raise InvalidOTP()


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
        request=s.LoginSerializer,
        responses={
            200: s.AuthResultSerializer,
            401: OpenApiResponse(description="invalid_credentials / otp_required / invalid_otp"),
            403: OpenApiResponse(description="otp_setup_required (staff without authenticator)"),
            429: OpenApiResponse(description="account_locked (too many failures) / throttled"),
        },
        tags=["auth"],
        description="Staff (when STAFF_OTP_REQUIRED) also send `otp_token`. "
        "After LOGIN_FAILURE_LIMIT wrong passwords for one email from one client, that pair "
        "is locked out for LOGIN_LOCKOUT_MINUTES (429 `account_locked`).",
    )
    def post(self, request):
        serializer = s.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = check_password(request, data["email"], data["password"])
        if user is None:
            raise InvalidCredentials()
        check_second_factor(user, data.get("otp_token"))
        # A completed login: resets the lockout count, records last_login.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
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


class PasswordChangeView(APIView):
    """Change one's own password: every session of the user is revoked (all refresh-token
    families; access tokens already issued stop working at once) and a new session is
    returned for the caller."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle, UserRateThrottle]

    @extend_schema(
        request=s.PasswordChangeSerializer,
        responses={
            200: s.TokenPairSerializer,
            429: OpenApiResponse(description="account_locked (too many wrong passwords)"),
        },
        tags=["auth"],
    )
    def post(self, request):
        serializer = s.PasswordChangeSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = check_password(request, request.user.email, data["current_password"])
        if user is None or user.pk != request.user.pk:
            raise ValidationError({"current_password": ["The current password is not correct."]})
        with transaction.atomic():
            user.set_password(data["new_password"])
            user.save(update_fields=["password"])  # revokes every session (User.save)
            password_changed.send(
                sender=User,
                actor=user,
                action="auth.password_change",
                target=user,
                before=None,
                after={"password": "changed", "sessions": "revoked"},
                reason="",
            )
            tokens = issue_tokens(user)
        return Response(tokens)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)


def _bootstrap_closed() -> bool:
    """The token makes the first superuser only (unless ADMIN_BOOTSTRAP_ALLOW_MORE)."""
    return (
        not settings.ADMIN_BOOTSTRAP_ALLOW_MORE and User.objects.filter(is_superuser=True).exists()
    )


class AdminBootstrapView(AuthView):
    """Create the first admin with the operator's bootstrap token (constant-time compare,
    audited). Once a superuser exists the endpoint is gone (404), unless
    ADMIN_BOOTSTRAP_ALLOW_MORE=true: a leaked token cannot mint more admins."""

    @extend_schema(
        request=s.AdminBootstrapSerializer,
        responses={
            201: s.UserSerializer,
            404: OpenApiResponse(
                description="`not_found`: no ADMIN_BOOTSTRAP_TOKEN, or an admin already exists."
            ),
        },
        tags=["auth"],
    )
    def post(self, request):
        expected = settings.ADMIN_BOOTSTRAP_TOKEN
        if not expected or _bootstrap_closed():
            raise NotFound()
        presented = request.headers.get("X-Admin-Bootstrap-Token", "")
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise PermissionDenied("The bootstrap token is not valid.")
        serializer = s.AdminBootstrapSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            # Two concurrent bootstraps queue here; the second finds the first's superuser.
            advisory_xact_lock("strathwell.accounts.admin_bootstrap")
            if _bootstrap_closed():
                raise NotFound()
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
        return Response(s.SubscriptionSerializer(request.user.current_subscription).data)


class SubscriptionStartView(APIView):
    """Start (or find) the organizer's subscription. With Stripe Billing: `active` when the
    first invoice is paid at once, `incomplete` with `client_secret` when the card needs an
    action, 402 `payment_failed` on a decline (no subscription is left behind)."""

    permission_classes = [IsOrganizer]

    @extend_schema(
        request=s.SubscriptionStartSerializer,
        responses={
            200: s.SubscriptionStartResultSerializer,
            402: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="payment_failed: the card was declined (Stripe's message); "
                "nothing was charged and no subscription was kept",
            ),
            409: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="invalid_transition: another start of this account is in progress",
            ),
            502: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="payment_provider_error: Stripe failed or is unreachable",
            ),
        },
        tags=["subscription"],
    )
    def post(self, request):
        serializer = s.SubscriptionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = billing.start_subscription(
            request.user,
            plan=serializer.validated_data["plan"],
            payment_method=serializer.validated_data.get("payment_method"),
            actor=request.user,
        )
        context = {"client_secret": result.client_secret}
        return Response(
            s.SubscriptionStartResultSerializer(result.subscription, context=context).data
        )


class SubscriptionCancelView(APIView):
    """Cancel: with Stripe Billing at the period's end (status stays `active` with `cancel_at`;
    access runs until then); without Stripe at once."""

    permission_classes = [IsOrganizer]

    @extend_schema(
        request=None,
        responses={
            200: s.SubscriptionSerializer,
            502: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="payment_provider_error: Stripe failed or is unreachable",
            ),
        },
        tags=["subscription"],
    )
    def post(self, request):
        sub = billing.cancel_subscription(request.user, actor=request.user)
        return Response(s.SubscriptionSerializer(sub).data)
