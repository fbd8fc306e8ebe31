"""Periodic jobs that only tell people something (no state moves)."""

from strathwell.jobs.periodic import periodic_job


@periodic_job("remind_balance_due")
def remind_balance_due() -> int:
    """One reminder to the organizer at `balance_due_on` and one on the event's eve while a
    balance is owed.

    A no-op until the money cycle (#12) provides `Booking.balance_cents` and `balance_due_on`.
    Then: for each `paid` booking with a balance whose `balance_due_on` or eve is today, draft a
    `balance_due` notification with the event key `balance_due:<booking id>:<that day>` and
    `services.notify` it (one transaction per booking): the unique (event, recipient) pair makes
    each reminder go out once however often the job runs."""
    return 0
