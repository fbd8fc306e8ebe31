"""Run the periodic jobs in this process: the same functions `celery beat` schedules.

manage.py run_periodic                              # every job once
manage.py run_periodic start_events complete_events # these jobs once
manage.py run_periodic --list                       # the jobs, their schedule and backlog
manage.py run_periodic --loop [--tick 5]            # a small scheduler (`make run` without Redis)
"""

from __future__ import annotations

import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from strathwell.jobs.periodic import load_jobs, run_job


class Command(BaseCommand):
    help = "Run periodic jobs once (all, or those named), or keep running them on schedule."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Job names (default: every job).")
        parser.add_argument(
            "--list", dest="list_jobs", action="store_true", help="List the jobs and exit."
        )
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running each job every PERIODIC_JOB_INTERVALS seconds until stopped "
            "(the in-process scheduler of `make run` when REDIS_URL is unset).",
        )
        parser.add_argument(
            "--tick", type=float, default=5.0, help="With --loop: seconds between checks."
        )

    def handle(self, *args, names=(), list_jobs=False, loop=False, tick=5.0, **options):
        jobs = load_jobs()
        unknown = [name for name in names if name not in jobs]
        if unknown:
            raise CommandError(f"Unknown job(s): {', '.join(unknown)}. Jobs: {', '.join(jobs)}.")
        selected = list(names) or list(jobs)
        if list_jobs:
            self._list(jobs, selected)
            return
        if loop:
            self._loop(jobs, selected, tick=tick)
            return
        failed = [name for name in selected if not self._run(name)]
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")

    def _run(self, name: str) -> bool:
        try:
            run = run_job(name)
        except Exception as exc:  # report it and carry on with the other jobs
            self.stderr.write(f"{name}: failed: {type(exc).__name__}: {exc}")
            return False
        self.stdout.write(f"{name}: {run.processed} processed ({run.seconds:.2f} s)")
        return True

    def _list(self, jobs, selected) -> None:
        now = timezone.now()
        for name in selected:
            job = jobs[name]
            line = f"{name:<24} every {job.interval_seconds or '-'} s  {job.description}"
            if job.backlog is not None:
                due, oldest = job.backlog(now)
                lag = f", oldest due {int((now - oldest).total_seconds())} s ago" if oldest else ""
                line += f"  [{due} due{lag}]"
            self.stdout.write(line)

    def _loop(self, jobs, selected, *, tick: float) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        next_run = dict.fromkeys(selected, 0.0)  # every job runs once at start
        self.stdout.write(f"Running {len(selected)} periodic job(s) on schedule; Ctrl-C stops.")
        while not stop.is_set():
            for name in selected:
                if stop.is_set() or time.monotonic() < next_run[name]:
                    continue
                # A long-lived process: drop a connection the database closed meanwhile.
                close_old_connections()
                self._run(name)
                next_run[name] = time.monotonic() + (jobs[name].interval_seconds or 60)
            stop.wait(tick)
