from django.contrib import admin

from strathwell.audit.models import AuditLog
from strathwell.console.mixins import ReadOnlyModelAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    """The audit trail: append-only, so view-only here (no add, change or delete)."""

    list_display = ("created_at", "action", "actor_email", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type")
    search_fields = ("^action", "=target_id", "actor_email", "reason")
    date_hierarchy = "created_at"
    # actor_email is denormalized on the row: the list needs no join.
    list_select_related = False
    show_full_result_count = False
    fields = (
        "created_at",
        "actor",
        "actor_email",
        "action",
        "target_type",
        "target_id",
        "reason",
        "before",
        "after",
        "ip",
    )
