"""The staff console's landing page content: the queues that need staff action and the
marketplace overview (the same `backoffice.services.overview()` that answers
`GET /admin/overview`). `settings.STAFF_CONSOLE_DASHBOARD` names `dashboard`; the generic
AdminSite in `strathwell.console.site` renders it."""

from __future__ import annotations

from backoffice.services import overview
from disputes.models import Dispute
from payments.models import Payout, WebhookEvent
from strathwell.console.site import Dashboard, Queue
from strathwell.jobs.models import OutboxMessage
from vendors.models import Vendor


def queues() -> list[Queue]:
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
        Queue(
            "Failed notifications and other effects",
            "jobs.OutboxMessage",
            {"status": OutboxMessage.Status.FAILED},
            f"?status__exact={OutboxMessage.Status.FAILED}",
            "Fix the cause (SMTP?), then retry",
        ),
    ]


def overview_figures() -> dict:
    """The figures of `GET /admin/overview`, from the same service."""
    return overview()


def dashboard() -> Dashboard:
    return Dashboard(queues=tuple(queues()), overview=overview_figures())
