import uuid

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast, Coalesce


class TemplateQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def with_estimated_total(self):
        """Annotate `estimated_total_cents`, the sum of the items' estimates (0 without items),
        in the same query: a correlated subquery, so it composes with any other join."""
        total = (
            TemplateItem.objects.filter(template=models.OuterRef("pk"))
            .order_by()
            .values("template")
            # SUM(bigint) is numeric in PostgreSQL: cast back so the API answers an integer.
            .annotate(total=Cast(models.Sum("estimated_cost_cents"), models.BigIntegerField()))
            .values("total")
        )
        return self.annotate(
            estimated_total_cents=Coalesce(
                models.Subquery(total, output_field=models.BigIntegerField()),
                Value(0),
                output_field=models.BigIntegerField(),
            )
        )


class Template(models.Model):
    """An event blueprint with estimated line items. Only published ones are public.

    `estimated_total_cents` is derived, never stored: `Template.objects.with_estimated_total()`
    annotates it; `compute_estimated_total()` sums loaded items."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    event_type = models.CharField(max_length=60, db_index=True)
    summary = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    guest_count_min = models.PositiveIntegerField(default=1)
    guest_count_max = models.PositiveIntegerField(default=100)
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    is_published = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(guest_count_min__lte=models.F("guest_count_max")),
                name="templates_guest_range_ordered",
            ),
        ]

    def __str__(self):
        return self.title

    def compute_estimated_total(self) -> int:
        return sum(item.estimated_cost_cents for item in self.items.all())

    def audit_snapshot(self) -> dict:
        """The template with its items (in order), JSON-safe, for the audit trail."""
        from strathwell.audit.services import snapshot

        data = snapshot(self)
        data["items"] = [
            snapshot(item, fields=["name", "category", "estimated_cost_cents", "position"])
            for item in self.items.all()
        ]
        data["estimated_total_cents"] = sum(i["estimated_cost_cents"] for i in data["items"])
        return data


class TemplateItem(models.Model):
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100)
    estimated_cost_cents = models.PositiveBigIntegerField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name
