"""Admin authoring of templates: each mutation is one transaction that writes one AuditLog row
with before/after snapshots including the items (the audit core's `audited_change`, which
records the model's own `Template.audit_snapshot()`)."""

from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from strathwell.audit.services import audited_change
from strathwell.exceptions import DomainValidationError
from templates_app.models import Template, TemplateItem

TEMPLATE_FIELDS = (
    "slug",
    "title",
    "event_type",
    "summary",
    "description",
    "guest_count_min",
    "guest_count_max",
    "currency",
    "is_published",
)


@contextmanager
def _taken_slug_refused():
    """A slug taken meanwhile (the unique constraint fires) is the 400 the serializer gives."""
    try:
        yield
    except IntegrityError as exc:
        if "slug" in str(exc):
            raise DomainValidationError(
                "slug: a template with this slug already exists.",
                details={"slug": ["A template with this slug already exists."]},
            ) from exc
        raise


def unique_slug(title: str) -> str:
    base = (slugify(title) or "template")[:100]
    slug, n = base, 1
    while Template.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _replace_items(template: Template, items: list[dict]) -> None:
    template.items.all().delete()
    TemplateItem.objects.bulk_create(
        TemplateItem(template=template, position=i, **item) for i, item in enumerate(items)
    )


def create_template(*, actor, data: dict) -> Template:
    data = dict(data)
    items = data.pop("items", [])
    with _taken_slug_refused(), transaction.atomic():
        if not data.get("slug"):
            data["slug"] = unique_slug(data["title"])
        template = Template(**data)
        with audited_change(template, actor=actor, action="template.create"):
            template.save(force_insert=True)
            _replace_items(template, items)
    return template


def update_template(*, template: Template, actor, data: dict) -> Template:
    """Change fields; `items`, when given, replaces every item. Locks the template row."""
    data = dict(data)
    items = data.pop("items", None)
    with _taken_slug_refused(), transaction.atomic():
        locked = Template.objects.select_for_update().get(pk=template.pk)
        with audited_change(locked, actor=actor, action="template.update"):
            fields = [name for name in TEMPLATE_FIELDS if name in data]
            for name in fields:
                setattr(locked, name, data[name])
            if fields:
                locked.save(update_fields=[*fields, "updated_at"])
            if items is not None:
                _replace_items(locked, items)
                locked.save(update_fields=["updated_at"])
    return locked


def delete_template(*, template: Template, actor) -> None:
    """Delete with its items; bookings made from it keep their data (template → NULL)."""
    with transaction.atomic():
        locked = Template.objects.select_for_update().get(pk=template.pk)
        with audited_change(locked, actor=actor, action="template.delete"):
            locked.delete()
