"""The outbox: owed in the transaction, delivered once, retried with backoff, failed for staff,
retried by staff from the console (audited)."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from strathwell.audit.models import AuditLog
from strathwell.jobs import outbox
from strathwell.jobs.models import OutboxMessage
from strathwell.jobs.outbox import OutboxItem
from strathwell.jobs.tasks import deliver_outbox
from strathwell.testing.threads import run_together

TOPIC = "test.outbox"


@pytest.fixture
def handler(monkeypatch):
    """A registered handler recording what it delivered; `fail` makes it raise."""
    state = {"delivered": [], "fail": 0, "sleep": 0.0}
    lock = threading.Lock()

    def deliver(message):
        if state["sleep"]:
            time.sleep(state["sleep"])
        if state["fail"]:
            state["fail"] -= 1
            raise ConnectionRefusedError("SMTP server down")
        with lock:
            state["delivered"].append(message.payload["n"])

    monkeypatch.setitem(outbox._HANDLERS, TOPIC, deliver)
    return state


def lost(n: int) -> OutboxMessage:
    """A message whose delivery task never ran (the process died after the commit)."""
    return OutboxMessage.objects.create(topic=TOPIC, dedupe_key=f"test:{n}", payload={"n": n})


def owe(n: int = 1, key: str | None = None) -> OutboxMessage:
    outbox.enqueue([OutboxItem(TOPIC, key or f"test:{n}", {"n": n})])
    return OutboxMessage.objects.get(dedupe_key=key or f"test:{n}")


@pytest.mark.django_db
def test_an_effect_is_owed_once_and_delivered_after_the_commit(
    handler, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            owe(1)
            owe(1)  # the same effect again (a retried flow): still one
            assert handler["delivered"] == []  # not before the commit
    assert handler["delivered"] == [1]
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("delivered", 1)
    assert message.delivered_at is not None
    assert outbox.deliver(message.pk) == "skipped"  # a late duplicate task
    assert handler["delivered"] == [1]


@pytest.mark.django_db
def test_a_rolled_back_flow_owes_nothing(handler):
    with pytest.raises(RuntimeError), transaction.atomic():
        owe(1)
        raise RuntimeError("the flow failed")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_failures_back_off_then_fail_for_staff(handler, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    handler["fail"] = 10
    message = owe(1)
    assert outbox.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert "SMTP server down" in message.last_error
    assert outbox.deliver(message.pk) == "skipped"  # not due yet (60 s)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        assert deliver_outbox() == 0
    message.refresh_from_db()
    assert message.attempts == 2
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61 + 121)):
        deliver_outbox()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        assert deliver_outbox() == 0  # failed: left to staff
    assert handler["delivered"] == []
    assert OutboxMessage.backoff(1) == datetime.timedelta(seconds=60)
    assert OutboxMessage.backoff(20) == datetime.timedelta(hours=6)


@pytest.mark.django_db
def test_the_sweep_delivers_what_no_task_delivered(handler):
    messages = [owe(n) for n in range(3)]  # the transaction never commits: no task ran
    assert deliver_outbox() == 3
    assert sorted(handler["delivered"]) == [0, 1, 2]
    assert {m.status for m in OutboxMessage.objects.all()} == {"delivered"}
    assert deliver_outbox() == 0
    assert len(messages) == 3


@pytest.mark.django_db
def test_an_unknown_topic_is_a_failure_not_a_crash():
    outbox.enqueue([OutboxItem("nobody.handles.this", "x:1", {})])
    message = OutboxMessage.objects.get()
    assert outbox.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert "no outbox handler" in message.last_error


@pytest.mark.django_db(transaction=True)
def test_a_task_and_a_sweep_at_once_deliver_once(handler):
    handler["sleep"] = 0.2  # the first one is still delivering when the second looks
    message = lost(1)
    outcomes = run_together(lambda: outbox.deliver(message.pk), deliver_outbox)
    assert handler["delivered"] == [1]
    assert sorted(map(str, outcomes)) == ["0", "delivered"] or sorted(map(str, outcomes)) == [
        "1",
        "skipped",
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("delivered", 1)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_deliver_each_message_once(handler):
    handler["sleep"] = 0.02
    for n in range(10):
        lost(n)
    delivered = run_together(deliver_outbox, deliver_outbox)
    assert sum(delivered) == 10
    assert sorted(handler["delivered"]) == list(range(10))


@pytest.mark.django_db
def test_staff_retry_a_failed_message_from_the_console(
    handler, staff_client, staff, django_capture_on_commit_callbacks, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    handler["fail"] = 1
    message = owe(7)
    outbox.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "failed"

    url = reverse("admin:jobs_outboxmessage_changelist")
    form = {
        "action": "retry_outbox_messages",
        ACTION_CHECKBOX_NAME: [str(message.pk)],
        "post": "yes",
        "reason": "SMTP credentials fixed",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, form)
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("delivered", 1)
    assert handler["delivered"] == [7]
    audit = AuditLog.objects.get(action="outbox.retry")
    assert (audit.actor_id, audit.reason) == (staff.pk, "SMTP credentials fixed")
    assert audit.before["status"] == "failed" and audit.after["status"] == "pending"
    # A delivered message cannot be retried: nobody gets it twice.
    staff_client.post(url, form)
    assert handler["delivered"] == [7]
    assert AuditLog.objects.filter(action="outbox.retry").count() == 1


@pytest.mark.django_db
def test_deliveries_are_not_audited(handler):
    message = owe(1)
    outbox.deliver(message.pk)
    assert not AuditLog.objects.filter(target_type="jobs.outboxmessage").exists()
