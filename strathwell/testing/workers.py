"""Real processes for the tests of the work outside requests: Celery workers and beat on Redis,
gunicorn servers sharing a Redis cache, and an SMTP server on loopback (aiosmtpd).

Import-light like `servers.py` (no Django, no celery, no aiosmtpd at import time). Every process
gets the test database and its own Redis key prefix (`RedisNamespace`), so parallel test runs
and other users of the same Redis never see each other's queues or counters.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from strathwell.testing.servers import LOOPBACK, RunningServer, ServerSpec, free_port, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


def redis_url_for_tests() -> str:
    """The Redis database the tests use (`STRATHWELL_TEST_REDIS_URL`, default db 13)."""
    return os.environ.get("STRATHWELL_TEST_REDIS_URL", DEFAULT_REDIS_URL)


# --- one namespace per test session in a shared Redis ------------------------------------------


@dataclass
class RedisNamespace:
    """A unique key prefix (every broker key, every cache key) in the tests' Redis database."""

    url: str = field(default_factory=redis_url_for_tests)
    name: str = field(default_factory=lambda: f"strathwell-test-{uuid.uuid4().hex[:10]}")

    @property
    def broker_prefix(self) -> str:
        return f"{self.name}:"

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def keys(self) -> list[bytes]:
        with contextlib.closing(self.client()) as client:
            return list(client.scan_iter(match=f"*{self.name}*", count=500))

    def cleanup(self) -> None:
        """Delete this namespace's keys (never FLUSHDB: the database is shared)."""
        with contextlib.closing(self.client()) as client:
            keys = list(client.scan_iter(match=f"*{self.name}*", count=500))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])


def process_env(
    namespace: RedisNamespace,
    *,
    database_url: str,
    email_url: str = "",
    **extra: str,
) -> dict[str, str]:
    """The environment of a worker/beat/server process: test settings, the test database, this
    namespace's Redis, and `extra` settings (e.g. PERIODIC_JOB_INTERVALS)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_")) and key not in ("REDIS_URL", "EMAIL_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "strathwell.settings.test",
            "STRATHWELL_TEST_SUBPROCESS": "1",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url,
            "DATABASE_POOL": "false",
            "REDIS_URL": namespace.url,
            "CELERY_KEY_PREFIX": namespace.broker_prefix,
            "CACHE_KEY_PREFIX": namespace.name,
            "EMAIL_URL": email_url,
            "EMAIL_TIMEOUT": "20",
            **extra,
        }
    )
    if not email_url:
        env.pop("EMAIL_URL")
    return env


# --- Celery processes ---------------------------------------------------------------------------


class CeleryProcess:
    """A `celery -A strathwell worker|beat` subprocess with its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.command = command
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_output(self, text: str, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}) before printing {text!r}:\n"
                    + self.output()[-4000:]
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} did not print {text!r} within {timeout}s:\n"
                    + self.output()[-4000:]
                )
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, whatever it was doing (no cleanup, no ack)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def start_worker(
    env: dict[str, str], *, name: str, log_dir: Path, timeout: float = 60.0
) -> CeleryProcess:
    """One worker process (solo pool: the task runs in the process a SIGKILL hits), ready."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "strathwell",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    worker = CeleryProcess(name, command, env, log_dir)
    worker.wait_for_output(" ready.", timeout=timeout)
    return worker


def start_beat(env: dict[str, str], *, log_dir: Path, timeout: float = 60.0) -> CeleryProcess:
    """`celery beat` with a fresh schedule file, checking the schedule every second."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "strathwell",
        "beat",
        "--loglevel=INFO",
        f"--schedule={log_dir / 'celerybeat-schedule'}",
        "--max-interval=1",
    ]
    beat = CeleryProcess("beat", command, env, log_dir)
    beat.wait_for_output("beat: Starting", timeout=timeout)
    return beat


# --- gunicorn -------------------------------------------------------------------------------


def start_gunicorn(env: dict[str, str], *, timeout: float = 60.0) -> RunningServer:
    """The app under gunicorn (one sync worker) on a free loopback port, ready."""

    def command(host: str, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "strathwell.wsgi:application",
            "--chdir",
            str(REPO_ROOT),
            "--bind",
            f"{host}:{port}",
            "--workers",
            "1",
            "--access-logfile",
            "-",
        ]

    spec = ServerSpec(
        name="gunicorn",
        command=command,
        probe_path="/api/v1/health",
        ready_marker="Booting worker",
        # start_server merges this over its own environment.
        env=lambda host, port: env,
    )
    return start_server(spec, timeout=timeout)


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedEmail:
    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def kind(self) -> str:
        return str(self.message["X-Strathwell-Notification"] or "")

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "")

    def part(self, content_type: str) -> str:
        found = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        return found.get_content() if found is not None else ""

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")

    def everything(self) -> str:
        """Subject, text and HTML: what a contact-detail check must search."""
        return "\n".join((self.subject, self.text, self.html))


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a free loopback port that records each message.

    `hold()` makes every new session wait in its RCPT command (before any message is sent)
    until `release()`: a test can catch a sender in the middle of its SMTP conversation."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[ReceivedEmail] = []
        self.held_sessions = 0
        self._open = threading.Event()
        self._open.set()
        self._condition = threading.Condition()
        self.port = free_port()
        self._controller = Controller(_Handler(self), hostname=LOOPBACK, port=self.port)
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://{LOOPBACK}:{self.port}"

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _record(self, email: ReceivedEmail) -> None:
        with self._condition:
            self.messages.append(email)
            self._condition.notify_all()

    def clear(self) -> None:
        with self._condition:
            self.messages.clear()
            self.held_sessions = 0

    def wait_for(
        self,
        count: int,
        *,
        timeout: float = 30.0,
        where: Callable[[ReceivedEmail], bool] | None = None,
    ) -> list[ReceivedEmail]:
        """Block until at least `count` (matching) messages arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [m for m in self.messages if where is None or where(m)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(found)} of {count} emails arrived within {timeout}s: "
                        f"{[(m.recipients, m.subject) for m in self.messages]}"
                    )
                self._condition.wait(remaining)

    def wait_until_held(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.held_sessions < 1:
            if time.monotonic() > deadline:
                raise TimeoutError("no SMTP session reached the held RCPT command")
            time.sleep(0.05)

    def stop(self) -> None:
        self.release()
        self._controller.stop()


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        import asyncio

        if not self.server._open.is_set():
            self.server.held_sessions += 1
            while not self.server._open.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.server._record(
            ReceivedEmail(
                mail_from=envelope.mail_from,
                recipients=tuple(envelope.rcpt_tos),
                message=message,
            )
        )
        return "250 Message accepted for delivery"


def temporary_log_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"strathwell-{prefix}-"))


def remove_log_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
