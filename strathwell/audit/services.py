"""The audit trail's helpers: snapshots with secrets masked, and "admin mutation with
before/after" for every later issue to reuse."""

import datetime
import decimal
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models

from strathwell.api.middleware import current_request_ip
from strathwell.system import SYSTEM_ACTOR_NAME, is_system

SECRET_MARKERS = ("password", "secret", "token", "jti", "api_key", "signature")
# Keys that are credentials only as a whole word ("access"/"refresh": the session JWTs).
SECRET_KEYS = frozenset({"access", "refresh", "authorization"})
MASK = "***"


def _is_secret(key: str) -> bool:
    key = key.lower()
    return key in SECRET_KEYS or any(marker in key for marker in SECRET_MARKERS)


def mask_secrets(value):
    """Return a JSON-safe copy of value with every secret-looking key's value masked."""
    if isinstance(value, dict):
        return {
            str(k): (MASK if _is_secret(str(k)) and v not in (None, "") else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [mask_secrets(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def snapshot(instance: models.Model | None, fields: list[str] | None = None) -> dict | None:
    """A JSON-safe dict of the instance's concrete fields (FKs as ids), secrets masked."""
    if instance is None:
        return None
    data = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.attname if field.is_relation else field.name] = getattr(instance, field.attname)
    return mask_secrets(data)


def audit_snapshot(instance: models.Model | None) -> dict | None:
    """What the audit trail records of an object: its model's own `audit_snapshot()` when it has
    one (a vendor with its profile, a template with its items), else `snapshot(instance)`."""
    if instance is None:
        return None
    own = getattr(instance, "audit_snapshot", None)
    return own() if callable(own) else snapshot(instance)


def _audit_row(*, actor, action, target, before=None, after=None, reason=""):
    """The (unsaved) AuditLog row of one change."""
    from strathwell.audit.models import AuditLog

    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    # A periodic job's change (actor SYSTEM) shows as "system"; a Stripe event's has no actor.
    actor_email = SYSTEM_ACTOR_NAME if is_system(actor) else getattr(actor_obj, "email", "")
    if isinstance(target, models.Model):
        target_type, target_id = target._meta.label_lower, str(target.pk)
    else:  # ("type", id) for things that are not model rows
        target_type, target_id = target[0], str(target[1])
    return AuditLog(
        actor=actor_obj,
        actor_email=actor_email or "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=mask_secrets(before),
        after=mask_secrets(after),
        reason=reason or "",
        ip=current_request_ip(),
    )


# The rows of the innermost `collected()` block, written at its end (None: write at once).
_collected: ContextVar[list | None] = ContextVar("strathwell_audit_collected", default=None)


@contextmanager
def collected():
    """Keep the audit rows written inside this block and write them in ONE INSERT at its end,
    in the same transaction (a flow that sends several domain signals: one query, not one per
    signal). An exception leaving the block discards them: use it INSIDE the atomic block
    whose rollback undoes the changes they record. Nested blocks join the outer one."""
    if _collected.get() is not None:
        yield
        return
    from strathwell.audit.models import AuditLog

    rows: list = []
    token = _collected.set(rows)
    try:
        yield
    finally:
        _collected.reset(token)
    if rows:
        AuditLog.objects.bulk_create(rows)


def write_audit_log(*, actor, action, target, before=None, after=None, reason=""):
    row = _audit_row(
        actor=actor, action=action, target=target, before=before, after=after, reason=reason
    )
    pending = _collected.get()
    if pending is not None:
        pending.append(row)
    else:
        row.save(force_insert=True)
    return row


def write_audit_logs(*, actor, action, items, reason=""):
    """One AuditLog row per (target, before, after) of a batch change, in ONE INSERT: the
    same rows `write_audit_log` would write one by one."""
    from strathwell.audit.models import AuditLog

    rows = [
        _audit_row(
            actor=actor, action=action, target=target, before=before, after=after, reason=reason
        )
        for target, before, after in items
    ]
    pending = _collected.get()
    if pending is not None:
        pending.extend(rows)
        return rows
    return AuditLog.objects.bulk_create(rows) if rows else []


def log_admin_action(*, actor, action, target, before=None, after=None, reason="", sender=None):
    """Send the `admin_action` signal (the receiver writes the row in this transaction)."""
    from strathwell.audit.signals import admin_action

    admin_action.send(
        sender=sender or (type(target) if isinstance(target, models.Model) else object),
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        reason=reason,
    )


@contextmanager
def audited_change(instance: models.Model, *, actor, action: str, reason: str = ""):
    """Admin mutation with before/after: snapshot, run the block, re-read, snapshot, audit.

    Use inside the transaction of the change. Snapshots are `audit_snapshot()`. An unsaved
    instance (the block adds it) records `before=None`; deleting it in the block records
    `after=None`."""
    before = None if instance._state.adding else audit_snapshot(instance)
    pk = instance.pk  # read now: Model.delete() clears it
    yield instance
    if pk is None:  # an add with a database-assigned key
        pk = instance.pk
    model = type(instance)
    current = model._base_manager.filter(pk=pk).first()
    log_admin_action(
        actor=actor,
        action=action,
        target=(model._meta.label_lower, pk) if current is None else current,
        before=before,
        after=audit_snapshot(current),
        reason=reason,
    )
