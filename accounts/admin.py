from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect

from accounts.models import RefreshToken, User
from strathwell.audit.services import log_admin_action
from strathwell.console.actions import ActionSkipped, confirm_action
from strathwell.console.mixins import (
    AuditedAdminMixin,
    ConfirmActionMixin,
    ReadOnlyModelAdmin,
    read_only_mode,
    refuse_read_only,
)


def revoke_sessions(user, *, actor, reason: str):
    """Sign a user out of every API session (all refresh-token families), audited."""
    with transaction.atomic():
        live = user.revoke_sessions()
        if not live:
            raise ActionSkipped("has no active sessions; nothing to revoke.")
        log_admin_action(
            actor=actor,
            action="admin.user.revoke_sessions",
            target=user,
            before={"active_sessions": live},
            after={"active_sessions": 0},
            reason=reason,
        )
    return user


@admin.register(User)
class UserAdmin(AuditedAdminMixin, ConfirmActionMixin, DjangoUserAdmin):
    """Staff edit names, roles and access; subscription state is only changed by its methods.
    Users are deactivated, never deleted (bookings, payments and the audit trail refer to them)."""

    ordering = ("email",)
    list_display = (
        "email",
        "full_name",
        "role",
        "subscription_status",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = ("role", "subscription_status", "subscription_plan", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    date_hierarchy = "date_joined"
    readonly_fields = (
        "subscription_status",
        "subscription_plan",
        "subscription_started_at",
        "subscription_canceled_at",
        "date_joined",
        "last_login",
    )
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name", "role")}),
        (
            "Subscription",
            {
                "fields": (
                    "subscription_status",
                    "subscription_plan",
                    "subscription_started_at",
                    "subscription_canceled_at",
                )
            },
        ),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "role", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups",)
    audit_related = ("groups",)
    actions = [
        confirm_action(
            name="revoke_sessions",
            operation="user.revoke_sessions",
            label="Sign out of every session",
            verb="sign out",
            done="Signed out",
            perform=revoke_sessions,
            state_field=None,
            effect="Every API session (refresh token) of each user is revoked: their apps must "
            "sign in again. Access tokens already issued stop working when they expire "
            "(ACCESS_TOKEN_EXPIRE_MINUTES). Use it for a lost device or a suspected theft; "
            "setting a new password does it too.",
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False

    def user_change_password(self, request, id, form_url=""):
        """Django's set-password view, refused in read-only mode and audited (the snapshot
        masks the hash; the row says who set whose password)."""
        if request.method == "POST" and read_only_mode():
            refuse_read_only(self, request)
            return HttpResponseRedirect(request.get_full_path())
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and isinstance(response, HttpResponseRedirect):
                user = User.objects.filter(pk=id).first()
                if user is not None:
                    log_admin_action(
                        actor=request.user,
                        action=self.audit_action("set_password"),
                        target=user,
                        before=None,
                        after={"password": "changed", "sessions": "revoked"},
                    )
        return response


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "family", "created_at", "expires_at", "spent_at", "revoked_at")
    list_filter = ("revoked_at", "spent_at", "expires_at")
    search_fields = ("user__email", "family")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    exclude = ("jti",)  # the token's id is as good as the token for a replay: never shown


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, ConfirmActionMixin, DjangoGroupAdmin):
    """Staff permission groups; edits are audited like every other admin edit."""

    audit_related = ("permissions",)
