"""Writing notifications: rows and their emails, in the transaction of the event.

`notify(drafts)` is called by the domain-signal receivers (`notifications.receivers`), inside
the transaction of the change that sent the signal: the Notification rows and the outbox rows
of their emails commit or roll back with it. The emails are sent by the worker after the
commit (`strathwell.jobs.outbox`); a retried flow or job owes nothing twice (unique event key
and recipient; unique outbox key per notification).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from notifications.models import Notification, email_dedupe_key
from strathwell.console.display import format_cents
from strathwell.db import insert_ignore_conflicts
from strathwell.jobs.outbox import OutboxItem, enqueue
from trust.screening import screen_text

EMAIL_TOPIC = "notifications.email"


@dataclass(frozen=True)
class Draft:
    """One notification to write: to whom, what, about which booking, for which event."""

    recipient_id: object
    kind: str
    title: str
    body: str
    event_key: str
    booking_id: object = None


def notify(drafts: list[Draft]) -> list:
    """Write the notifications (one per event and recipient: a pair already told is skipped)
    and owe their emails. Returns the ids of the notifications written now."""
    drafts = list({(d.event_key, d.recipient_id): d for d in drafts if d.recipient_id}.values())
    if not drafts:
        return []
    rows = [
        Notification(
            recipient_id=d.recipient_id,
            kind=d.kind,
            title=d.title[:200],
            body=d.body,
            event_key=d.event_key[:200],
            booking_id=d.booking_id,
        )
        for d in drafts
    ]
    # ONE statement: the rows a conflict skipped (a pair already told) are not returned.
    inserted = set(insert_ignore_conflicts(rows))
    written = [row.pk for row in rows if row.pk in inserted]
    enqueue(
        OutboxItem(EMAIL_TOPIC, email_dedupe_key(pk), {"notification_id": str(pk)})
        for pk in written
    )
    return written


# --- what notifications say ------------------------------------------------------------------


def safe(text) -> str:
    """User-written text as a notification may show it: every contact detail trust screening
    detects is masked (the same masking as moderation excerpts), whatever the text is."""
    return screen_text(str(text or "")).excerpt


def money(cents, currency) -> str:
    return format_cents(int(cents or 0), currency)


def day(value: datetime.date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"
