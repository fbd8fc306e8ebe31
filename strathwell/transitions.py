"""One shape for every state transition of a stateful model: guard, write, signal.

A model that mixes in `Transitions` declares its state graph as data:

- `TRANSITIONS`: `{old: {new, ...}}`, every edge the graph allows;
- `STATUS_FIELD`: the field that holds the state (default `status`);
- `transition_signal`: the app's domain signal (the audit receiver records every send);
- `TRANSITION_ERROR` / `TRANSITION_ERROR_DETAILS`: the 409 message and its details, as format
  templates (`{old}`, `{new}`, `{verb}`, `{pk}` and `{self.<field>}` are filled in) — the
  messages clients and tests see stay per model, but no model writes the guard again;
- `audit_state()`: what the audit trail records before and after (default: every field).

The caller owns the transaction and the row locks (taken in the project's one lock order, see
`bookings.locks` and `payments.locks`); `transition()` runs on the locked, re-read row:

    with transaction.atomic():
        locked = lock_booking(pk)
        locked.transition(Booking.Status.PAID, actor=..., action="booking.mark_paid",
                          allowed_from={Booking.Status.READY}, verb="mark as paid",
                          paid_at=timezone.now())

An illegal move raises `InvalidTransition` before anything is written, so it changes nothing;
the save names its fields; the signal is sent inside the transaction, so the audit row commits
or rolls back with the change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from django.dispatch import Signal
from django.utils import timezone

from strathwell.audit.services import snapshot
from strathwell.exceptions import InvalidTransition

_UNSET = object()


class Transitions:
    """Mixin for models with a state graph (see the module docstring)."""

    TRANSITIONS: ClassVar[Mapping[str, Collection[str]]] = {}
    STATUS_FIELD: ClassVar[str] = "status"
    TRANSITION_ERROR: ClassVar[str] = "Cannot {verb} a {model} that is {old}."
    TRANSITION_ERROR_DETAILS: ClassVar[Mapping[str, str]] = {"status": "{old}"}
    transition_signal: ClassVar[Signal]

    def lock_row(self):
        """Lock and re-read this row (`SELECT … FOR UPDATE`). The caller has taken the rows
        that come before it in the lock order (see `payments.locks`)."""
        return type(self)._default_manager.select_for_update().get(pk=self.pk)

    # --- what the audit trail records ---------------------------------------------------------

    def audit_state(self) -> dict | None:
        """The before/after of this object's audit rows (override to narrow it)."""
        return snapshot(self)

    def send_transition(
        self, *, actor, action: str, before, reason: str = "", after: Any = _UNSET
    ) -> None:
        """Send the model's domain signal (also for events that are not status moves: a
        creation, a line added or removed). `after` defaults to `audit_state()`."""
        self.transition_signal.send(
            sender=type(self),
            actor=actor,
            action=action,
            target=self,
            before=before,
            after=self.audit_state() if after is _UNSET else after,
            reason=reason or "",
        )

    # --- the guard ----------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return getattr(self, self.STATUS_FIELD)

    def can_transition(self, new: str, *, allowed_from: Collection[str] | None = None) -> bool:
        """Whether the graph (and, if given, the action's own start states) allow `new`."""
        old = self.state
        return new in self.TRANSITIONS.get(old, ()) and (
            allowed_from is None or old in allowed_from
        )

    def check_transition(
        self,
        new: str,
        *,
        allowed_from: Collection[str] | None = None,
        verb: str = "",
        error: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        """Raise InvalidTransition (409, the model's message and details) unless allowed."""
        if self.can_transition(new, allowed_from=allowed_from):
            return
        self.refuse(verb=verb, new=new, error=error, details=details)

    def refuse(
        self,
        *,
        verb: str = "",
        new: str = "",
        error: str | None = None,
        details: Mapping[str, str] | None = None,
    ):
        """Raise the model's InvalidTransition for an action it cannot take now."""
        context = {
            "old": self.state,
            "new": new,
            "verb": verb,
            "pk": str(self.pk),
            "model": self._meta.verbose_name,
            "self": self,
        }
        templates = self.TRANSITION_ERROR_DETAILS if details is None else details
        raise InvalidTransition(
            (error or self.TRANSITION_ERROR).format(**context),
            details={key: value.format(**context) for key, value in templates.items()},
        )

    # --- guard, write, signal -------------------------------------------------------------------

    def transition(
        self,
        new: str,
        *,
        actor,
        action: str,
        reason: str = "",
        allowed_from: Collection[str] | None = None,
        verb: str = "",
        error: str | None = None,
        before: Any = _UNSET,
        **changes: Any,
    ) -> None:
        """Move this (locked) row to `new`: guard, set the status and `changes`, save exactly
        those fields (and `updated_at`), send the signal with before/after. Nothing is written
        when the guard refuses."""
        self.check_transition(new, allowed_from=allowed_from, verb=verb, error=error)
        if before is _UNSET:
            before = self.audit_state()
        setattr(self, self.STATUS_FIELD, new)
        for field, value in changes.items():
            setattr(self, field, value)
        fields = [self.STATUS_FIELD, *changes]
        if any(f.name == "updated_at" for f in self._meta.concrete_fields):
            fields.append("updated_at")
        self.save(update_fields=fields)
        self.send_transition(actor=actor, action=action, before=before, reason=reason)

    @classmethod
    def transition_batch(
        cls,
        rows: list,
        new: str,
        *,
        actor,
        action: str,
        reason: str = "",
        allowed_from: Collection[str] | None = None,
        verb: str = "",
    ) -> None:
        """`transition()` for many (locked) rows of this model at once, in a constant number of
        queries: every guard first (one refusal writes nothing), ONE UPDATE of the status (and
        `updated_at`), and ONE signal send carrying the batch — the audit receiver writes one
        row per item in one INSERT. For transitions without extra field changes."""
        rows = list(rows)
        if not rows:
            return
        for row in rows:
            row.check_transition(new, allowed_from=allowed_from, verb=verb)
        befores = [row.audit_state() for row in rows]
        values: dict[str, Any] = {cls.STATUS_FIELD: new}
        if any(f.name == "updated_at" for f in cls._meta.concrete_fields):
            values["updated_at"] = timezone.now()
        for row in rows:
            for field, value in values.items():
                setattr(row, field, value)
        cls._default_manager.filter(pk__in=[row.pk for row in rows]).update(**values)
        cls.transition_signal.send(
            sender=cls,
            actor=actor,
            action=action,
            target=None,
            batch=[
                (row, before, row.audit_state()) for row, before in zip(rows, befores, strict=True)
            ],
            reason=reason or "",
        )
