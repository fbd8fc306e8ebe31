"""Query-string filters shared by the API's lists."""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC before it reaches the database: PostgreSQL
    refuses UTC offsets beyond ±15:59 (`-19:52` is valid ISO and valid Python), and a value
    at the edge of the calendar (`0001-01-01T00:00+05:00`) has no UTC equivalent at all."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError) as exc:
            raise ValidationError(
                "Enter a date and time within the supported range.", code="invalid"
            ) from exc


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StrictBooleanField(forms.Field):
    """`true` or `false` (any case); empty is "not given". django-filter's own boolean field
    reads anything else (`?is_published=maybe`) as "no filter", silently."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).lower()
        if lowered not in ("true", "false"):
            raise ValidationError("Use true or false.", code="invalid")
        return lowered == "true"


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the query string holds nothing but pagination:
    a filter form without data filters nothing (every filter skips an empty value), and
    building it (a form class, deep copies of its fields, validation) was ~10 % of a short
    list request. Any other parameter, even one no filter knows, takes django-filter's path
    as before."""

    PAGINATION_PARAMS = frozenset({"page", "page_size"})

    def filter_queryset(self, request, queryset, view):
        if request.query_params.keys() <= self.PAGINATION_PARAMS:
            return queryset
        return super().filter_queryset(request, queryset, view)
