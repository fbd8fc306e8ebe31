"""The production image: no Docker engine runs here (and Debian packages no hadolint), so these
check the Dockerfile's essentials as text, and run what the image runs: gunicorn with
gunicorn.conf.py and the HEALTHCHECK script, against this checkout. `.ci/run` also builds the
image when a Docker engine is available."""

import json
import os
import re
import runpy
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from strathwell.testing.servers import ServerSpec, free_port, start_server

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines()))
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


STEPS = instructions(DOCKERFILE)


def image_env() -> dict[str, str]:
    env = {}
    for keyword, rest in STEPS:
        if keyword == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
    return env


# --- the Dockerfile ---------------------------------------------------------------------------


def test_base_image_is_a_pinned_slim_python():
    assert STEPS[0][0] == "FROM"
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", STEPS[0][1]), STEPS[0][1]


def test_image_defaults_to_production_settings():
    env = image_env()
    assert env["APP_ENV"] == "prod"
    assert env["DJANGO_SETTINGS_MODULE"] == "strathwell.settings"


def test_image_defaults_refuse_to_start_without_production_secrets():
    """With only the image's environment (no secrets, no DATABASE_URL), settings refuse to
    load: the dev JWT secret and SQLite never serve from the image."""
    env = {"PATH": os.environ["PATH"], **image_env(), "HOME": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "APP_ENV=prod" in result.stderr


def test_runs_as_a_non_root_user_that_does_not_own_the_code():
    users = [rest for keyword, rest in STEPS if keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    last_user = max(i for i, (keyword, _) in enumerate(STEPS) if keyword == "USER")
    assert all(keyword not in ("COPY", "ADD") for keyword, _ in STEPS[last_user:]), (
        "files copied after USER would be the app's"
    )
    for keyword, rest in STEPS:
        if keyword == "RUN" and "chown" in rest:
            for target in re.findall(r"chown\s+(?:-\S+\s+)*\S+\s+(\S+)", rest):
                assert not target.startswith("/app"), f"the app must not own its code: {rest}"
        if keyword in ("COPY", "ADD"):
            assert "--chown" not in rest and "--chmod" not in rest


def test_dependencies_are_installed_before_the_code_is_copied():
    order = [(keyword, rest) for keyword, rest in STEPS if keyword in ("COPY", "RUN")]
    pip = next(i for i, (k, r) in enumerate(order) if k == "RUN" and "pip install" in r)
    code = next(i for i, (k, r) in enumerate(order) if k == "COPY" and r.startswith(". "))
    # The hash-pinned lock (every transitive dependency) is what the image installs.
    assert order[pip - 1] == ("COPY", "requirements.lock .")
    assert "--require-hashes" in order[pip][1]
    assert pip < code


def test_healthcheck_probes_the_health_endpoint():
    checks = [rest for keyword, rest in STEPS if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "scripts/healthcheck.py" in checks[0]
    assert re.search(r"--timeout=\d+s", checks[0]) and re.search(r"--interval=\d+s", checks[0])
    assert "/api/v1/health" in (REPO / "scripts/healthcheck.py").read_text()


def test_gunicorn_runs_from_its_config_file():
    cmd = json.loads(next(rest for keyword, rest in STEPS if keyword == "CMD"))
    assert cmd[0] == "gunicorn"
    assert cmd[cmd.index("--config") + 1] == "gunicorn.conf.py"
    assert cmd[-1] == "strathwell.wsgi:application"


def test_dockerignore_keeps_secrets_and_local_state_out_and_the_runtime_in():
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for pattern in [".env", ".env.*", ".git", ".venv", "db.sqlite3*", "**/__pycache__"]:
        assert pattern in ignored, pattern
    for needed in ["requirements.txt", "manage.py", "gunicorn.conf.py", "strathwell", "payments"]:
        assert needed not in ignored, needed
    assert "!scripts/healthcheck.py" in ignored


def test_release_command_is_documented():
    readme = (REPO / "README.md").read_text()
    assert "python manage.py migrate --noinput" in readme
    assert "python manage.py migrate --noinput" in DOCKERFILE


# --- gunicorn.conf.py -------------------------------------------------------------------------


@pytest.fixture
def gunicorn_conf():
    from gunicorn import util

    original = util.write_error
    try:
        yield runpy.run_path(str(REPO / "gunicorn.conf.py"))
    finally:
        util.write_error = original


def test_gunicorn_recycles_workers_and_times_out_after_stripe(gunicorn_conf):
    assert gunicorn_conf["max_requests"] > 0
    assert 0 < gunicorn_conf["max_requests_jitter"] < gunicorn_conf["max_requests"]
    # A worker is only killed well after a slow Stripe call has given up (502).
    assert gunicorn_conf["timeout"] >= 2 * settings.STRIPE_CALL_BUDGET_SECONDS
    assert gunicorn_conf["graceful_timeout"] > 0
    assert gunicorn_conf["bind"] == f"0.0.0.0:{os.environ.get('PORT', 8000)}"


def test_gunicorn_refusals_are_in_the_envelope(gunicorn_conf):
    raw = gunicorn_conf["error_envelope_response"](414, "URI Too Long")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert b"Content-Type: application/json" in head
    assert json.loads(body) == {
        "error": {"code": "uri_too_long", "message": "URI Too Long.", "details": {}}
    }


# --- what the image runs, run here -----------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn_server():
    spec = ServerSpec(
        name="gunicorn",
        command=lambda host, port: [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(REPO / "gunicorn.conf.py"),
            "--chdir",
            str(REPO),
            "--bind",
            f"{host}:{port}",  # loopback only, whatever the config's bind
            "--workers",
            "1",
            "strathwell.wsgi:application",
        ],
        probe_path="/api/v1/health",
        ready_marker="Booting worker",
        env=lambda host, port: {
            "DJANGO_SETTINGS_MODULE": "strathwell.settings.test",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PORT": str(port),
        },
    )
    server = start_server(spec, timeout=60)
    try:
        yield server
    finally:
        server.stop()


def raw_request(server, request: bytes) -> tuple[int, dict]:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_served_by_gunicorn_a_request_line_over_the_limit_is_414_in_the_envelope(
    gunicorn_server,
):
    line = b"GET /api/v1/health?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
    status, body = raw_request(gunicorn_server, line)
    assert status == 414
    assert body["error"]["code"] == "uri_too_long"
    assert set(body["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "headers",
    [
        b"".join(b"X-H%d: v\r\n" % i for i in range(150)),
        b"X-Big: " + b"v" * 9000 + b"\r\n",
    ],
    ids=["too-many", "too-large"],
)
def test_served_by_gunicorn_headers_over_the_limit_are_431_in_the_envelope(
    gunicorn_server, headers
):
    request = b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n"
    status, body = raw_request(gunicorn_server, request)
    assert status == 431
    assert body["error"]["code"] == "headers_too_large"


def run_healthcheck(port: int, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/healthcheck.py")],
        env={"PATH": os.environ["PATH"], "PORT": str(port), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_healthcheck_passes_against_the_served_app(gunicorn_server):
    result = run_healthcheck(gunicorn_server.port, ALLOWED_HOSTS="localhost,127.0.0.1")
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_when_nothing_answers_or_the_host_is_refused(gunicorn_server):
    assert run_healthcheck(free_port()).returncode == 1
    refused = run_healthcheck(gunicorn_server.port, ALLOWED_HOSTS="not-served.example")
    assert refused.returncode == 1
