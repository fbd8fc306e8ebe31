"""Admin authoring of templates: each mutation is one transaction that writes one AuditLog row
with before/after snapshots including the items (through the audit core's `admin_action`)."""

from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from strathwell.audit.services import log_admin_action
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


def _slug_taken() -> DomainValidationError:
    return DomainValidationError(
        "slug: a template with this slug already exists.",
        details={"slug": ["A template with this slug already exists."]},
    )


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


@contextmanager
def _audited(template: Template | None, *, actor, action: str, reason: str = ""):
    """Snapshot (with items) before, run the block, snapshot after, send `admin_action`.
    Use inside the transaction. The block yields a one-element list to hand back the target
    (a new template on create)."""
    before = template.audit_snapshot() if template is not None else None
    pk = template.pk if template is not None else None
    holder = [template]
    yield holder
    pk = pk or holder[0].pk  # Model.delete() clears the instance's pk
    current = Template.objects.filter(pk=pk).first()
    log_admin_action(
        actor=actor,
        action=action,
        target=current if current is not None else ("templates_app.template", pk),
        before=before,
        after=current.audit_snapshot() if current is not None else None,
        reason=reason,
        sender=Template,
    )


def create_template(*, actor, data: dict) -> Template:
    data = dict(data)
    items = data.pop("items", [])
    try:
        with transaction.atomic(), _audited(None, actor=actor, action="template.create") as held:
            if not data.get("slug"):
                data["slug"] = unique_slug(data["title"])
            template = Template.objects.create(**data)
            _replace_items(template, items)
            held[0] = template
    except IntegrityError as exc:
        if "slug" in str(exc):
            raise _slug_taken() from exc
        raise
    return template


def update_template(*, template: Template, actor, data: dict) -> Template:
    """Change fields; `items`, when given, replaces every item. Locks the template row."""
    data = dict(data)
    items = data.pop("items", None)
    try:
        with transaction.atomic():
            locked = Template.objects.select_for_update().get(pk=template.pk)
            with _audited(locked, actor=actor, action="template.update"):
                fields = [name for name in TEMPLATE_FIELDS if name in data]
                for name in fields:
                    setattr(locked, name, data[name])
                if fields:
                    locked.save(update_fields=[*fields, "updated_at"])
                if items is not None:
                    _replace_items(locked, items)
                    locked.save(update_fields=["updated_at"])
    except IntegrityError as exc:
        if "slug" in str(exc):
            raise _slug_taken() from exc
        raise
    return locked


def delete_template(*, template: Template, actor) -> None:
    """Delete with its items; bookings made from it keep their data (template → NULL)."""
    with transaction.atomic():
        locked = Template.objects.select_for_update().get(pk=template.pk)
        with _audited(locked, actor=actor, action="template.delete"):
            locked.delete()
