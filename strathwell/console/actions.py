"""Confirm actions: the console's one mechanism for every staff operation of the API.

`confirm_action(...)` turns "call this model method on each selected object with
`actor=request.user` and what the staff typed" into a Django admin action that works like
Django's own `delete_selected`:

1. The changelist POST (objects ticked, action chosen, "Go") renders an intermediate
   confirmation page: the selected objects with their current state, the effect, and a form
   with a required reason (plus whatever else the action needs). Nothing changes.
2. Only the confirmed POST (`post=yes`) with a valid form acts. Each object is processed on its
   own by the model method (its own transaction, its own audit row through the model's domain
   signal, exactly as through the API). A refusal (`DomainError`, e.g. InvalidTransition) is a
   per-object error message, never a 500; successes are summarized in one success message; an
   object the method left as it was (already in the target state: a double click) is reported
   as unchanged.

Without a reason the page is shown again with the error and nothing changes. Each action names
its staff `operation` in `strathwell.api.permissions.STAFF_OPERATIONS`, the map the API's
`IsAdmin` reads too: a staff user without its model permissions neither sees the action nor can
post it (`ConfirmActionMixin.get_actions`, checked again here). READ_ONLY_MODE refuses it before
it runs (`ReadOnlyModeMixin`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext, quote
from django.core.exceptions import ValidationError
from django.db import models
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from strathwell.api.permissions import STAFF_OPERATIONS, staff_can
from strathwell.console.forms import ConfirmActionForm
from strathwell.console.mixins import read_only_mode, refuse_read_only
from strathwell.exceptions import DomainError

# One confirmation page acts on at most this many objects (each is its own transaction).
MAX_SELECTED = 200
# How many object names a summary message lists before "and N more".
MESSAGE_NAMES = 10


class ActionSkipped(Exception):
    """Raised by a `perform` adapter: nothing to do for this object (reported as a warning)."""


class ActionFailed(Exception):
    """Raised by a `perform` adapter: it ran but did not succeed (reported as an error, with
    this message as is)."""


@dataclass(frozen=True)
class ConfirmAction:
    """What one confirm action does; see `confirm_action`."""

    name: str
    operation: str
    label: str
    verb: str
    done: str
    effect: str
    perform: Callable[..., Any]
    form_class: type[ConfirmActionForm]
    state_field: str | None
    compare_state: bool

    @property
    def button(self) -> str:
        return f"Yes, {self.verb}"


def confirm_action(
    *,
    name: str,
    operation: str,
    label: str,
    verb: str,
    done: str,
    effect: str,
    method: str | None = None,
    perform: Callable[..., Any] | None = None,
    form_class: type[ConfirmActionForm] = ConfirmActionForm,
    state_field: str | None = "status",
    compare_state: bool = True,
):
    """Build an admin action that confirms, then calls `obj.<method>(actor=user, **kwargs)`.

    - `name`: the action's name (unique in its ModelAdmin), `operation`: its key in
      STAFF_OPERATIONS (the permissions it needs), `label`: its text in the action select
      ("Approve payout"), `verb`/`done`: for messages ("approve"/"Approved"), `effect`:
      one or two sentences on the confirmation page saying what will happen.
    - `method`: the model method to call, or `perform(obj, *, actor, **kwargs)` for anything
      that is not a plain method call. kwargs come from `form_class.method_kwargs()`.
    - `state_field`: the field whose value is shown per object and (with `compare_state`)
      compared before/after to tell "changed" from "already there, nothing changed".
    - A `perform` adapter may raise `ActionSkipped` (a warning) or `ActionFailed` (an error).
    """
    if (method is None) == (perform is None):
        raise ValueError("confirm_action needs exactly one of method= or perform=.")
    if operation not in STAFF_OPERATIONS:
        raise ValueError(f"confirm_action: {operation!r} is not in STAFF_OPERATIONS.")
    if perform is None:

        def perform(obj, *, actor, **kwargs):
            return getattr(obj, method)(actor=actor, **kwargs)

    spec = ConfirmAction(
        name=name,
        operation=operation,
        label=label,
        verb=verb,
        done=done,
        effect=effect,
        perform=perform,
        form_class=form_class,
        state_field=state_field,
        compare_state=compare_state,
    )

    def action(modeladmin, request, queryset):
        return run_confirm_action(spec, modeladmin, request, queryset)

    action.__name__ = action.__qualname__ = name
    action.confirm_spec = spec
    return admin.action(description=label, permissions=["staff_action"])(action)


# --- the two steps -----------------------------------------------------------------------------


def run_confirm_action(spec: ConfirmAction, modeladmin, request, queryset):
    """Render the confirmation page, or (confirmed, valid form) act and return None so the
    admin redirects back to the changelist with the messages."""
    if read_only_mode():
        refuse_read_only(modeladmin, request)
        return None
    if not staff_can(request.user, spec.operation):
        modeladmin.message_user(
            request,
            f"You do not have the permission to {spec.verb} "
            f"{modeladmin.opts.verbose_name_plural}; nothing was changed.",
            messages.ERROR,
        )
        return None
    objects = list(queryset[: MAX_SELECTED + 1])
    if len(objects) > MAX_SELECTED:
        modeladmin.message_user(
            request,
            f"Select at most {MAX_SELECTED} {modeladmin.opts.verbose_name_plural} for "
            f"“{spec.label}”; nothing was changed.",
            messages.ERROR,
        )
        return None
    confirmed = request.POST.get("post") == "yes"
    form = spec.form_class(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        _report_skipped(spec, modeladmin, request, objects)
        _apply(spec, modeladmin, request, objects, form.method_kwargs())
        return None
    return _confirmation_page(spec, modeladmin, request, objects, form)


def _apply(spec: ConfirmAction, modeladmin, request, objects, kwargs: dict) -> None:
    changed, unchanged = [], []
    for obj in objects:
        label = object_label(modeladmin, obj)
        before = _state(obj, spec.state_field)
        try:
            result = spec.perform(obj, actor=request.user, **kwargs)
        except DomainError as exc:
            _refused(modeladmin, request, spec, label, f"{exc.message} Nothing was changed.")
            continue
        except ValidationError as exc:
            _refused(modeladmin, request, spec, label, "; ".join(exc.messages))
            continue
        except ActionFailed as exc:
            _refused(modeladmin, request, spec, label, str(exc))
            continue
        except ActionSkipped as exc:
            modeladmin.message_user(request, f"{label}: {exc}", messages.WARNING)
            continue
        after_obj = result if isinstance(result, type(obj)) else obj
        after = _state(after_obj, spec.state_field)
        if spec.state_field is not None and spec.compare_state and after == before:
            unchanged.append((label, _state_display(after_obj, spec.state_field)))
        else:
            changed.append(label)
    if changed:
        modeladmin.message_user(
            request,
            f"{spec.done} {len(changed)} {model_ngettext(modeladmin.opts, len(changed))}: "
            f"{_names(changed)}.",
            messages.SUCCESS,
        )
    for label, state in unchanged:
        modeladmin.message_user(
            request, f"{label}: already {state}; nothing changed.", messages.WARNING
        )


def _refused(modeladmin, request, spec, label: str, message: str) -> None:
    modeladmin.message_user(request, f"Could not {spec.verb} {label}: {message}", messages.ERROR)


def _report_skipped(spec, modeladmin, request, objects) -> None:
    """Ids posted by the confirmation page that the (filtered) list no longer contains."""
    posted = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
    found = {str(obj.pk) for obj in objects}
    missing = len(posted - found)
    if missing:
        modeladmin.message_user(
            request,
            f"{missing} of the selected {modeladmin.opts.verbose_name_plural} no longer match "
            f"this list's filters and were left unchanged.",
            messages.WARNING,
        )


def _confirmation_page(spec: ConfirmAction, modeladmin, request, objects, form):
    opts = modeladmin.opts
    rows = [
        {
            "pk": obj.pk,
            "label": object_label(modeladmin, obj),
            "url": _change_url(modeladmin, obj),
            "state": _state_display(obj, spec.state_field),
        }
        for obj in objects
    ]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": spec.label,
        "subtitle": None,
        "spec": spec,
        "rows": rows,
        "objects_name": model_ngettext(opts, len(rows)),
        "state_label": (
            opts.get_field(spec.state_field).verbose_name if spec.state_field else None
        ),
        "form": form,
        "opts": opts,
        "action_name": spec.name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request,
        [
            f"admin/{opts.app_label}/{opts.model_name}/{spec.name}_confirmation.html",
            "admin/console/confirm_action.html",
        ],
        context,
    )


# --- helpers -------------------------------------------------------------------------------------


def object_label(modeladmin, obj) -> str:
    """How messages and the confirmation page name an object (ModelAdmin may override)."""
    describe = getattr(modeladmin, "confirm_object_label", None)
    return describe(obj) if describe is not None else str(obj)


def _names(labels: list[str]) -> str:
    shown = ", ".join(labels[:MESSAGE_NAMES])
    more = len(labels) - MESSAGE_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _state(obj, field: str | None):
    return getattr(obj, field) if field else None


def _state_display(obj, field: str | None) -> str:
    if not field:
        return ""
    display = getattr(obj, f"get_{field}_display", None)
    return str(display()) if callable(display) else str(getattr(obj, field))


def _change_url(modeladmin, obj: models.Model) -> str | None:
    opts = modeladmin.opts
    try:
        return reverse(
            f"{modeladmin.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[quote(obj.pk)],
        )
    except NoReverseMatch:
        return None
