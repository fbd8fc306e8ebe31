from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from strathwell.audit.models import AuditLog
from strathwell.console import display
from strathwell.console.mixins import ReadOnlyModelAdmin, changed_fields


def target_labels(rows) -> None:
    """Give each audit row `_target_label`: its target's name (one query per target type on
    the page, whatever the number of rows); a deleted or unknown target keeps its type."""
    by_type: dict[str, list] = {}
    for row in rows:
        by_type.setdefault(row.target_type, []).append(row)
    for target_type, group in by_type.items():
        try:
            model = apps.get_model(target_type)
        except (LookupError, ValueError):
            model = None
        found = {}
        if model is not None:
            ids = {row.target_id for row in group}
            try:
                found = {str(obj.pk): str(obj) for obj in model._base_manager.filter(pk__in=ids)}
            except (ValueError, TypeError, ValidationError):  # ids of another type (not model rows)
                found = {}
        for row in group:
            name = model._meta.verbose_name if model is not None else target_type
            label = found.get(row.target_id)
            row._target_label = f"{name}: {label}" if label else f"{name} (#{row.target_id[:8]})"


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    """The audit trail: append-only, so view-only here (no add, change or delete)."""

    list_display = ("created_at", "action", "actor_email", "target", "short_reason", "ip")
    list_filter = ("action", "target_type", ("actor", admin.RelatedOnlyFieldListFilter))
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
        "target",
        "target_type",
        "target_id",
        "reason",
        "changes",
        "before_json",
        "after_json",
        "ip",
    )
    readonly_fields = ("target", "changes", "before_json", "after_json")

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        target_labels(changelist.result_list)
        return changelist

    @admin.display(description="target")
    def target(self, obj):
        if not hasattr(obj, "_target_label"):
            target_labels([obj])
        return obj._target_label

    @admin.display(description="reason")
    def short_reason(self, obj):
        return (obj.reason[:80] + "…") if len(obj.reason) > 80 else (obj.reason or "-")

    @admin.display(description="changed fields")
    def changes(self, obj):
        rows = changed_fields(obj.before, obj.after)
        if not rows:
            return "-"
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td><td>→ {}</td></tr>",
                ((row["field"], row["before"], row["after"]) for row in rows),
            ),
        )

    @admin.display(description="before")
    def before_json(self, obj):
        return display.masked_json(obj.before)

    @admin.display(description="after")
    def after_json(self, obj):
        return display.masked_json(obj.after)
