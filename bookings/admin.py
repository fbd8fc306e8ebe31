"""Bookings in the staff console: read-only views; staff cancel or force-complete a booking
through confirm actions that call `Booking.admin_cancel` / `Booking.force_complete`, the same
methods as `POST /admin/bookings/{id}/cancel|force-complete`."""

from django.contrib import admin

from bookings.models import Booking, BookingVendor
from payments import services as money
from strathwell.console.actions import confirm_action
from strathwell.console.mixins import ReadOnlyInline, ReadOnlyModelAdmin


class BookingVendorInline(ReadOnlyInline, admin.TabularInline):
    model = BookingVendor
    extra = 0
    can_delete = False
    show_change_link = False
    fields = (
        "vendor",
        "role",
        "status",
        "proposed_price_cents",
        "counter_price_cents",
        "agreed_price_cents",
        "note",
        "responded_at",
    )
    readonly_fields = fields
    ordering = ("position", "created_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyModelAdmin):
    """Read-only view for staff. Status and money change only through the model methods (the
    staff cancel/force-complete actions call `admin_cancel`/`force_complete`)."""

    list_display = ("title", "organizer", "status", "event_date", "guest_count", "created_at")
    list_filter = ("status", "event_date", "currency")
    search_fields = ("title", "organizer__email", "=id")
    list_select_related = ("organizer",)
    date_hierarchy = "created_at"
    inlines = [BookingVendorInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organizer", "template")

    readonly_fields = (
        "id",
        "organizer",
        "template",
        "title",
        "event_date",
        "guest_count",
        "notes",
        "status",
        "currency",
        "total_cents",
        "deposit_cents",
        "cancel_reason",
        "submitted_at",
        "paid_at",
        "completed_at",
        "canceled_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    actions = [
        confirm_action(
            name="cancel_bookings",
            operation="booking.cancel",
            label="Cancel booking (staff)",
            verb="cancel",
            done="Canceled",
            perform=lambda booking, *, actor, reason: money.cancel_booking(
                booking, actor=actor, reason=reason, by_staff=True
            ),
            effect="Each booking that is not completed or canceled yet becomes canceled. A "
            "paid booking's money is refunded to the organizer through Stripe: everything "
            "its vendors have not been paid out, with the platform fee on that part (the "
            "unpaid payouts are reversed); an unpaid booking's pending payments are canceled "
            "at Stripe. A refund Stripe refuses is kept as failed, to retry.",
        ),
        confirm_action(
            name="force_complete_bookings",
            operation="booking.force_complete",
            label="Force-complete booking",
            verb="force-complete",
            done="Force-completed",
            perform=lambda booking, *, actor, reason: money.complete_booking(
                booking, actor=actor, reason=reason, by_staff=True
            ),
            effect="Each paid or in-progress booking becomes completed, and its completion "
            "payouts become eligible (unless a dispute on it is open).",
        ),
    ]

    def confirm_object_label(self, obj):
        return f"“{obj.title}” on {obj.event_date:%Y-%m-%d} ({obj.organizer})"


@admin.register(BookingVendor)
class BookingVendorAdmin(ReadOnlyModelAdmin):
    """Booking lines, view-only: vendors answer them through the API."""

    list_display = (
        "booking",
        "vendor",
        "role",
        "status",
        "proposed_price_cents",
        "counter_price_cents",
        "agreed_price_cents",
        "created_at",
    )
    search_fields = ("=id", "=booking__id", "booking__title", "vendor__business_name")
    date_hierarchy = "created_at"
    list_select_related = ("booking", "vendor")
    list_filter = ("status", "role")
