"""Tasks of the jobs app: delivering one outbox message (`jobs.deliver_outbox_message`, defined
with the outbox) and the `deliver_outbox` sweep."""

from strathwell.jobs import outbox
from strathwell.jobs.outbox import deliver_outbox_message
from strathwell.jobs.periodic import periodic_job

__all__ = ["deliver_outbox", "deliver_outbox_message"]


@periodic_job("deliver_outbox", backlog=outbox.backlog)
def deliver_outbox() -> int:
    """Deliver every due outbox message whose own task did not (lost, failed, or retried)."""
    return outbox.deliver_due()
