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
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.strathwell.com:587",
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
        # Without a broker nothing runs outside requests and throttles are per process.
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"EMAIL_URL": ""}, "EMAIL_URL"),
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
