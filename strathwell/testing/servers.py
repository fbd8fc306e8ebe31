"""Start real local servers (localstripe, moto S3, a webhook receiver) for tests.

Everything here is import-light on purpose: no Django, no stripe, no boto3 at import time, so
the module can be used from any pytest run (with or without pytest-django).

Servers run as subprocesses of the *current* interpreter (``sys.executable``), so they always
come from the same virtualenv as the tests. Each one:

* listens on a free loopback port (``127.0.0.1`` only; never on all interfaces);
* writes stdout+stderr to a log file (never to a pipe nobody reads, which would eventually
  block the server once the pipe buffer fills);
* is "ready" only when its own "Running on" banner is in the log *and* it answers an HTTP probe
  (so a foreign process that happens to own the port can never pass for it);
* is stopped with SIGTERM, then SIGKILL after a grace period; leaked servers are stopped at
  interpreter exit.

If a server fails to start, :class:`ServerStartError` is raised with the command line, exit
code and the tail of the server's output.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
DEFAULT_START_TIMEOUT = 30.0
DEFAULT_STOP_TIMEOUT = 5.0
_PORT_RETRIES = 3
_ADDR_IN_USE_MARKERS = ("address already in use", "errno 98", "errno 48", "eaddrinuse")

# Dummy credentials for moto: they only have to *look* valid.
MOTO_REGION = "us-east-1"
MOTO_ACCESS_KEY_ID = "testing"
MOTO_SECRET_ACCESS_KEY = "testing"  # not a secret: moto accepts anything

# A syntactically valid test key: localstripe accepts any ``sk_`` key longer than 5 chars.
LOCALSTRIPE_API_KEY = "sk_test_strathwell"

# localstripe 1.15.10 hard-codes /tmp/localstripe.pickle: it rewrites the *whole* store to that
# one file after every write and reloads it at start-up unless --from-scratch is given. That
# file is shared by every localstripe on the machine (parallel xdist workers, other users on a
# CI runner: a root-owned file makes every POST fail with a 500 PermissionError), and
# `python -m localstripe` binds to "::" (every interface, and only if IPv6 is available).
# This bootstrap serves the very same aiohttp app, but in memory only and on loopback only.
_LOCALSTRIPE_BOOTSTRAP = """\
import logging, sys
from aiohttp import web
import localstripe.resources as resources
resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None
from localstripe.server import app
logger = logging.getLogger("aiohttp.access")
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.StreamHandler())
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), access_log=logger)
"""

# Strong references: a server nobody stopped (or referenced) is still stopped at exit.
_running: set[RunningServer] = set()


class ServerStartError(RuntimeError):
    """A test server did not come up (its output tail is in the message)."""


def free_port(host: str = LOOPBACK) -> int:
    """Return a port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    # Loopback probes must never go through an HTTP(S)_PROXY from the environment.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_probe(url: str, *, headers: dict[str, str] | None = None, timeout: float = 2.0) -> int:
    """GET ``url`` (no proxy) and return the HTTP status (4xx/5xx included).

    Raises OSError if nothing answers, http.client.HTTPException if it is not HTTP.
    """
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _no_proxy_opener().open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:  # an HTTP error still means "something answers"
        return exc.code


class RunningServer:
    """A server subprocess listening on ``http://127.0.0.1:<port>``.

    Use as a context manager, or call :meth:`stop` (idempotent).
    """

    def __init__(
        self,
        name: str,
        process: subprocess.Popen[bytes],
        *,
        host: str,
        port: int,
        command: Sequence[str],
        log_path: Path,
        log_dir: Path,
        keep_log_dir: bool,
    ) -> None:
        self.name = name
        self.process = process
        self.host = host
        self.port = port
        self.command = list(command)
        self.log_path = log_path
        self._log_dir = log_dir
        self._keep_log_dir = keep_log_dir
        self._stopped = False
        _running.add(self)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the server wrote to stdout/stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def output_tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> int | None:
        """Terminate (SIGTERM), then kill (SIGKILL) after ``timeout`` seconds.

        Returns the exit code (None if the process could not be reaped). Idempotent.
        """
        if self._stopped:
            return self.process.returncode
        self._stopped = True
        _running.discard(self)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=timeout)
        if not self._keep_log_dir:
            shutil.rmtree(self._log_dir, ignore_errors=True)
        return self.process.returncode

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited({self.process.returncode})"
        return f"<RunningServer {self.name} {self.url} pid={self.pid} {state}>"


@atexit.register
def _stop_leaked_servers() -> None:
    for server in list(_running):
        server.stop(timeout=2.0)


@dataclass
class ServerSpec:
    """How to run one kind of server. ``command(host, port)`` builds the argv."""

    name: str
    command: Callable[[str, int], list[str]]
    probe_path: str = "/"
    probe_headers: dict[str, str] = field(default_factory=dict)
    ready_marker: str | None = "Running on"
    env: Callable[[str, int], dict[str, str]] | None = None


def start_server(
    spec: ServerSpec,
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    timeout: float = DEFAULT_START_TIMEOUT,
    log_dir: str | os.PathLike[str] | None = None,
) -> RunningServer:
    """Start ``spec`` on a free port (or ``port``) and wait until it is ready.

    Retries on a fresh port if the port was grabbed by someone else in the meantime
    (only when ``port`` is not given). Raises :class:`ServerStartError` on failure.
    """
    attempts = 1 if port is not None else _PORT_RETRIES
    last_error: ServerStartError | None = None
    for _attempt in range(attempts):
        chosen = port if port is not None else free_port(host)
        try:
            return _start_once(spec, host=host, port=chosen, timeout=timeout, log_dir=log_dir)
        except _AddressInUse as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


class _AddressInUse(ServerStartError):
    pass


def _display_command(command: Sequence[str]) -> str:
    """The argv as a shell line, with inline ``-c`` scripts shortened."""
    shown = [
        "<script>" if index and command[index - 1] == "-c" and "\n" in arg else arg
        for index, arg in enumerate(command)
    ]
    return shlex.join(shown)


def _start_once(
    spec: ServerSpec,
    *,
    host: str,
    port: int,
    timeout: float,
    log_dir: str | os.PathLike[str] | None,
) -> RunningServer:
    keep_log_dir = log_dir is not None
    if log_dir is None:
        directory = Path(tempfile.mkdtemp(prefix=f"strathwell-{spec.name}-"))
    else:
        directory = Path(log_dir)
        directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / f"{spec.name}-{port}.log"
    command = spec.command(host, port)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(spec.env(host, port) if spec.env else {})}

    with open(log_path, "wb") as log_file:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=directory,
                start_new_session=True,  # a Ctrl-C on the test run must not hit it directly
            )
        except OSError as exc:
            if not keep_log_dir:
                shutil.rmtree(directory, ignore_errors=True)
            raise ServerStartError(f"{spec.name}: cannot execute {command!r}: {exc}") from exc

    server = RunningServer(
        spec.name,
        process,
        host=host,
        port=port,
        command=command,
        log_path=log_path,
        log_dir=directory,
        keep_log_dir=keep_log_dir,
    )
    probe_url = server.url + spec.probe_path
    deadline = time.monotonic() + timeout
    delay = 0.05
    last_probe_error = "no probe attempted"
    while True:
        if not server.is_running():
            output = server.output_tail()
            code = process.returncode
            server.stop()
            message = (
                f"{spec.name} exited with code {code} before it was ready.\n"
                f"command: {_display_command(command)}\n--- output tail ---\n{output}"
            )
            if any(marker in output.lower() for marker in _ADDR_IN_USE_MARKERS):
                raise _AddressInUse(message)
            raise ServerStartError(message)
        marker_seen = spec.ready_marker is None or spec.ready_marker in server.output()
        if marker_seen:
            try:
                http_probe(probe_url, headers=spec.probe_headers, timeout=2.0)
            except (OSError, http.client.HTTPException) as exc:
                last_probe_error = f"{type(exc).__name__}: {exc}"
            else:
                if server.is_running():
                    return server
        else:
            last_probe_error = f"waiting for {spec.ready_marker!r} in the output"
        if time.monotonic() >= deadline:
            output = server.output_tail()
            server.stop()
            raise ServerStartError(
                f"{spec.name} did not become ready on {server.url} within {timeout:.0f}s "
                f"(last probe of {probe_url}: {last_probe_error}).\n"
                f"command: {_display_command(command)}\n--- output tail ---\n{output}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


# --- localstripe ------------------------------------------------------------------------------


def localstripe_spec(*, isolated: bool = True) -> ServerSpec:
    """localstripe (a fake Stripe API on aiohttp).

    ``isolated=True`` (default): in-memory store, loopback-only socket (see the bootstrap note
    above). ``isolated=False``: the stock ``python -m localstripe --port N --from-scratch``
    (binds ``[::]``, still rewrites /tmp/localstripe.pickle after every write).
    """
    if isolated:

        def command(host: str, port: int) -> list[str]:
            return [sys.executable, "-c", _LOCALSTRIPE_BOOTSTRAP, host, str(port)]

    else:

        def command(host: str, port: int) -> list[str]:
            return [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"]

    return ServerSpec(
        name="localstripe",
        command=command,
        probe_path="/v1/customers?limit=1",
        probe_headers={"Authorization": f"Bearer {LOCALSTRIPE_API_KEY}"},
        ready_marker="Running on",
    )


def start_localstripe(
    *, timeout: float = DEFAULT_START_TIMEOUT, isolated: bool = True, **kwargs: Any
) -> RunningServer:
    """Start localstripe on a free loopback port; ``.url`` is the Stripe ``api_base``."""
    return start_server(localstripe_spec(isolated=isolated), timeout=timeout, **kwargs)


def _post_json(url: str, payload: dict[str, Any], *, method: str = "POST") -> int:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with _no_proxy_opener().open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise RuntimeError(f"{method} {url} -> HTTP {exc.code}: {detail}") from exc


def register_localstripe_webhook(
    server: RunningServer | str,
    url: str,
    secret: str,
    *,
    webhook_id: str = "strathwell",
    events: Iterable[str] | None = None,
) -> None:
    """Make localstripe POST signed events to ``url`` (``POST /_config/webhooks/<id>``).

    ``events=None`` means every event type. Registering the same ``webhook_id`` again replaces
    the previous registration; localstripe has no way to delete one (see
    :func:`disable_localstripe_webhook`). Registrations live as long as the server process.
    """
    base = server.url if isinstance(server, RunningServer) else server.rstrip("/")
    payload: dict[str, Any] = {"url": url, "secret": secret}
    if events is not None:
        payload["events"] = list(events)
    _post_json(f"{base}/_config/webhooks/{webhook_id}", payload)


def disable_localstripe_webhook(
    server: RunningServer | str, *, webhook_id: str = "strathwell"
) -> None:
    """Neutralise a registration: an empty ``events`` list matches no event."""
    base = server.url if isinstance(server, RunningServer) else server.rstrip("/")
    payload = {"url": "http://127.0.0.1:9/", "secret": "whsec_disabled", "events": []}
    _post_json(f"{base}/_config/webhooks/{webhook_id}", payload)


def reset_localstripe(server: RunningServer | str) -> None:
    """Delete every stored object (``DELETE /_config/data``); webhooks stay registered."""
    base = server.url if isinstance(server, RunningServer) else server.rstrip("/")
    request = urllib.request.Request(f"{base}/_config/data", method="DELETE")
    with _no_proxy_opener().open(request, timeout=10):
        pass


# --- moto S3 ----------------------------------------------------------------------------------


def _moto_command(host: str, port: int) -> list[str]:
    script = Path(sys.executable).parent / "moto_server"
    if script.exists():
        return [str(script), "-H", host, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]


def moto_spec() -> ServerSpec:
    return ServerSpec(
        name="moto",
        command=_moto_command,
        probe_path="/moto-api/",
        ready_marker="Running on",
        # moto only sets MOTO_PORT itself if it is unset: an inherited value would be wrong.
        env=lambda host, port: {"MOTO_PORT": str(port), "AWS_DEFAULT_REGION": MOTO_REGION},
    )


def start_moto_s3(*, timeout: float = DEFAULT_START_TIMEOUT, **kwargs: Any) -> RunningServer:
    """Start ``moto_server`` (all AWS services, S3 included) on a free loopback port."""
    return start_server(moto_spec(), timeout=timeout, **kwargs)


def moto_client_kwargs(server: RunningServer | str) -> dict[str, str]:
    """Keyword arguments for ``boto3.client("s3", **kwargs)`` against a moto server."""
    base = server.url if isinstance(server, RunningServer) else server.rstrip("/")
    return {
        "endpoint_url": base,
        "region_name": MOTO_REGION,
        "aws_access_key_id": MOTO_ACCESS_KEY_ID,
        "aws_secret_access_key": MOTO_SECRET_ACCESS_KEY,
    }


def reset_moto(server: RunningServer | str) -> None:
    """Wipe every moto backend (``POST /moto-api/reset``)."""
    base = server.url if isinstance(server, RunningServer) else server.rstrip("/")
    _post_json(f"{base}/moto-api/reset", {})


# --- webhook receiver -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time()


class WebhookReceiver:
    """A tiny threaded HTTP server on loopback that records every request it gets.

    Answers ``status`` (200 by default) to every POST/PUT. Use as a context manager.
    """

    def __init__(self, *, host: str = LOOPBACK, status: int = 200) -> None:
        self.requests: list[ReceivedRequest] = []
        self.status = status
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                item = ReceivedRequest(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=body,
                    received_at=time.time(),
                )
                with receiver._condition:
                    receiver.requests.append(item)
                    receiver._condition.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = _record  # http.server dispatches on do_<METHOD>
            do_PUT = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    def wait_for(
        self,
        predicate: Callable[[ReceivedRequest], bool] = lambda request: True,
        *,
        timeout: float = 10.0,
    ) -> ReceivedRequest:
        """Block until a recorded request matches ``predicate``; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for item in self.requests:
                    if predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(r.method, r.path, len(r.body)) for r in self.requests]
                    raise TimeoutError(
                        f"no matching request on {self.url} within {timeout}s; got {seen}"
                    )
                self._condition.wait(remaining)

    def wait_for_event(self, event_type: str, *, timeout: float = 10.0) -> ReceivedRequest:
        """Wait for a Stripe-style JSON body whose ``type`` is ``event_type``."""

        def matches(request: ReceivedRequest) -> bool:
            try:
                return json.loads(request.body).get("type") == event_type
            except (ValueError, AttributeError):
                return False

        return self.wait_for(matches, timeout=timeout)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SilentServer:
    """A loopback TCP server that accepts connections and never answers (``mode="hang"``: a
    Stripe brownout), or closes each connection at once (``mode="close"``: a retryable
    connection error). Counts the connections it accepted. Use as a context manager."""

    def __init__(self, *, mode: str = "hang", host: str = LOOPBACK) -> None:
        if mode not in ("hang", "close"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.accepted = 0
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                if self.mode == "hang":
                    self._held.append(conn)  # kept open, never read nor answered
                    continue
            conn.close()

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2)
        with self._lock:
            for conn in self._held:
                with contextlib.suppress(OSError):
                    conn.close()
            self._held.clear()
        self._sock.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
