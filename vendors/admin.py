"""Vendors in the staff console: staff verify vendors through confirm actions calling
`Vendor.approve` / `Vendor.request_changes` (the methods of `POST /admin/vendors/{id}/...`) and
may correct a listing's text; those edits are audited with the vendor's own snapshot. A
vendor's page shows its coming calendar (read-only): blocked dates and the bookings holding
each date, linked. Capacity units are read-only everywhere: only the booking transitions and
the vendor's own calendar change them."""

import datetime
from collections import Counter

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from strathwell.console.actions import confirm_action
from strathwell.console.mixins import AuditedModelAdmin, ReadOnlyModelAdmin
from vendors.forms import VendorApproveForm, VendorNeedsChangesForm
from vendors.models import ServiceProfile, Vendor, VendorDateUnit, VenueProfile

CALENDAR_DAYS = 366  # how far ahead the vendor page's calendar looks
CALENDAR_ROWS = 200

# Written only by the verification transitions, onboarding, or the upload checks.
VENDOR_READONLY = (
    "user",
    "vendor_type",
    "verification_status",
    "verified_at",
    "admin_notes",
    "photo_keys",
    "daily_capacity",
    "created_at",
    "updated_at",
)


def booking_link(booking_id, title: str = "") -> str:
    """A link to the booking's console page."""
    if booking_id is None:
        return "-"
    url = reverse("admin:bookings_booking_change", args=[booking_id])
    return format_html('<a href="{}">{}</a>', url, title or booking_id)


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
    readonly_fields = (*VENDOR_READONLY, "calendar")
    fields = (
        "business_name",
        "description",
        "city",
        *VENDOR_READONLY,
        "calendar",
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

    @admin.display(description="calendar (coming dates that are not open)")
    def calendar(self, obj):
        """Blocked, held and booked dates from today on (one query), each with the bookings
        holding it; a date's use is shown against the vendor's daily capacity."""
        if obj is None or obj.pk is None:
            return "-"
        today = timezone.localdate()
        rows = list(
            VendorDateUnit.objects.filter(
                vendor=obj, date__range=(today, today + datetime.timedelta(days=CALENDAR_DAYS))
            )
            .order_by("date", "slot")
            .values(
                "date",
                "status",
                "note",
                "booking_vendor__booking_id",
                "booking_vendor__booking__title",
                "booking_vendor__booking__status",
            )[:CALENDAR_ROWS]
        )
        if not rows:
            return "Every coming date is open."
        used = Counter(row["date"] for row in rows)
        shown, lines = set(), []
        for row in rows:
            if row["status"] == VendorDateUnit.Status.BLOCKED:
                if row["date"] in shown:
                    continue  # a block covers every unit of the date: one line
                holder, detail = "-", row["note"] or "blocked by the vendor"
            else:
                holder = booking_link(
                    row["booking_vendor__booking_id"], row["booking_vendor__booking__title"]
                )
                detail = f"booking {row['booking_vendor__booking__status']}"
            shown.add(row["date"])
            lines.append(
                (
                    row["date"].isoformat(),
                    f"{used[row['date']]}/{obj.daily_capacity}",
                    row["status"],
                    holder,
                    detail,
                )
            )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            lines,
        )
        return format_html(
            '<table class="vendor-calendar"><thead><tr><th>date</th><th>used</th>'
            "<th>status</th><th>booking</th><th>detail</th></tr></thead><tbody>{}</tbody>"
            "</table>",
            body,
        )

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


@admin.register(VendorDateUnit)
class VendorDateUnitAdmin(ReadOnlyModelAdmin):
    """Every unit of vendor capacity in use: who holds which date. Read-only."""

    list_display = ("date", "vendor", "slot", "status", "booking", "note")
    list_filter = ("status", "date")
    search_fields = ("vendor__business_name", "=vendor__id", "=booking_vendor__booking__id")
    list_select_related = ("vendor", "booking_vendor")
    date_hierarchy = "date"
    ordering = ("-date", "vendor", "slot")
    fields = ("vendor", "date", "slot", "status", "booking", "booking_vendor", "note",
              "created_at", "updated_at")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="booking")
    def booking(self, obj):
        line = obj.booking_vendor
        return booking_link(line.booking_id if line is not None else None)
