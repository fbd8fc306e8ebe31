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
from django.core.exceptions import ObjectDoesNotExist
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from strathwell.api.permissions import staff_can
from strathwell.audit.services import log_admin_action, snapshot

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


class AuditedModelAdmin(AuditedAdminMixin, ConfirmActionMixin, admin.ModelAdmin):
    """The base ModelAdmin of the console: audited edits, read-only mode, confirm actions."""


class ReadOnlyModelAdmin(AuditedModelAdmin):
    """View-only records: no add, change or delete through the admin (actions still work)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline:
    """An inline that only shows rows."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
