"""The staff console's AdminSite: the index is the staff landing page.

It shows the queues that need staff action, each linked with its count, and the overview
figures. This site only renders them: what they are comes from the callable named by
`settings.STAFF_CONSOLE_DASHBOARD` (the top layer, which knows every domain app, provides it;
see `backoffice/console.py`). Unset, the landing page has no queues and no figures.
Every page knows whether READ_ONLY_MODE is on (a banner in `admin/base_site.html`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from strathwell.audit.services import log_admin_action
from strathwell.console.display import format_cents
from strathwell.console.login import StaffLoginForm, needs_otp_setup, otp_setup_view
from strathwell.console.mixins import read_only_mode, refuse_read_only
from strathwell.staff_auth import session_is_verified


@dataclass(frozen=True)
class Queue:
    """A changelist filtered to what needs staff action."""

    title: str
    model: str  # "app_label.ModelName"
    filters: dict  # ORM filter giving the count
    query: str  # the changelist query string showing the same rows
    action: str  # what staff do there


@dataclass(frozen=True)
class Dashboard:
    """What the landing page shows: the queues, in order, and the overview figures (a dict of
    groups, rendered by `overview_sections`)."""

    queues: tuple[Queue, ...] = ()
    overview: dict | None = None


def dashboard() -> Dashboard:
    """The landing page's content, from the callable `settings.STAFF_CONSOLE_DASHBOARD` names
    (a dotted path resolved on each request, so a test can override the setting)."""
    path = getattr(settings, "STAFF_CONSOLE_DASHBOARD", "")
    if not path:
        return Dashboard()
    return import_string(path)()


def _humanize(key) -> str:
    text = str(key).replace("_cents", "").replace("_", " ")
    return text[:1].upper() + text[1:]


def _format(key, value, currency=None) -> str:
    if str(key).endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_cents(value, currency)
    return str(value)


def _rows(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    # A group with a currency (money per currency) shows every amount with it.
    currency = data.get("currency") if isinstance(data.get("currency"), str) else None
    rows = []
    for key, value in data.items():
        label = f"{prefix}{_humanize(key)}"
        if isinstance(value, dict):
            rows.extend(_rows(value, prefix=f"{label} · "))
        elif isinstance(value, list | tuple):
            rows.append((label, ", ".join(str(v) for v in value)))
        else:
            rows.append((label, _format(key, value, currency)))
    return rows


def overview_sections(data: dict | None) -> list[dict]:
    """The overview as titled tables: one per top-level group (vendors, bookings, money...);
    a list of groups (money per currency) gives one table each, unless it only repeats a
    group already shown."""
    if not data:
        return []
    sections, loose = [], []
    shown = [value for value in data.values() if isinstance(value, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            sections.append({"title": _humanize(key), "rows": _rows(value)})
        elif isinstance(value, list | tuple) and all(isinstance(v, dict) for v in value):
            for i, group in enumerate(value):
                if group in shown:
                    continue
                name = str(group.get("currency", i + 1)).upper()
                sections.append({"title": f"{_humanize(key)} · {name}", "rows": _rows(group)})
        else:
            loose.append((_humanize(key), _format(key, value)))
    if loose:
        sections.append({"title": "Other", "rows": loose})
    return sections


class StrathwellAdminSite(admin.AdminSite):
    """The console. Signing in takes the password and, for staff who must use one, an
    authenticator code (`strathwell.console.login`); a session without it is not let in."""

    site_header = "Strathwell staff console"
    site_title = "Strathwell staff"
    site_url = "/api/docs/"  # "View site": this service's site is its API documentation
    index_title = "Operations"
    login_form = StaffLoginForm
    login_template = "admin/console/login.html"

    def each_context(self, request):
        context = super().each_context(request)
        context["read_only_mode"] = read_only_mode()
        return context

    def has_permission(self, request):
        return super().has_permission(request) and session_is_verified(request)

    def get_urls(self):
        # Never cached: the page shows a secret key.
        setup = never_cache(csrf_protect(lambda request: otp_setup_view(self, request)))
        return [path("otp/setup/", setup, name="otp_setup"), *super().get_urls()]

    def login(self, request, extra_context=None):
        # Signed in with the password but no authenticator yet: set one up first.
        if request.method == "GET" and needs_otp_setup(request):
            return HttpResponseRedirect(reverse("admin:otp_setup", current_app=self.name))
        return super().login(request, extra_context)

    def password_change(self, request, extra_context=None):
        """Django's own view, refused in read-only mode and audited. The new password revokes
        every API session of the user (`User.save`); this console session stays signed in."""
        if request.method == "POST" and read_only_mode():
            refuse_read_only(self, request)
            return HttpResponseRedirect(request.get_full_path())
        with transaction.atomic():
            response = super().password_change(request, extra_context)
            if request.method == "POST" and isinstance(response, HttpResponseRedirect):
                log_admin_action(
                    actor=request.user,
                    action="admin.user.password_change",
                    target=request.user,
                    before=None,
                    after={"password": "changed", "sessions": "revoked"},
                    reason="Changed their own password in the console.",
                )
        return response

    def message_user(self, request, message, level):
        # `refuse_read_only` speaks to a ModelAdmin or this site alike.
        messages.add_message(request, level, message)

    def staff_queues(self, request, queues) -> list[dict]:
        """Of `queues`, those this user may open, each with its changelist link and count."""
        rows = []
        for queue in queues:
            model = apps.get_model(queue.model)
            model_admin = self._registry.get(model)
            if model_admin is None or not model_admin.has_view_or_change_permission(request):
                continue
            opts = model._meta
            try:
                url = reverse(f"{self.name}:{opts.app_label}_{opts.model_name}_changelist")
            except NoReverseMatch:
                continue
            rows.append(
                {
                    "title": queue.title,
                    "count": model._default_manager.filter(**queue.filters).count(),
                    "url": url + queue.query,
                    "action": queue.action,
                }
            )
        return rows

    def index(self, request, extra_context=None):
        content = dashboard()
        context = {
            "staff_queues": self.staff_queues(request, content.queues),
            "overview_sections": overview_sections(content.overview),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)
