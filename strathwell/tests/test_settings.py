"""Settings load from the environment; every APP_ENV except local and test refuses unsafe
values at start-up, and an unknown APP_ENV is refused outright.

Each case starts Django in a subprocess with exactly the environment it names (nothing leaks
in from the test run), so what is checked is what a deploy would see."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_JWT = "dev-insecure-jwt-secret-change-me"
# What a guarded deploy needs (staging); prod needs PROD on top.
SAFE_GUARDED = {
    "DEBUG": "false",
    "JWT_SECRET": "j" * 16 + "K9#mQ2$vL7@pX4!w",
    "DJANGO_SECRET_KEY": "d" * 20 + "Zq8!Lm3@Xw7#Rt5$Yp2%Nc6^Vb1&Hs4*Gf9(Jk0)",
    "CORS_ORIGINS": "https://app.strathwell.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/strathwell",
    "ALLOWED_HOSTS": "api.strathwell.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.strathwell.com:587",
}
SAFE_STAGING = {**SAFE_GUARDED, "APP_ENV": "staging"}
SAFE_PROD = {
    **SAFE_GUARDED,
    "APP_ENV": "prod",
    "STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "y" * 32,
    "CACHE_URL": "redis://127.0.0.1:6379/0",
}
# Every variable the cases set, removed from the inherited environment first.
CONTROLLED = {
    *SAFE_PROD,
    "JWT_PREVIOUS_SECRET",
    "ADMIN_BOOTSTRAP_TOKEN",
    "ENABLE_DEMO_OPS",
    "STAFF_OTP_REQUIRED",
    "STRIPE_API_BASE",
    "DATABASE_POOL",
}
PRINT_SETTINGS = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: getattr(settings, k, None) for k in ["
    "'APP_ENV', 'SECRET_KEY', 'JWT_SECRET', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_SECURE', "
    "'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'STAFF_OTP_REQUIRED']}))"
)


def clean_env(overrides: dict) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in CONTROLLED and not k.startswith(("DJANGO_", "PYTEST"))
    }
    env.update(overrides)
    env["DJANGO_SETTINGS_MODULE"] = "strathwell.settings"
    return env


def run_django(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env(env_overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def loaded_settings(env_overrides: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=clean_env(env_overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


# --- APP_ENV itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["production", "Production", "dev", "development", "prd", "qa"])
def test_unknown_app_env_is_refused(value):
    line = refusal(run_django({**SAFE_PROD, "APP_ENV": value}, "check"))
    assert "APP_ENV" in line and "not known" in line


def test_app_env_is_case_and_space_insensitive():
    # "PROD " is prod, with every guard, not an unknown value that slips through.
    line = refusal(run_django({**SAFE_PROD, "APP_ENV": " PROD ", "JWT_SECRET": DEV_JWT}, "check"))
    assert "JWT_SECRET" in line


# --- local and test: development defaults, but never SECRET_KEY = JWT_SECRET ----------------


@pytest.mark.parametrize("app_env", ["local", "test", None])
def test_development_environments_start_with_development_defaults(app_env):
    env = {"DATABASE_URL": ""} if app_env is None else {"APP_ENV": app_env, "DATABASE_URL": ""}
    loaded = loaded_settings(env)
    assert loaded["APP_ENV"] == (app_env or "local")  # the default is local
    assert loaded["JWT_SECRET"] == DEV_JWT
    assert loaded["SECRET_KEY"].startswith("django-insecure-")
    assert loaded["SECRET_KEY"] != loaded["JWT_SECRET"]
    assert not loaded["SECURE_HSTS_SECONDS"]


def test_secret_key_no_longer_falls_back_to_jwt_secret():
    loaded = loaded_settings({"APP_ENV": "local", "JWT_SECRET": "z" * 40, "DATABASE_URL": ""})
    assert loaded["SECRET_KEY"] != "z" * 40
    # A guarded environment with only JWT_SECRET set is refused, naming DJANGO_SECRET_KEY.
    line = refusal(run_django({**SAFE_STAGING, "DJANGO_SECRET_KEY": ""}, "check"))
    assert "DJANGO_SECRET_KEY" in line


# --- staging and prod: the shared guards ------------------------------------------------------

GUARDS = [
    ({"JWT_SECRET": ""}, "JWT_SECRET"),
    ({"JWT_SECRET": DEV_JWT}, "JWT_SECRET"),
    ({"JWT_SECRET": "short-secret"}, "JWT_SECRET"),
    ({"JWT_PREVIOUS_SECRET": DEV_JWT}, "JWT_PREVIOUS_SECRET"),
    ({"JWT_PREVIOUS_SECRET": "short"}, "JWT_PREVIOUS_SECRET"),
    ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
    ({"DJANGO_SECRET_KEY": "j" * 16 + "K9#mQ2$vL7@pX4!w"}, "DJANGO_SECRET_KEY"),  # = JWT_SECRET
    ({"DEBUG": "true"}, "DEBUG"),
    ({"CORS_ORIGINS": "https://app.strathwell.com,*"}, "CORS_ORIGINS"),
    ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    ({"ADMIN_BOOTSTRAP_TOKEN": "short-token"}, "ADMIN_BOOTSTRAP_TOKEN"),
]


@pytest.mark.parametrize(("override", "variable"), GUARDS)
@pytest.mark.parametrize("base", [SAFE_STAGING, SAFE_PROD], ids=["staging", "prod"])
def test_guarded_environments_refuse_unsafe_value(base, override, variable):
    line = refusal(run_django({**base, **override}, "check"))
    assert variable in line


PROD_ONLY = [
    ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY"),
    ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET"),
    ({"STRIPE_API_BASE": "http://127.0.0.1:8420"}, "STRIPE_API_BASE"),
    ({"DATABASE_URL": "sqlite:////tmp/strathwell-prod.sqlite3"}, "DATABASE_URL"),
    ({"CACHE_URL": "locmemcache://x"}, "CACHE_URL"),
    ({"STAFF_OTP_REQUIRED": "false"}, "STAFF_OTP_REQUIRED"),
    # Demo seeding creates a superuser whose password is printed in the README.
    ({"ENABLE_DEMO_OPS": "true"}, "ENABLE_DEMO_OPS"),
    # The manual subscription provider activates subscriptions for free.
    ({"SUBSCRIPTION_PROVIDER": "manual"}, "SUBSCRIPTION_PROVIDER"),
    # Without a broker nothing runs outside requests; without email nobody is told anything.
    ({"REDIS_URL": ""}, "REDIS_URL"),
    ({"EMAIL_URL": ""}, "EMAIL_URL"),
]


@pytest.mark.parametrize(("override", "variable"), PROD_ONLY)
def test_prod_also_refuses(override, variable):
    line = refusal(run_django({**SAFE_PROD, **override}, "check"))
    assert variable in line


def test_staging_may_use_test_keys_and_demo_data():
    result = run_django({**SAFE_STAGING, "ENABLE_DEMO_OPS": "true"}, "check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("base", [SAFE_STAGING, SAFE_PROD], ids=["staging", "prod"])
def test_guarded_environments_switch_on_https_hardening(base):
    loaded = loaded_settings(base)
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["SECURE_SSL_REDIRECT"]
    assert loaded["STAFF_OTP_REQUIRED"] is True


def test_prod_with_safe_values_passes_check_deploy():
    result = run_django(SAFE_PROD, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- other settings -----------------------------------------------------------------------------


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
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', base))
    assert read, "no env reads found"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"


def _settings_of(env_overrides: dict, expression: str) -> str:
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        f"print(json.dumps({expression}, default=str))"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "EMAIL_URL", "APP_ENV") and not k.startswith("DJANGO_")
    }
    env |= {"DJANGO_SETTINGS_MODULE": "strathwell.settings", **env_overrides}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_without_redis_tasks_run_in_process_and_the_cache_is_local():
    out = _settings_of(
        {},
        "[settings.CACHES['default']['BACKEND'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.EMAIL_BACKEND]",
    )
    assert "locmem.LocMemCache" in out and "true" in out
    assert "console.EmailBackend" in out


def test_redis_url_makes_the_cache_shared_and_tasks_go_to_the_broker():
    out = _settings_of(
        {
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "EMAIL_URL": "smtp://mail.example.com:2525",
            "PERIODIC_JOB_INTERVALS": "start_events=30",
        },
        "[settings.CACHES['default'], settings.CELERY_BROKER_URL, "
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND, settings.EMAIL_HOST, "
        "settings.EMAIL_PORT, settings.CELERY_BEAT_SCHEDULE['start_events']]",
    )
    assert "django.core.cache.backends.redis.RedisCache" in out
    assert out.count("redis://127.0.0.1:6379/3") == 2 and "false" in out
    assert "smtp.EmailBackend" in out and "mail.example.com" in out and "2525" in out
    assert '{"task": "periodic.start_events", "schedule": 30.0}' in out


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
