"""Templates in the staff console: authored here or through `/admin/templates`. Every add,
change and delete is audited with before/after snapshots that include the items (the model's
own `audit_snapshot()`, the one the API records)."""

from django.contrib import admin

from strathwell.console import display
from strathwell.console.mixins import AuditedModelAdmin
from templates_app.models import Template, TemplateItem


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    fields = ("position", "name", "category", "estimated_cost_cents")
    ordering = ("position", "id")
    extra = 0


@admin.register(Template)
class TemplateAdmin(AuditedModelAdmin):
    list_display = (
        "title",
        "slug",
        "event_type",
        "is_published",
        "guest_count_min",
        "guest_count_max",
        "estimated_total",
        "updated_at",
    )
    list_filter = ("is_published", "event_type", "currency")
    search_fields = ("title", "slug", "event_type")
    date_hierarchy = "created_at"
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("estimated_total", "created_at", "updated_at")
    fields = (
        "title",
        "slug",
        "event_type",
        "summary",
        "description",
        ("guest_count_min", "guest_count_max"),
        "currency",
        "is_published",
        "estimated_total",
        ("created_at", "updated_at"),
    )
    inlines = [TemplateItemInline]

    def get_queryset(self, request):
        # The derived total in the list query itself (one correlated subquery, no per-row query).
        return super().get_queryset(request).with_estimated_total()

    @admin.display(description="estimated total", ordering="estimated_total_cents")
    def estimated_total(self, obj):
        return display.format_cents(getattr(obj, "estimated_total_cents", None), obj.currency)


@admin.register(TemplateItem)
class TemplateItemAdmin(AuditedModelAdmin):
    list_display = ("name", "template", "category", "estimated_cost_cents", "position")
    list_filter = ("category",)
    search_fields = ("name", "category", "template__title")
    list_select_related = ("template",)
    autocomplete_fields = ("template",)
    date_hierarchy = "template__created_at"
