"""Settings load from the environment; APP_ENV=prod refuses unsafe values at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAFE_PROD = {
    "APP_ENV": "prod",
    "DEBUG": "false",
    "JWT_SECRET": "j" * 16 + "K9#mQ2$vL7@pX4!w",
    "DJANGO_SECRET_KEY": "d" * 20 + "Zq8!Lm3@Xw7#Rt5$Yp2%Nc6^Vb1&Hs4*Gf9(Jk0)",
    "CORS_ORIGINS": "https://app.strathwell.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/strathwell",
    "ALLOWED_HOSTS": "api.strathwell.com",
}


def run_django(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SAFE_PROD and not k.startswith(("DJANGO_", "PYTEST"))
    }
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "strathwell.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"JWT_SECRET": ""}, "JWT_SECRET"),
        ({"JWT_SECRET": "dev-insecure-jwt-secret-change-me"}, "JWT_SECRET"),
        ({"JWT_SECRET": "short-secret"}, "JWT_SECRET"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"CORS_ORIGINS": "https://app.strathwell.com,*"}, "CORS_ORIGINS"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        # Demo seeding creates a superuser whose password is printed in the README.
        ({"ENABLE_DEMO_OPS": "true"}, "ENABLE_DEMO_OPS"),
    ],
)
def test_prod_refuses_unsafe_value(override, variable):
    result = run_django({**SAFE_PROD, **override}, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_prod_with_safe_values_passes_check_deploy():
    result = run_django(SAFE_PROD, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_postgres_url_uses_psycopg_pool_and_sqlite_is_the_default():
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "db = settings.DATABASES['default']; "
        "print(json.dumps([db['ENGINE'], db.get('OPTIONS', {}).get('pool')]))"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_POOL", "APP_ENV")
    }
    env["DJANGO_SETTINGS_MODULE"] = "strathwell.settings"
    pg = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"django.db.backends.postgresql"' in pg.stdout
    assert '"max_size": 10' in pg.stdout
    lite = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert '"django.db.backends.sqlite3", null' in lite.stdout


def test_env_example_documents_every_variable():
    text = (ROOT / ".env.example").read_text()
    documented = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line}
    base = (ROOT / "strathwell" / "settings" / "base.py").read_text()
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', base))
    assert read, "no env reads found"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"


def test_an_empty_variable_means_the_default():
    # `.env.example` lists every variable, many of them empty: copied to `.env` (or exported
    # empty) they must keep the defaults, not become "" (an empty MEDIA_ROOT put uploads in the
    # repository's root).
    probe = (
        "from django.conf import settings; "
        "print(settings.MEDIA_ROOT); print(settings.ALLOWED_HOSTS); print(settings.DEBUG)"
    )
    result = run_django(
        {"APP_ENV": "local", "MEDIA_ROOT": "", "ALLOWED_HOSTS": "", "DEBUG": ""},
        "shell",
        "-c",
        probe,
    )
    assert result.returncode == 0, result.stderr
    media_root, hosts, debug = result.stdout.strip().splitlines()[-3:]
    assert media_root == str(ROOT / "media")
    assert hosts == "['127.0.0.1', 'localhost']"
    assert debug == "False"


def test_env_example_copied_as_is_keeps_every_default():
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    assert values["MEDIA_ROOT"] == ""  # the case that bit: an empty line in the example
    values.pop("DATABASE_URL", None)  # the probe needs no database; keep the caller's
    probe = "from django.conf import settings; print(settings.MEDIA_ROOT)"
    result = run_django(values, "shell", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(ROOT / "media")


def test_make_run_allows_cors_preflight_from_local_frontends():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from run_local import local_env
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    env = local_env({k: v for k, v in os.environ.items() if k != "CORS_ORIGINS"})
    probe = (
        "import django; django.setup(); from django.test import Client; "
        "c = Client(HTTP_HOST='127.0.0.1:8000'); "
        "r = c.options('/api/v1/health', HTTP_ORIGIN='{origin}', "
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD='GET', "
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS='authorization'); "
        "print(r.status_code, r.headers.get('access-control-allow-origin'))"
    )
    for origin, allowed in (
        ("http://localhost:3000", True),
        ("http://127.0.0.1:5173", True),
        ("https://evil.example", False),
    ):
        keep = {k: env[k] for k in ("CORS_ORIGINS", "DEBUG", "APP_ENV")}
        result = run_django(keep, "shell", "-c", probe.format(origin=origin))
        assert result.returncode == 0, result.stderr
        status, header = result.stdout.strip().splitlines()[-1].split(" ", 1)
        assert status == "200"
        assert (header == origin) is allowed, (origin, header)


def test_docs_api_md_is_the_team_contract():
    # docs/api.md ships the contract with the repository (a link to ../shared/ is dead in a
    # clone); where the team's copy is beside the checkout, the two must be the same.
    shared = ROOT.parent / "shared" / "API.md"
    if not shared.exists():
        pytest.skip("the team's shared/API.md is not beside this checkout")
    assert (ROOT / "docs" / "api.md").read_text() == shared.read_text()
