"""Signing in to the staff console: password (with the lockout of django-axes, which hooks into
`authenticate`) plus, where `strathwell.staff_auth.otp_required_for` says so, a TOTP code.

A staff user without an authenticator signs in with the password alone and lands on the set-up
page (`otp_setup_view`): it shows a new TOTP key (QR code and text), and the session becomes
verified once a code from it is entered. Until then every console page answers as if they were
not signed in. Enrolment is audited; staff remove a lost authenticator in the console
(OTP devices, audited), after which its owner sets up a new one at the next sign-in.
"""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from strathwell.audit.services import log_admin_action
from strathwell.staff_auth import has_authenticator, otp_required_for, verify_code

CODE_HELP = "The 6-digit code your authenticator app shows for Strathwell staff."


class StaffLoginForm(AdminAuthenticationForm):
    """Django's admin login form plus the authenticator code, required for staff who have an
    authenticator and must use it."""

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        help_text="Leave empty if you have not set up an authenticator yet.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "otp_required": "Enter the code from your authenticator app.",
        "otp_invalid": "The authenticator code is not valid (or too many attempts: wait a "
        "minute and try a new code).",
    }

    def clean(self):
        cleaned = super().clean()  # password check (and lockout) first
        user = self.get_user()
        if user is not None and otp_required_for(user) and has_authenticator(user):
            code = cleaned.get("otp_token")
            if not code:
                raise forms.ValidationError(
                    self.error_messages["otp_required"], code="otp_required"
                )
            device = verify_code(user, code)
            if device is None:
                raise forms.ValidationError(self.error_messages["otp_invalid"], code="otp_invalid")
            # django-otp marks the session verified when the login completes.
            user.otp_device = device
        return cleaned


class OTPSetupForm(forms.Form):
    otp_token = forms.CharField(label="Code", max_length=16, help_text=CODE_HELP)


def needs_otp_setup(request) -> bool:
    user = request.user
    return otp_required_for(user) and not has_authenticator(user)


def _pending_device(user) -> TOTPDevice:
    """The user's unconfirmed device (one key per set-up, stable across reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


def _qr_svg(url: str) -> str:
    """The otpauth:// URL as an inline SVG QR code (segno), large enough to scan."""
    return segno.make(url, error="m").svg_inline(scale=5, border=2)


def otp_setup_view(site, request):
    """Set up the signed-in staff user's first authenticator (see the module docstring)."""
    login_url = reverse("admin:login", current_app=site.name)
    if not needs_otp_setup(request):
        return HttpResponseRedirect(login_url)
    user = request.user
    device = _pending_device(user)
    form = OTPSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["otp_token"].strip().replace(" ", "")):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                log_admin_action(
                    actor=user,
                    action="staff.otp_enrolled",
                    target=user,
                    before={"authenticator": False},
                    after={"authenticator": True, "device": device.persistent_id},
                    reason="Authenticator set up at sign-in.",
                )
            django_otp.login(request, device)
            messages.success(request, "Your authenticator is set up; you are signed in.")
            return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
        form.add_error("otp_token", "That code does not match; enter the current one.")
    context = {
        **site.each_context(request),
        "title": "Set up your authenticator",
        "form": form,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),
        "secret": b32encode(device.bin_key).decode(),
    }
    request.current_app = site.name
    return TemplateResponse(request, "admin/console/otp_setup.html", context)
