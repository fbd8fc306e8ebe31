import uuid

from django.conf import settings
from django.db import models


class Template(models.Model):
    """An event blueprint with estimated line items. Only published ones are public."""

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
