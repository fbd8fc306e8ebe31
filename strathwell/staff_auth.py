"""How people sign in beyond the password: the login lockout (django-axes) and staff TOTP
(django-otp). Used by the console's login and the API's `POST /auth/login`.

Lockout: `LOGIN_FAILURE_LIMIT` failed passwords for one email from one client IP (the trusted
IP of `strathwell.api.client_ip`) lock that pair out for `LOGIN_LOCKOUT_MINUTES`, on the shared
cache, for the console and the API alike; a success resets the count. A locked-out login is
refused before the password is checked (429; the API answers `account_locked`).

TOTP: with `STAFF_OTP_REQUIRED` (always on with APP_ENV=prod) every staff user needs a code from
a confirmed authenticator: the console treats a staff session without one as not signed in (the
first login leads to the set-up page), and the API refuses a staff login without a valid
`otp_token`. Only under APP_ENV=local are the `STAFF_OTP_EXEMPT_EMAILS` (the demo admin) exempt.
"""

from __future__ import annotations

import django_otp
from django.conf import settings
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django_otp.plugins.otp_totp.models import TOTPDevice

from strathwell.api.exceptions import error_body

LOCKED_OUT_TEMPLATE = "admin/console/locked_out.html"


# --- lockout (django-axes hooks, named in settings) ------------------------------------------


def login_username(request, credentials=None) -> str:
    """The login name the lockout counts: the email, trimmed and lower-cased (the console's
    form and the API both pass it as `username` to `authenticate`)."""
    if credentials:
        value = credentials.get("username")
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("username") or data.get("email")
    return (value or "").strip().lower()


def lockout_minutes() -> int:
    return settings.LOGIN_LOCKOUT_MINUTES


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets: the error envelope on the API, a page in the console."""
    minutes = lockout_minutes()
    message = f"Too many failed logins: try again in {minutes} minutes."
    headers = {"Retry-After": str(minutes * 60)}
    if request.path_info.startswith("/api/"):
        body = error_body("account_locked", message, {"retry_after_seconds": minutes * 60})
        return JsonResponse(body, status=429, headers=headers)
    response = TemplateResponse(
        request,
        LOCKED_OUT_TEMPLATE,
        {"title": "Account locked", "message": message, "minutes": minutes},
        status=429,
        headers=headers,
    )
    return response.render()


# --- TOTP ------------------------------------------------------------------------------------


def otp_exempt(user) -> bool:
    return (
        settings.APP_ENV == "local"
        and (user.email or "").strip().lower() in settings.STAFF_OTP_EXEMPT_EMAILS
    )


def otp_required_for(user) -> bool:
    """Whether this user must present a TOTP code to act as staff."""
    if not (user is not None and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return bool(settings.STAFF_OTP_REQUIRED) and not otp_exempt(user)


def confirmed_devices(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True)


def has_authenticator(user) -> bool:
    return confirmed_devices(user).exists()


def verify_code(user, code: str | None) -> TOTPDevice | None:
    """The user's confirmed device that accepts `code` (django-otp throttles repeated failures
    per device), or None."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    return django_otp.match_token(user, code)


def session_is_verified(request) -> bool:
    """Whether the console session may act as staff: not required for this user, or the session
    was verified with a code (django-otp's middleware sets `is_verified`)."""
    user = request.user
    if not otp_required_for(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
