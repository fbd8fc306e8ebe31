from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import RefreshToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "subscription_status", "is_staff", "is_active")
    list_filter = ("role", "subscription_status", "is_staff", "is_active")
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


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "family", "created_at", "expires_at", "spent_at", "revoked_at")
    list_filter = ("revoked_at", "spent_at")
    search_fields = ("user__email", "family")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "user",
        "family",
        "jti",
        "expires_at",
        "spent_at",
        "revoked_at",
        "created_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
