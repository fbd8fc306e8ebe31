"""The periodic jobs: idempotent sweeps over due rows, declared once, run three ways.

Each app declares its jobs in its `tasks.py`:

    @periodic_job("start_events", backlog=start_events_backlog)
    def start_events() -> int:
        ...select due rows, re-check each under its lock, move it through its transition...
        return moved

which registers the function under its name and makes the Celery task `periodic.<name>`.
`celery -A strathwell beat` enqueues those tasks on the schedule of
`settings.PERIODIC_JOB_INTERVALS`; `manage.py run_periodic [NAME …]` runs the very same
functions once in process, and `manage.py run_periodic --loop` is the small scheduler `make run`
uses when there is no broker.

A job must be safe to run twice, and on two machines at once: it selects candidates without
locks, then re-checks each one under the row locks of the project's lock order (or skips rows
another run holds, `SKIP LOCKED`) and moves it through the model's own transition, so a row moves
once whoever gets there first. `backlog(now)` (optional) answers "how many rows are due and not
yet processed, and since when": `/ops/health` reports the oldest, which grows when no worker or
scheduler is running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger("strathwell.jobs")

Backlog = Callable[[datetime], tuple[int, datetime | None]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[], int]
    backlog: Backlog | None
    description: str

    @property
    def interval_seconds(self) -> int | None:
        return settings.PERIODIC_JOB_INTERVALS.get(self.name)


@dataclass(frozen=True)
class JobRun:
    name: str
    processed: int
    seconds: float


_JOBS: dict[str, PeriodicJob] = {}


def periodic_job(name: str, *, backlog: Backlog | None = None):
    """Declare a periodic job (see the module docstring). The function takes no argument and
    returns how many rows it moved."""

    def register(func: Callable[[], int]) -> Callable[[], int]:
        doc = (func.__doc__ or "").strip().splitlines()
        _JOBS[name] = PeriodicJob(
            name=name, run=func, backlog=backlog, description=doc[0] if doc else ""
        )

        @shared_task(name=f"periodic.{name}", ignore_result=True)
        def task() -> int:
            return run_job(name).processed

        task.__doc__ = func.__doc__
        func.task = task
        return func

    return register


def load_jobs() -> dict[str, PeriodicJob]:
    """Every declared job, by name (imports each installed app's `tasks` module once)."""
    autodiscover_modules("tasks")
    return dict(sorted(_JOBS.items()))


def run_job(name: str) -> JobRun:
    """Run one job once, in this process. Raises KeyError for an unknown name."""
    job = load_jobs()[name]
    started = time.perf_counter()
    processed = job.run()
    run = JobRun(name=name, processed=int(processed or 0), seconds=time.perf_counter() - started)
    logger.info("periodic job %s: %d processed in %.3f s", name, run.processed, run.seconds)
    return run
