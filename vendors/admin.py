"""Vendors in the staff console: staff verify vendors through confirm actions calling
`Vendor.approve` / `Vendor.request_changes` (the methods of `POST /admin/vendors/{id}/...`) and
may correct a listing's text; those edits are audited with the vendor's own snapshot."""

from django.contrib import admin

from strathwell.console.actions import confirm_action
from strathwell.console.mixins import AuditedModelAdmin
from vendors.forms import VendorApproveForm, VendorNeedsChangesForm
from vendors.models import ServiceProfile, Vendor, VenueProfile

# Written only by the verification transitions, onboarding, or the upload checks.
VENDOR_READONLY = (
    "user",
    "vendor_type",
    "verification_status",
    "verified_at",
    "admin_notes",
    "photo_keys",
    "created_at",
    "updated_at",
)


class VenueProfileInline(admin.StackedInline):
    model = VenueProfile
    fields = ("address", "capacity", "amenities", "base_price_cents")
    readonly_fields = ("base_price_cents",)  # the vendor's own price: only the vendor sets it
    can_delete = False
    max_num = 1
    min_num = 1

    def has_add_permission(self, request, obj=None):
        return False


class ServiceProfileInline(admin.StackedInline):
    model = ServiceProfile
    fields = ("category", "service_area", "base_price_cents")
    readonly_fields = ("base_price_cents",)
    can_delete = False
    max_num = 1
    min_num = 1

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Vendor)
class VendorAdmin(AuditedModelAdmin):
    """Vendors onboard through the API; staff verify them here (approve / ask for changes) and
    may correct the listing's text. Verification state and prices are never edited by hand."""

    list_display = (
        "business_name",
        "vendor_type",
        "city",
        "verification_status",
        "user_email",
        "created_at",
    )
    list_filter = ("verification_status", "vendor_type", "city")
    search_fields = ("business_name", "city", "user__email", "=id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = VENDOR_READONLY
    fields = (
        "business_name",
        "description",
        "city",
        *VENDOR_READONLY,
    )
    actions = [
        confirm_action(
            name="approve_vendors",
            operation="vendor.approve",
            label="Approve vendor",
            verb="approve",
            done="Approved",
            method="approve",
            form_class=VendorApproveForm,
            state_field="verification_status",
            effect="Each pending vendor becomes approved: it is listed publicly and can be "
            "added to bookings. The reason is recorded as the vendor's admin notes and in the "
            "audit log.",
        ),
        confirm_action(
            name="request_vendor_changes",
            operation="vendor.request_changes",
            label="Ask vendor for changes (needs changes)",
            verb="ask for changes to",
            done="Asked for changes to",
            method="request_changes",
            form_class=VendorNeedsChangesForm,
            state_field="verification_status",
            effect="Each pending vendor moves to needs changes with your notes; it goes back "
            "to pending when the vendor edits its profile.",
        ),
    ]

    @admin.display(description="user", ordering="user__email")
    def user_email(self, obj):
        return obj.user.email

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if obj.vendor_type == Vendor.VendorType.VENUE:
            return [VenueProfileInline]
        return [ServiceProfileInline]

    def has_add_permission(self, request):
        return False  # onboarding (one vendor per user, matching profile) is the API's

    def has_delete_permission(self, request, obj=None):
        return False  # bookings and payouts refer to vendors


class ProfileAdmin(AuditedModelAdmin):
    list_select_related = ("vendor",)
    readonly_fields = ("vendor", "base_price_cents")
    search_fields = ("vendor__business_name", "=vendor__id")

    @admin.display(description="vendor", ordering="vendor__business_name")
    def vendor_name(self, obj):
        return obj.vendor.business_name

    @admin.display(description="status", ordering="vendor__verification_status")
    def verification_status(self, obj):
        return obj.vendor.get_verification_status_display()

    def has_add_permission(self, request):
        return False  # created with the vendor at onboarding

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VenueProfile)
class VenueProfileAdmin(ProfileAdmin):
    list_display = ("vendor_name", "address", "capacity", "base_price_cents", "verification_status")
    list_filter = ("vendor__verification_status", "vendor__city")
    date_hierarchy = "vendor__created_at"
    fields = ("vendor", "address", "capacity", "amenities", "base_price_cents")


@admin.register(ServiceProfile)
class ServiceProfileAdmin(ProfileAdmin):
    list_display = (
        "vendor_name",
        "category",
        "service_area",
        "base_price_cents",
        "verification_status",
    )
    list_filter = ("category", "vendor__verification_status", "vendor__city")
    date_hierarchy = "vendor__created_at"
    fields = ("vendor", "category", "service_area", "base_price_cents")
