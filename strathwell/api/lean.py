"""Lean read representations: the same JSON as a DRF serializer, without DRF's per-field work.

DRF builds a serializer's fields for every request (ModelSerializer introspects the model and
deep-copies the declared fields), then for every row and field calls `get_attribute` (source
walking, callable checks, exception mapping) and `to_representation`. On a page of 20 bookings
with 4 lines each that is ~1,300 field visits and most of the request's Python time.

`LeanSerializerMixin` keeps the serializer class as the one declaration of the representation
(the OpenAPI schema, the input side and the reference output are unchanged) and compiles, once
per class, a plan: for each readable field how to read it from the instance and how to turn the
value into JSON. Reading a row is then one dict comprehension over that plan:

- a concrete model field or a plain `property` of the model, or an annotation found in the
  instance's `__dict__` → `getattr` (or the dict), then a converter
  chosen from the field class (identity for ints, strings and booleans of the right type, `str`
  for UUIDs, ISO 8601 for dates and date-times exactly as DRF writes them);
- a `SerializerMethodField` → the serializer's method;
- a nested serializer that is itself lean (`many` or not) → its compiled plan;
- anything else (dotted sources, relations, custom fields) → DRF's own `get_attribute` and
  `to_representation` for that field only.

Exactness is the contract: `strathwell.api.tests.test_lean` and each app's
`test_lean_representation` render fixture worlds through both paths and compare the bytes.
The plan is per class, so a serializer whose fields depend on its context (a `get_fields`
override) must not use the mixin; `LeanSerializerMixin.__init_subclass__` refuses that.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

# How a value is read from the instance, per plan entry.
_ATTR, _PATH, _METHOD, _NESTED, _NESTED_MANY, _FIELD, _INSTANCE = range(7)
_MISSING = object()


class _Switch:
    """`stock = True` sends every lean serializer through DRF's own path (tests only: the
    reference output the lean one is compared with)."""

    stock = False


switch = _Switch()


def _identity_for(kind: type, convert: Callable) -> Callable:
    """`value` itself when it already has the JSON type, else the field's conversion."""

    def fast(value):
        return value if value.__class__ is kind else convert(value)

    return fast


def _same(value):
    return value


def _datetime_converter(field: serializers.DateTimeField) -> Callable:
    fmt = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if fmt is None or fmt.lower() != ISO_8601 or hasattr(field, "timezone") or not settings.USE_TZ:
        return field.to_representation
    slow = field.to_representation
    get_tz = timezone.get_current_timezone

    def fast(value):
        if value.__class__ is not datetime.datetime or value.tzinfo is None:
            return slow(value)
        text = value.astimezone(get_tz()).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return fast


def _date_converter(field: serializers.DateField) -> Callable:
    fmt = getattr(field, "format", api_settings.DATE_FORMAT)
    if fmt is None or fmt.lower() != ISO_8601:
        return field.to_representation
    slow = field.to_representation

    def fast(value):
        return value.isoformat() if value.__class__ is datetime.date else slow(value)

    return fast


def _uuid_converter(field: serializers.UUIDField) -> Callable:
    if field.uuid_format != "hex_verbose":
        return field.to_representation
    slow = field.to_representation

    def fast(value):
        return str(value) if value.__class__ is uuid.UUID else slow(value)

    return fast


def _converter(field: serializers.Field) -> Callable:
    """The fastest exact conversion of a non-None attribute for this field."""
    method = type(field).to_representation
    if method is serializers.DateTimeField.to_representation:
        return _datetime_converter(field)
    if method is serializers.DateField.to_representation:
        return _date_converter(field)
    if method is serializers.UUIDField.to_representation:
        return _uuid_converter(field)
    if method is serializers.CharField.to_representation:
        return _identity_for(str, str)
    if method is serializers.IntegerField.to_representation:
        return _identity_for(int, int)
    if method is serializers.BigIntegerField.to_representation and not getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    ):
        return _identity_for(int, int)
    if method is serializers.BooleanField.to_representation:
        return _identity_for(bool, field.to_representation)
    # DRF maps str(value) back to the choice key; for str choices that is the value.
    if method is serializers.ChoiceField.to_representation and all(
        isinstance(key, str) for key in field.choices
    ):
        return _identity_for(str, field.to_representation)
    return field.to_representation


def _model_reads(model: type[models.Model], name: str) -> bool:
    """Whether `getattr(instance, name)` is a plain read DRF would not treat specially: a
    concrete non-relational field or a `property` (not a method DRF would call)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        attr = getattr(model, name, None)
        return isinstance(attr, property | cached_property)
    # `vendor_id` (a foreign key's column) is a plain read too; `vendor` is a relation.
    return field.concrete and (not field.is_relation or name == field.attname != field.name)


def _fk_column(model: type[models.Model], field: serializers.Field) -> str | None:
    """The column a `PrimaryKeyRelatedField` over a forward foreign key reads: DRF's output
    for it is the related row's pk (`PKOnlyObject`), which is that column's value."""
    if not (
        type(field) is serializers.PrimaryKeyRelatedField
        and field.pk_field is None
        and len(field.source_attrs) == 1
    ):
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if model_field.concrete and model_field.many_to_one and model_field.target_field.primary_key:
        return model_field.attname
    return None


def _forward_path(model: type[models.Model], attrs: list[str]) -> bool:
    """Whether `a.b.c` walks forward foreign keys / one-to-ones to a plain field."""
    for attr in attrs[:-1]:
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if not (field.concrete and (field.many_to_one or field.one_to_one)):
            return False
        model = field.related_model
    return _model_reads(model, attrs[-1])


class LeanSerializerMixin:
    """Mix into a read-only `ModelSerializer` (before it in the bases): same output, compiled
    per class. See the module docstring."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_fields" in cls.__dict__:
            raise TypeError(f"{cls.__name__} builds its fields per instance: not lean-able")
        cls._compiled_plan = None  # each class its own (a subclass has more fields)

    # Compiled once per class from a prototype instance's bound fields.
    @classmethod
    def _lean_plan(cls) -> list[tuple]:
        if cls._compiled_plan is None:
            cls._compiled_plan = cls._compile_lean_plan()
        return cls._compiled_plan

    @classmethod
    def _compile_lean_plan(cls) -> list[tuple]:
        prototype = cls()
        model = prototype.Meta.model
        plan = []
        for name, field in prototype.fields.items():
            if field.write_only:
                continue
            if isinstance(field, serializers.SerializerMethodField):
                plan.append((name, _METHOD, field.method_name, None))
            elif len(field.source_attrs) != 1:
                if _forward_path(model, field.source_attrs) and not isinstance(
                    field, serializers.BaseSerializer
                ):
                    plan.append((name, _PATH, tuple(field.source_attrs), _converter(field)))
                else:
                    plan.append((name, _FIELD, None, None))
            elif isinstance(field, serializers.ListSerializer) and isinstance(
                field.child, LeanSerializerMixin
            ):
                plan.append((name, _NESTED_MANY, field.source, type(field.child)))
            elif isinstance(field, LeanSerializerMixin):
                plan.append((name, _NESTED, field.source, type(field)))
            elif column := _fk_column(model, field):
                plan.append((name, _ATTR, column, _same))
            elif _model_reads(model, field.source):
                plan.append((name, _ATTR, field.source, _converter(field)))
            elif not hasattr(model, field.source):
                # Not on the class: an annotation (`with_estimated_total()`), set per instance.
                plan.append((name, _INSTANCE, field.source, _converter(field)))
            else:
                plan.append((name, _FIELD, None, None))
        return plan

    @cached_property
    def _lean_children(self) -> dict:
        return {}

    def _lean_child(self, child_class):
        child = self._lean_children.get(child_class)
        if child is None:
            child = self._lean_children[child_class] = child_class(context=self.context)
        return child

    def to_representation(self, instance):
        if switch.stock:
            return serializers.Serializer.to_representation(self, instance)
        ret = {}
        for name, how, source, extra in self._lean_plan():
            if how == _ATTR:
                try:
                    value = getattr(instance, source)
                except (ObjectDoesNotExist, AttributeError, KeyError):
                    ret.update(self._drf_field(name, instance))  # DRF's None, default or skip
                    continue
                ret[name] = None if value is None else extra(value)
            elif how == _PATH:
                value = instance
                for attr in source[:-1]:
                    value = getattr(value, attr)
                    if value is None:  # a null link: DRF omits the field or writes null
                        ret.update(self._drf_field(name, instance))
                        break
                else:
                    value = getattr(value, source[-1])
                    ret[name] = None if value is None else extra(value)
            elif how == _INSTANCE:
                value = instance.__dict__.get(source, _MISSING)
                if value is _MISSING or callable(value):
                    ret.update(self._drf_field(name, instance))
                else:
                    ret[name] = None if value is None else extra(value)
            elif how == _METHOD:
                ret[name] = getattr(self, source)(instance)
            elif how == _NESTED_MANY:
                value = getattr(instance, source)
                if isinstance(value, models.manager.BaseManager):
                    value = value.all()
                child = self._lean_child(extra)
                ret[name] = [child.to_representation(item) for item in value]
            elif how == _NESTED:
                try:
                    value = getattr(instance, source)
                except ObjectDoesNotExist:
                    value = None
                child = self._lean_child(extra)
                ret[name] = None if value is None else child.to_representation(value)
            else:
                ret.update(self._drf_field(name, instance))
        return ret

    def _drf_field(self, name: str, instance) -> dict:
        """DRF's own path for one field (what `Serializer.to_representation` does)."""
        field = self.fields[name]
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return {}
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return {name: None if check is None else field.to_representation(attribute)}
