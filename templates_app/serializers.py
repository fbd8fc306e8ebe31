import re

from rest_framework import serializers

from strathwell.api.fields import (
    StrictCharField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictSlugField,
)
from strathwell.api.lean import LeanSerializerMixin
from templates_app.models import Template, TemplateItem

MAX_COST_CENTS = 10**12
MAX_ITEMS = 200
_CURRENCY = re.compile(r"[a-z]{3}")


class TemplateItemSerializer(LeanSerializerMixin, StrictModelSerializer):
    estimated_cost_cents = StrictIntegerField(min_value=0, max_value=MAX_COST_CENTS)

    class Meta:
        model = TemplateItem
        fields = ["name", "category", "estimated_cost_cents"]


class TemplateSummarySerializer(LeanSerializerMixin, serializers.ModelSerializer):
    """What anyone may see of a published template. Needs `with_estimated_total()`."""

    estimated_total_cents = serializers.IntegerField(read_only=True)

    class Meta:
        model = Template
        fields = [
            "id",
            "slug",
            "title",
            "event_type",
            "summary",
            "guest_count_min",
            "guest_count_max",
            "estimated_total_cents",
            "currency",
        ]
        read_only_fields = fields


class TemplateDetailSerializer(TemplateSummarySerializer):
    items = TemplateItemSerializer(many=True, read_only=True)

    class Meta(TemplateSummarySerializer.Meta):
        fields = [*TemplateSummarySerializer.Meta.fields, "description", "items"]
        read_only_fields = fields


class AdminTemplateSerializer(TemplateDetailSerializer):
    class Meta(TemplateDetailSerializer.Meta):
        fields = [*TemplateDetailSerializer.Meta.fields, "is_published", "created_at", "updated_at"]
        read_only_fields = fields


class TemplateWriteSerializer(StrictModelSerializer):
    """Admin create (slug optional: derived from the title) and PATCH (partial=True). `items`,
    when given, replaces the template's items in that order."""

    slug = StrictSlugField(max_length=120, required=False)
    guest_count_min = StrictIntegerField(min_value=1, max_value=1_000_000, required=False)
    guest_count_max = StrictIntegerField(min_value=1, max_value=1_000_000, required=False)
    currency = StrictCharField(max_length=3, required=False)
    items = TemplateItemSerializer(many=True, required=False, max_length=MAX_ITEMS)

    class Meta:
        model = Template
        fields = [
            "slug",
            "title",
            "event_type",
            "summary",
            "description",
            "guest_count_min",
            "guest_count_max",
            "currency",
            "is_published",
            "items",
        ]

    def validate_slug(self, value):
        others = Template.objects.filter(slug=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A template with this slug already exists.")
        return value

    def validate_currency(self, value):
        value = value.strip().lower()
        if not _CURRENCY.fullmatch(value):
            raise serializers.ValidationError("Use a three-letter ISO 4217 code, e.g. usd.")
        return value

    def validate(self, attrs):
        low = attrs.get("guest_count_min", getattr(self.instance, "guest_count_min", 1))
        high = attrs.get("guest_count_max", getattr(self.instance, "guest_count_max", 100))
        if low > high:
            raise serializers.ValidationError(
                {"guest_count_max": ["Must be greater than or equal to guest_count_min."]}
            )
        return attrs
