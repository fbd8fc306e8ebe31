from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect

from accounts import billing
from accounts.forms import GrantComplimentaryForm
from accounts.models import RefreshToken, Subscription, User
from strathwell.audit.services import log_admin_action
from strathwell.console.actions import ActionSkipped, confirm_action
from strathwell.console.mixins import (
    AuditedAdminMixin,
    ConfirmActionMixin,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    read_only_mode,
    refuse_read_only,
)


@admin.display(description="Access")
def access_display(sub: Subscription) -> str:
    """The one access rule (`Subscription.access()`), as staff read it."""
    access = sub.access()
    verdict = "Yes" if access.granted else "No"
    until = f" until {access.until:%Y-%m-%d %H:%M} UTC" if access.until else ""
    return f"{verdict}: {access.reason}{until}"


class SubscriptionInline(ReadOnlyInline, admin.StackedInline):
    """The organizer's subscription on their page (read-only: changed by the actions)."""

    model = Subscription
    fk_name = "user"
    can_delete = False
    show_change_link = False
    fields = (
        "status",
        "access",
        "plan",
        "provider",
        "started_at",
        "current_period_end",
        "cancel_at",
        "canceled_at",
        "past_due_since",
        "stripe_customer_id",
        "stripe_subscription_id",
    )
    readonly_fields = fields

    @admin.display(description="Access")
    def access(self, obj):
        return access_display(obj)


def _grant_complimentary(user, *, actor, reason, plan):
    before = Subscription.objects.filter(pk=user.pk).first()
    if (
        before is not None
        and before.status == Subscription.Status.ACTIVE
        and (before.provider, before.plan) == (Subscription.Provider.COMPLIMENTARY, plan)
    ):
        raise ActionSkipped(f"already has a complimentary {plan} subscription; nothing changed.")
    return billing.grant_complimentary(user, plan=plan, actor=actor, reason=reason)


def _cancel_subscription_now(user, *, actor, reason):
    return billing.cancel_subscription(user, actor=actor, immediately=True, reason=reason)


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
    list_select_related = ("subscription",)
    list_filter = (
        "role",
        "subscription__status",
        "subscription__provider",
        "subscription__plan",
        "is_staff",
        "is_active",
    )
    search_fields = ("email", "full_name")
    date_hierarchy = "date_joined"
    readonly_fields = ("date_joined", "last_login")
    inlines = [SubscriptionInline]
    actions = [
        confirm_action(
            name="grant_complimentary_subscription",
            operation="subscription.grant_complimentary",
            label="Grant complimentary subscription",
            verb="grant a complimentary subscription to",
            done="Granted a complimentary subscription to",
            perform=_grant_complimentary,
            form_class=GrantComplimentaryForm,
            state_field=None,
            effect="Each selected organizer gets an active subscription on the chosen plan "
            "without payment, until it is canceled: the organizer gates open at once. Refused "
            "for an organizer who pays through Stripe (cancel that subscription first) and "
            "for vendors and staff.",
        ),
        confirm_action(
            name="cancel_subscription_now",
            operation="subscription.cancel_now",
            label="Cancel subscription now",
            verb="cancel the subscription of",
            done="Canceled the subscription of",
            perform=_cancel_subscription_now,
            state_field=None,
            effect="Each selected organizer's subscription ends now (a Stripe subscription is "
            "canceled in Stripe at once, without a refund): the organizer gates close at once.",
        ),
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
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name", "role")}),
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

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Subscription", ordering="subscription__status")
    def subscription_status(self, obj):
        sub = obj.current_subscription
        return sub.get_status_display() if obj.is_organizer or sub.pk else "-"

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


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyModelAdmin):
    """Every organizer's subscription: who pays, who is past due, who has access. Changed only
    by the subscription flows (the API, Stripe's webhooks, the actions on the user list)."""

    list_display = (
        "user",
        "status",
        "plan",
        "provider",
        "current_period_end",
        "cancel_at",
        access_display,
        "updated_at",
    )
    list_filter = ("status", "provider", "plan")
    search_fields = ("user__email", "stripe_customer_id", "stripe_subscription_id")
    list_select_related = ("user",)
    date_hierarchy = "updated_at"
    readonly_fields = (access_display,)
    exclude = ("start_token",)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, ConfirmActionMixin, DjangoGroupAdmin):
    """Staff permission groups; edits are audited like every other admin edit."""

    audit_related = ("permissions",)
