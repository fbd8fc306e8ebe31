"""The periodic jobs: one registry behind beat's schedule, `run_periodic` and its --loop."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from strathwell.celery import app
from strathwell.jobs.periodic import load_jobs

ROOT = Path(__file__).resolve().parents[3]
CONTRACT_JOBS = {
    "expire_vendor_requests",
    "expire_unpaid_bookings",
    "start_events",
    "complete_events",
    "remind_balance_due",
    "retry_webhook_events",
    "purge_expired_tokens",
    "reconcile_stripe",
}


def test_every_contract_job_is_registered_scheduled_and_a_celery_task():
    jobs = load_jobs()
    # Beyond the contract: the outbox's safety net and the stale-upload purge (security).
    assert set(jobs) == CONTRACT_JOBS | {"deliver_outbox", "purge_stale_uploads"}
    assert set(settings.PERIODIC_JOB_INTERVALS) == set(jobs)
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} == {f"periodic.{n}" for n in jobs}
    app.loader.import_default_modules()
    assert {f"periodic.{n}" for n in jobs} <= set(app.tasks)
    assert "jobs.deliver_outbox_message" in app.tasks


@pytest.mark.django_db
def test_run_periodic_runs_the_named_jobs_once_and_refuses_unknown_names():
    out = io.StringIO()
    call_command("run_periodic", "start_events", "purge_expired_tokens", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["start_events", "purge_expired_tokens"]
    with pytest.raises(CommandError, match="Unknown job"):
        call_command("run_periodic", "make_coffee")


@pytest.mark.django_db
def test_run_periodic_without_names_runs_every_job(stripe_local):
    # stripe_local: reconcile_stripe lists the (local) Stripe's PaymentIntents and Refunds.
    out = io.StringIO()
    call_command("run_periodic", stdout=out)
    assert {line.split(":")[0] for line in out.getvalue().splitlines()} == set(load_jobs())


@pytest.mark.django_db
def test_run_periodic_lists_schedule_and_backlog():
    out = io.StringIO()
    call_command("run_periodic", "--list", stdout=out)
    text = out.getvalue()
    assert "expire_unpaid_bookings" in text and "every 300 s" in text and "[0 due]" in text


def test_the_loop_runs_jobs_on_schedule_until_stopped(tmp_path):
    """`make run` without Redis: `run_periodic --loop` in its own process, on SQLite."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "strathwell.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'loop.sqlite3'}",
        "PERIODIC_JOB_INTERVALS": "deliver_outbox=1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = tmp_path / "loop.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_periodic", "--loop", "--tick", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while log.read_text().count("\ndeliver_outbox: 0 processed (") < 3:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    text = log.read_text()
    assert process.returncode == 0, text
    assert text.count("\nstart_events: 0 processed (") == 1  # every 900 s: only the first run
    assert "failed" not in text
