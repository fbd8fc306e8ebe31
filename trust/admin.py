"""Trust screening in the staff console: the moderation log, read-only. Moderation events hold
masked excerpts only."""

from django.contrib import admin

from strathwell.console.mixins import ReadOnlyModelAdmin
from trust.models import ModerationEvent


@admin.register(ModerationEvent)
class ModerationEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "action", "context_type", "context_id", "user", "excerpt")
    list_filter = ("action", "context_type")
    search_fields = ("=user__email", "=context_id", "excerpt")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = (
        "id",
        "user",
        "context_type",
        "context_id",
        "action",
        "signals",
        "excerpt",
        "created_at",
    )
    fields = readonly_fields
