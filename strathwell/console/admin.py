"""Staff authenticators (django-otp's TOTP devices) in the console: listed, and removed when
lost (audited); never added or edited here, and their keys are never shown. A staff user whose
authenticator was removed sets up a new one at the next sign-in (strathwell/console/login.py).

Registered before django-otp's own admin (this app comes first in INSTALLED_APPS, and
django-otp skips its registration when the model is already registered)."""

from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from strathwell.audit.services import snapshot
from strathwell.console.mixins import AuditedModelAdmin

DEVICE_FIELDS = ["user", "name", "confirmed", "created_at", "last_used_at"]


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(AuditedModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = DEVICE_FIELDS
    readonly_fields = DEVICE_FIELDS

    def audit_snapshot(self, obj):
        # Never the key: it is the authenticator itself.
        return snapshot(obj, fields=DEVICE_FIELDS) if obj is not None else None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
