"""Disputes in the staff console. A read-only record: a dispute's status changes only through
the confirm action, which calls `payments.services.change_dispute_status` — the same flow as
`PATCH /admin/disputes/{id}` — so the money settles and the audit row is written exactly as
through the API. (The moderation log's admin lives in `trust.admin`.)"""

from django.contrib import admin

from disputes.forms import DisputeStatusForm
from disputes.models import Dispute
from payments import services as money
from strathwell.console.actions import confirm_action
from strathwell.console.mixins import ReadOnlyModelAdmin


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "booking", "opened_by", "status", "reason", "created_at", "resolved_at")
    list_filter = ("status",)
    search_fields = ("=id", "=booking__id", "booking__title", "opened_by__email", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("booking", "opened_by")
    readonly_fields = (
        "id",
        "booking",
        "opened_by",
        "reason",
        "description",
        "status",
        "resolution_note",
        "created_at",
        "updated_at",
        "resolved_at",
    )
    fields = readonly_fields
    actions = [
        confirm_action(
            name="change_dispute_status",
            operation="dispute.decide",
            label="Change dispute status",
            verb="change the status of",
            done="Updated",
            perform=money.change_dispute_status,
            form_class=DisputeStatusForm,
            effect="Disputes move open → under review → resolved, refunded or adjusted. "
            "Resolved releases the payouts the dispute held back to eligible; refunded "
            "reverses them and the booking's still-locked payouts; adjusted leaves them held "
            "for you to release or reverse one by one.",
        ),
    ]

    def get_queryset(self, request):
        # The confirmation page names each dispute by its booking: no query per row.
        return super().get_queryset(request).select_related("booking", "opened_by")

    def confirm_object_label(self, obj):
        return f"dispute on “{obj.booking.title}” ({obj.reason})"
