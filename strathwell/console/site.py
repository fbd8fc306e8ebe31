"""The staff console's AdminSite: the index is the staff landing page.

It shows the marketplace overview (the same `strathwell.ops.services.overview()` that answers
`GET /admin/overview`) and links to the queues that need staff action, each with its count.
Every page knows whether READ_ONLY_MODE is on (a banner in `admin/base_site.html`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from strathwell.console.display import format_cents
from strathwell.console.mixins import read_only_mode


@dataclass(frozen=True)
class Queue:
    """A changelist filtered to what needs staff action."""

    title: str
    model: str  # "app_label.ModelName"
    filters: dict  # ORM filter giving the count
    query: str  # the changelist query string showing the same rows
    action: str  # what staff do there


def queues() -> list[Queue]:
    from disputes.models import Dispute
    from payments.models import Payout, WebhookEvent
    from vendors.models import Vendor

    open_statuses = [str(s) for s in Dispute.OPEN_STATUSES]
    return [
        Queue(
            "Vendors pending verification",
            "vendors.Vendor",
            {"verification_status": Vendor.VerificationStatus.PENDING},
            f"?verification_status__exact={Vendor.VerificationStatus.PENDING}",
            "Approve, or ask for changes",
        ),
        Queue(
            "Eligible payouts",
            "payments.Payout",
            {"status": Payout.Status.ELIGIBLE},
            f"?status__exact={Payout.Status.ELIGIBLE}",
            "Approve (pay out), hold or reverse",
        ),
        Queue(
            "Open disputes",
            "disputes.Dispute",
            {"status__in": open_statuses},
            f"?status__in={','.join(open_statuses)}",
            "Review and resolve",
        ),
        Queue(
            "Failed webhook events",
            "payments.WebhookEvent",
            {"outcome": WebhookEvent.Outcome.FAILED},
            f"?outcome__exact={WebhookEvent.Outcome.FAILED}",
            "Fix the cause, then replay",
        ),
    ]


def overview_figures() -> dict:
    """The figures of `GET /admin/overview`, from the same service."""
    from strathwell.ops.services import overview

    return overview()


def _humanize(key) -> str:
    text = str(key).replace("_cents", "").replace("_", " ")
    return text[:1].upper() + text[1:]


def _format(key, value) -> str:
    if str(key).endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_cents(value)
    return str(value)


def _rows(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        label = f"{prefix}{_humanize(key)}"
        if isinstance(value, dict):
            rows.extend(_rows(value, prefix=f"{label} · "))
        elif isinstance(value, list | tuple):
            rows.append((label, ", ".join(str(v) for v in value)))
        else:
            rows.append((label, _format(key, value)))
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
    site_header = "Strathwell staff console"
    site_title = "Strathwell staff"
    index_title = "Operations"

    def each_context(self, request):
        context = super().each_context(request)
        context["read_only_mode"] = read_only_mode()
        return context

    def staff_queues(self, request) -> list[dict]:
        rows = []
        for queue in queues():
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
        context = {
            "staff_queues": self.staff_queues(request),
            "overview_sections": overview_sections(overview_figures()),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)
