"""The shared behaviour of every ModelAdmin of the staff console.

- `ReadOnlyModeMixin`: with `settings.READ_ONLY_MODE` on (read at request time) the admin refuses
  every save, delete and action with a visible error message and changes nothing.
- `AuditedAdminMixin`: plain edits (add, change, delete) write an AuditLog row with before/after
  snapshots, in the transaction of the edit, through `strathwell.audit`'s `admin_action` signal.
- `ReadOnlyModelAdmin`: records staff look at but never edit (ledger, audit log, webhooks...);
  actions may still be attached (they call model methods, not forms).
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse

from strathwell.api.permissions import staff_can
from strathwell.audit.models import AuditLog
from strathwell.audit.services import log_admin_action, snapshot
from strathwell.console.display import format_cents

READ_ONLY_MESSAGE = (
    "Read-only mode: the service is not accepting changes right now, so nothing was saved "
    "or changed. Try again once READ_ONLY_MODE is off."
)


def read_only_mode() -> bool:
    """Whether `READ_ONLY_MODE` is on, read per request (so tests and operators can flip it)."""
    return bool(getattr(settings, "READ_ONLY_MODE", False))


def refuse_read_only(modeladmin, request) -> None:
    modeladmin.message_user(request, READ_ONLY_MESSAGE, messages.ERROR)


class ReadOnlyModeMixin:
    """Refuse every write of the admin while `READ_ONLY_MODE` is on, with a message."""

    def _changelist_url(self):
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist"
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and read_only_mode():
            refuse_read_only(self, request)
            return HttpResponseRedirect(request.get_full_path())
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if read_only_mode():
            refuse_read_only(self, request)
            try:
                url = reverse(
                    f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[object_id],
                )
            except NoReverseMatch:
                url = self._changelist_url()
            return HttpResponseRedirect(url)
        return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        # A POST to a changelist is always a write: an action (either step of a confirm
        # action, a bulk delete) or a list_editable save.
        if request.method == "POST" and read_only_mode():
            refuse_read_only(self, request)
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)

    def response_action(self, request, queryset):
        if read_only_mode():  # also for actions reached some other way
            refuse_read_only(self, request)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)


class AuditedAdminMixin(ReadOnlyModeMixin):
    """Plain admin edits write one AuditLog row each (action `admin.<model>.add|change|delete`)
    with before/after snapshots, inside the edit's transaction (the admin's change and delete
    views are atomic, and each write here opens its own atomic block as well).

    The snapshot is the model's own `audit_snapshot()` when it has one (the same one its API
    mutations record, e.g. a template with its items); otherwise the row's fields plus the
    relations named in `audit_related` (reverse FKs, one-to-ones, m2m edited in the form)."""

    audit_related: tuple[str, ...] = ()

    def audit_action(self, verb: str) -> str:
        return f"admin.{self.opts.model_name}.{verb}"

    def audit_snapshot(self, obj) -> dict | None:
        if obj is None:
            return None
        own = getattr(obj, "audit_snapshot", None)
        if callable(own):
            return own()
        data = snapshot(obj)
        for name in self.audit_related:
            try:
                related = getattr(obj, name)
            except ObjectDoesNotExist:
                data[name] = None
                continue
            if isinstance(related, models.Model):
                data[name] = snapshot(related)
            elif related is None:
                data[name] = None
            else:
                data[name] = [snapshot(row) for row in related.all()]
        return data

    def _stored(self, obj, *, lock: bool = False):
        if obj.pk is None:
            return None
        rows = type(obj)._base_manager.filter(pk=obj.pk)
        return (rows.select_for_update() if lock else rows).first()

    def save_model(self, request, obj, form, change):
        # The form already wrote its values onto `obj`: "before" is what the database holds,
        # read under a row lock so two staff saving the same object get exact before/afters.
        with transaction.atomic():
            stored = self._stored(obj, lock=True) if change else None
            obj._console_audit_before = self.audit_snapshot(stored)
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Audit after the inlines are saved, so "after" holds them too.
        obj = form.instance
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            log_admin_action(
                actor=request.user,
                action=self.audit_action("change" if change else "add"),
                target=self._stored(obj) or obj,
                before=getattr(obj, "_console_audit_before", None),
                after=self.audit_snapshot(self._stored(obj)),
            )

    def delete_model(self, request, obj):
        pk, label = obj.pk, obj._meta.label_lower
        with transaction.atomic():
            before = self.audit_snapshot(self._stored(obj) or obj)
            super().delete_model(request, obj)
            log_admin_action(
                actor=request.user,
                action=self.audit_action("delete"),
                target=(label, pk),
                before=before,
                after=None,
            )

    def delete_queryset(self, request, queryset):
        # Django's bulk delete skips delete_model; audit every row, all or nothing.
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


class ConfirmActionMixin:
    """Permission of the confirm actions (see `strathwell.console.actions`): each action needs
    the model permissions of its staff operation (`STAFF_OPERATIONS`, shared with the API),
    even on admins that show the model read-only (the actions call model methods; the forms
    never edit status or money). An action the user may not run is not offered, and posting
    it anyway does nothing."""

    def has_staff_action_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            name: entry
            for name, entry in actions.items()
            if getattr(entry[0], "confirm_spec", None) is None
            or staff_can(request.user, entry[0].confirm_spec.operation)
        }


class ObjectActionsMixin:
    """Every confirm action of a ModelAdmin is also a button on the object's own page
    ("object tools"). The button opens `<object>/actions/<name>/`, which runs the very same
    action on a queryset of that one object: the same confirmation page and form, the same
    permission check (`staff_can` on the action's operation: not offered, and refused when
    posted, to a user without it), the same audit rows; then back to the object's page."""

    def object_actions(self, request) -> list:
        return [
            (name, func.confirm_spec)
            for name, (func, _, _) in self.get_actions(request).items()
            if getattr(func, "confirm_spec", None) is not None
        ]

    def get_urls(self):
        opts = self.opts
        view = self.admin_site.admin_view(self.object_action_view)
        return [
            path(
                "<path:object_id>/actions/<str:action>/",
                view,
                name=f"{opts.app_label}_{opts.model_name}_object_action",
            ),
            *super().get_urls(),
        ]

    def object_action_view(self, request, object_id, action):
        actions = self.get_actions(request)
        entry = actions.get(action)
        if entry is None or getattr(entry[0], "confirm_spec", None) is None:
            raise PermissionDenied  # unknown, or an action this user may not run
        queryset = self.get_queryset(request).filter(pk=unquote(object_id))
        if not queryset.exists():
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        response = entry[0](self, request, queryset)
        if response is not None:  # the confirmation page (again, with errors)
            return response
        return HttpResponseRedirect(
            reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[quote(object_id)],
            )
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        opts = self.opts
        tools = [
            {
                "label": spec.label,
                "name": name,
                "url": reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_object_action",
                    args=[object_id, name],
                ),
            }
            for name, spec in self.object_actions(request)
        ]
        context = {"confirm_object_actions": tools, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)


def changed_fields(before, after) -> list[dict]:
    """The fields an audit row changed: name, old value, new value (only those that differ)."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, "—"), after.get(key, "—")
        if old != new:
            rows.append({"field": key, "before": _value(key, old), "after": _value(key, new)})
    return rows


def _value(key: str, value) -> str:
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_cents(value)
    if value is None or value == "":
        return "—"
    return str(value)


class AuditHistoryMixin:
    """The object's "History" page lists its AuditLog rows (who, what, why, and a diff of the
    fields each one changed), newest first; Django's own admin log is shown below when it has
    entries."""

    history_limit = 200

    def history_view(self, request, object_id, extra_context=None):
        rows = AuditLog.objects.filter(
            target_type=self.opts.label_lower, target_id=str(unquote(object_id))
        ).order_by("-created_at")[: self.history_limit]
        audit_rows = [
            {
                "created_at": row.created_at,
                "actor": row.actor_email or "—",
                "action": row.action,
                "reason": row.reason,
                "changes": changed_fields(row.before, row.after),
            }
            for row in rows
        ]
        context = {"audit_rows": audit_rows, **(extra_context or {})}
        return super().history_view(request, object_id, extra_context=context)


# Columns never shown in lists: raw ids (search by id still works through search_fields).
HIDDEN_LIST_COLUMNS = {"id", "pk", "payment_id", "booking_id", "vendor_id", "payout_id"}


def _money_display(field_name: str, verbose_name: str):
    def show(obj):
        return format_cents(getattr(obj, field_name), money_currency(obj))

    label = str(verbose_name).replace(" cents", "").replace("cents", "").strip() or "amount"
    return admin.display(description=label)(show)


def money_currency(obj) -> str:
    """The currency of a money field on `obj`: its own, else its booking's or payment's."""
    for attr in ("currency", "booking", "payment", "refund", "entry"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and attr == "currency":
            return value
        if value is not None and attr != "currency" and getattr(value, "currency", None):
            return value.currency
    return settings.DEFAULT_CURRENCY


class MoneyDisplayMixin:
    """Every `*_cents` model field shows as money with its currency (`675.00 USD`, labelled
    without "cents") in lists, change pages and inlines; raw id columns are left out of lists."""

    def _money_name(self, name):
        if not isinstance(name, str) or not name.endswith("_cents"):
            return name
        try:
            label = self.model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:  # a property of the model (amount_paid_cents...)
            if not hasattr(self.model, name):
                return name
            label = name.replace("_", " ")
        attr = f"{name}__money"
        if not hasattr(self, attr):
            setattr(self, attr, _money_display(name, label))
        return attr

    def _money_names(self, names, shown_read_only=None):
        out = []
        for name in names:
            if shown_read_only is None or name in shown_read_only:
                name = self._money_name(name)
            if name not in out:
                out.append(name)
        return out

    def _read_only_names(self, request, obj):
        """Fields shown read-only: the declared read-only ones, or all without change rights."""
        if not self.has_change_permission(request, obj):
            return None  # every field
        return set(super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        # The raw id is in the page's address, not in its text (search by id still works).
        names = [name for name in super().get_fields(request, obj) if name != "id"]
        return self._money_names(names, self._read_only_names(request, obj))

    def get_readonly_fields(self, request, obj=None):
        names = list(super().get_readonly_fields(request, obj))
        # The money display and its field: the form leaves the raw field out.
        return [*self._money_names(names), *(n for n in names if n not in self._money_names(names))]

    def get_fieldsets(self, request, obj=None):
        if self.fieldsets is None:  # built from get_fields
            return super().get_fieldsets(request, obj)
        shown = self._read_only_names(request, obj)
        return [
            (title, {**options, "fields": self._money_names(options.get("fields", ()), shown)})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_list_display(self, request):
        names = [
            name
            for name in super().get_list_display(request)
            if not (isinstance(name, str) and name in HIDDEN_LIST_COLUMNS)
        ]
        return self._money_names(names)

    def get_search_results(self, request, queryset, search_term):
        # A pasted id (with or without the dashes of a UUID) finds its object exactly.
        return super().get_search_results(request, queryset, search_term.strip())


class AuditedModelAdmin(
    MoneyDisplayMixin,
    AuditHistoryMixin,
    ObjectActionsMixin,
    AuditedAdminMixin,
    ConfirmActionMixin,
    admin.ModelAdmin,
):
    """The base ModelAdmin of the console: audited edits, read-only mode, confirm actions (on
    the list and on each object's page), money with its currency, History from the audit log."""


class ReadOnlyModelAdmin(AuditedModelAdmin):
    """View-only records: no add, change or delete through the admin (actions still work)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(MoneyDisplayMixin):
    """An inline that only shows rows (money with its currency)."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
