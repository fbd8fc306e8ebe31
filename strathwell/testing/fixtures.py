"""pytest plugin: real local servers and a headless browser for tests.

Register it from the root conftest::

    pytest_plugins = ["strathwell.testing.fixtures"]

or ad hoc with ``-p strathwell.testing.fixtures``. Nothing here imports Django (nor stripe,
boto3 or selenium) at import time, so the plugin also works with ``-p no:django``.

Fixtures
--------
``localstripe_server`` (session)  RunningServer for localstripe; ``.url`` is the Stripe api_base.
``localstripe_client`` (function) ``stripe.StripeClient`` pointed at ``localstripe_server``.
``moto_s3_server`` (session)      RunningServer for moto (no bucket is created).
``webhook_receiver`` (function)   WebhookReceiver recording every POST it gets.
``chromium_driver`` (session)     Selenium Chrome driver on /usr/bin/chromium (headless).
``artifacts_dir`` (function)      ``<repo>/artifacts/<test-name>/``, created on demand.
``redis_namespace`` (session)     a unique key prefix in the tests' Redis (db 13), cleaned up.
``smtp`` (function)               a real SMTP server on loopback (aiosmtpd) recording emails.
``celery_broker`` (function)      this process enqueues to that Redis instead of eagerly.
``celery_cluster`` (function)     real Celery workers / beat on it, started on demand.

With pytest-xdist every worker gets its own servers (session scope is per worker) on its own
port; the servers share no files, so workers cannot see each other's data.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from strathwell.testing.servers import (
    LOCALSTRIPE_API_KEY,
    RunningServer,
    ServerStartError,
    WebhookReceiver,
    start_localstripe,
    start_moto_s3,
)
from strathwell.testing.workers import (
    CeleryProcess,
    RedisNamespace,
    SMTPServer,
    process_env,
    start_beat,
    start_worker,
)

if TYPE_CHECKING:
    import stripe
    from selenium.webdriver.remote.webdriver import WebDriver

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_BINARY = "/usr/bin/chromium"
CHROMEDRIVER_BINARY = "/usr/bin/chromedriver"
CHROMIUM_WINDOW_SIZE = (1400, 1000)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_LOOPBACK_NO_PROXY = ("127.0.0.1", "localhost", "::1")
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def artifacts_root() -> Path:
    """``$STRATHWELL_ARTIFACTS_DIR`` or ``<repo>/artifacts`` (git-ignored)."""
    override = os.environ.get("STRATHWELL_ARTIFACTS_DIR")
    return Path(override) if override else REPO_ROOT / "artifacts"


def artifacts_path_for(node: pytest.Item) -> Path:
    """``<artifacts root>/<test name>`` with the name made filesystem-safe (not created)."""
    safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", node.name).strip("._") or "test"
    return artifacts_root() / safe[:150]


# --- servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _loopback_no_proxy() -> Iterator[None]:
    """Keep loopback traffic (stripe/requests/boto3/selenium) away from any proxy in the env."""
    with pytest.MonkeyPatch.context() as mp:
        if any(os.environ.get(name) for name in _PROXY_VARS):
            for name in ("NO_PROXY", "no_proxy"):
                current = [h for h in os.environ.get(name, "").split(",") if h.strip()]
                missing = [h for h in _LOOPBACK_NO_PROXY if h not in current]
                mp.setenv(name, ",".join(current + missing))
        yield


def _start_or_fail(what: str, starter: Any) -> RunningServer:
    try:
        return starter()
    except ServerStartError as exc:
        pytest.fail(f"{what} could not be started for the tests:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def localstripe_server(_loopback_no_proxy: None) -> Iterator[RunningServer]:
    """A localstripe process for the whole session (in-memory store, loopback only).

    Point code at it with ``stripe.StripeClient(key, base_addresses={"api": server.url})`` or
    ``stripe.api_base = server.url``. State is shared by every test of the session (worker):
    use unique metadata/ids, or ``strathwell.testing.servers.reset_localstripe(server)``.
    """
    server = _start_or_fail("localstripe", start_localstripe)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def localstripe_client(localstripe_server: RunningServer) -> stripe.StripeClient:
    """A ``stripe.StripeClient`` talking to ``localstripe_server`` (no network retries)."""
    import stripe

    return stripe.StripeClient(
        LOCALSTRIPE_API_KEY,
        base_addresses={"api": localstripe_server.url},
        max_network_retries=0,
    )


@pytest.fixture(scope="session")
def moto_s3_server(_loopback_no_proxy: None) -> Iterator[RunningServer]:
    """A moto server for the whole session. Creates no bucket; see ``moto_client_kwargs``."""
    server = _start_or_fail("moto_server", start_moto_s3)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback HTTP server that records every POST (raw body + headers) and answers 200."""
    with WebhookReceiver() as receiver:
        yield receiver


# --- browser ----------------------------------------------------------------------------------


def _chromium_unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(
            f"{reason}. CI=true, so browser tests must run, not be skipped: install the Debian "
            "packages `chromium` and `chromium-driver` in the CI image.",
            pytrace=False,
        )
    pytest.skip(f"{reason} (install `chromium` and `chromium-driver`; this fails when CI=true)")


def require_chromium() -> None:
    """Skip (locally) or fail (CI=true) unless Chromium, chromedriver and selenium exist."""
    missing = [p for p in (CHROMIUM_BINARY, CHROMEDRIVER_BINARY) if not os.access(p, os.X_OK)]
    if missing:
        _chromium_unavailable(f"Chromium is not installed: missing {', '.join(missing)}")
    try:
        import selenium  # noqa: F401
    except ImportError as exc:
        _chromium_unavailable(f"selenium is not importable ({exc})")


@pytest.fixture(scope="session")
def chromium_driver(_loopback_no_proxy: None) -> Iterator[WebDriver]:
    """Headless Chromium via Selenium, window 1400x1000, fresh temporary profile.

    Skipped when Chromium/chromedriver are missing, except when ``CI=true`` where it fails.
    Shared by the whole session: tests should not rely on a clean cookie jar.
    """
    require_chromium()
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    profile_dir = tempfile.mkdtemp(prefix="strathwell-chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    width, height = CHROMIUM_WINDOW_SIZE
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile_dir}")
    driver_log = Path(profile_dir).with_name(Path(profile_dir).name + "-chromedriver.log")
    service = Service(CHROMEDRIVER_BINARY, log_output=str(driver_log))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as exc:
        log_tail = ""
        if driver_log.exists():
            log_tail = "\n".join(driver_log.read_text(errors="replace").splitlines()[-30:])
        shutil.rmtree(profile_dir, ignore_errors=True)
        pytest.fail(
            f"Chromium/chromedriver failed to start: {exc.msg}\n--- chromedriver log ---\n"
            f"{log_tail}",
            pytrace=False,
        )
    try:
        driver.set_window_size(width, height)
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile_dir, ignore_errors=True)
            driver_log.unlink(missing_ok=True)


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """``<repo>/artifacts/<test-name>/`` (created now); put screenshots etc. there."""
    path = artifacts_path_for(request.node)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failing test that used ``chromium_driver``: save a screenshot and the page HTML."""
    report = yield
    if report.when == "call" and report.failed:
        driver = getattr(item, "funcargs", {}).get("chromium_driver")
        if driver is not None:
            try:
                path = artifacts_path_for(item)
                path.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(path / "failure.png"))
                (path / "failure.html").write_text(driver.page_source, encoding="utf-8")
                report.sections.append(("chromium artifacts", str(path)))
            except Exception as exc:  # never mask the real failure
                report.sections.append(("chromium artifacts", f"could not save: {exc!r}"))
    return report


# --- Redis, Celery workers, SMTP ----------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_namespace() -> Iterator[RedisNamespace]:
    """A key prefix of this session in the tests' Redis (STRATHWELL_TEST_REDIS_URL, db 13 by
    default); its keys are deleted at the end. Fails when Redis does not answer."""
    namespace = RedisNamespace()
    try:
        with contextlib.closing(namespace.client()) as client:
            client.ping()
    except Exception as exc:
        pytest.fail(
            f"Redis at {namespace.url} is not reachable ({exc}); `make test` starts it "
            "(scripts/ensure_redis.sh).",
            pytrace=False,
        )
    yield namespace
    namespace.cleanup()


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on a loopback port, recording every message."""
    server = SMTPServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(smtp_server: SMTPServer) -> Iterator[SMTPServer]:
    """`smtp_server`, emptied and open for this test."""
    smtp_server.clear()
    smtp_server.release()
    yield smtp_server
    smtp_server.release()


def _reset_celery_pools(app: Any) -> None:
    """Forget every broker connection (kombu keeps them in process-wide pools)."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_broker(redis_namespace: RedisNamespace) -> Iterator[Any]:
    """This test process enqueues to the real broker (the session's Redis namespace) instead
    of running tasks eagerly; restored afterwards."""
    from strathwell.celery import app

    conf = app.conf
    saved = {
        "broker_url": conf.broker_url,
        "task_always_eager": conf.task_always_eager,
        "broker_transport_options": dict(conf.broker_transport_options or {}),
    }
    conf.update(
        broker_url=redis_namespace.url,
        task_always_eager=False,
        broker_transport_options={
            **saved["broker_transport_options"],
            "global_keyprefix": redis_namespace.broker_prefix,
        },
    )
    _reset_celery_pools(app)
    try:
        yield app
    finally:
        conf.update(saved)
        _reset_celery_pools(app)


def database_url_for_subprocesses() -> str:
    """The URL of the (test) database this process uses, for the processes tests start."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class CeleryCluster:
    """Workers and beat started on demand for one test, all stopped at its end."""

    def __init__(self, namespace: RedisNamespace, smtp: SMTPServer, log_dir: Path) -> None:
        self.namespace = namespace
        self.smtp = smtp
        self.log_dir = log_dir
        self.processes: list[CeleryProcess] = []

    def env(self, **extra: str) -> dict[str, str]:
        return process_env(
            self.namespace,
            database_url=database_url_for_subprocesses(),
            email_url=self.smtp.url,
            **extra,
        )

    def worker(self, name: str = "worker1", **extra: str) -> CeleryProcess:
        process = start_worker(self.env(**extra), name=name, log_dir=self.log_dir)
        self.processes.append(process)
        return process

    def beat(self, intervals: dict[str, int], **extra: str) -> CeleryProcess:
        """beat with these jobs' intervals (seconds); every other job hourly."""
        from django.conf import settings

        every = dict.fromkeys(settings.PERIODIC_JOB_INTERVALS, 3600) | intervals
        spec = ",".join(f"{name}={seconds}" for name, seconds in every.items())
        process = start_beat(self.env(PERIODIC_JOB_INTERVALS=spec, **extra), log_dir=self.log_dir)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.output()[-3000:]}" for p in self.processes)


@pytest.fixture
def celery_cluster(
    transactional_db: None,
    redis_namespace: RedisNamespace,
    smtp: SMTPServer,
    celery_broker: Any,
    tmp_path: Path,
) -> Iterator[CeleryCluster]:
    """Real `celery -A strathwell worker|beat` processes on Redis, the test database and the
    SMTP server (start them with `.worker()`, `.beat({...})`); this process enqueues to the
    same broker. Use with `@pytest.mark.django_db(transaction=True)`."""
    cluster = CeleryCluster(redis_namespace, smtp, tmp_path)
    try:
        yield cluster
    finally:
        cluster.stop()
