"""GET /ops/health: the details operators need, and `degraded` when a check fails."""

import uuid

import pytest

from backoffice import services

pytestmark = pytest.mark.django_db

URL = "/api/v1/ops/health"


def test_health_report_when_everything_is_fine(admin_client_api, settings):
    settings.READ_ONLY_MODE = False
    response = admin_client_api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert isinstance(body["database"]["latency_ms"], int | float)
    assert body["database"]["latency_ms"] >= 0
    assert body["migrations"] == {"ok": True, "unapplied": []}
    assert body["storage"]["ok"] is True and body["storage"]["provider"] == "local"
    assert body["stripe"]["configured"] is True and body["stripe"]["mode"] == "test"
    assert body["stripe"]["api_base"].startswith("http")
    assert "sk_test" not in str(body)  # never the key itself
    assert body["read_only_mode"] is False
    assert body["version"]


def test_version_prefers_the_configured_one(admin_client_api, settings):
    settings.VERSION = "2026.11.3"
    assert admin_client_api.get(URL).json()["version"] == "2026.11.3"


def test_version_falls_back_to_git_or_the_package(settings):
    settings.VERSION = ""
    services._detected_version.cache_clear()
    version = services.app_version()
    assert version and version != "unknown"


def test_missing_stripe_key_degrades(admin_client_api, settings):
    settings.STRIPE_SECRET_KEY = ""
    body = admin_client_api.get(URL).json()
    assert body["status"] == "degraded"
    assert body["stripe"]["configured"] is False and body["stripe"]["mode"] is None


def test_unwritable_media_root_degrades(admin_client_api, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = str(blocker / "media")
    body = admin_client_api.get(URL).json()
    assert body["status"] == "degraded"
    assert body["storage"]["ok"] is False and "not writable" in body["storage"]["detail"]


def test_unreachable_s3_degrades_quickly(admin_client_api, settings):
    settings.STORAGE_PROVIDER = "s3"
    settings.S3_BUCKET = "strathwell-missing"
    settings.S3_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: connection refused
    settings.S3_ACCESS_KEY_ID = settings.S3_SECRET_ACCESS_KEY = "test"
    body = admin_client_api.get(URL).json()
    assert body["status"] == "degraded"
    assert body["storage"]["ok"] is False and body["storage"]["provider"] == "s3"
    assert "unreachable" in body["storage"]["detail"]


@pytest.mark.e2e
def test_reachable_s3_bucket_is_ok(admin_client_api, settings, moto_s3_server):
    import boto3

    bucket = f"strathwell-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=moto_s3_server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    settings.STORAGE_PROVIDER = "s3"
    settings.S3_BUCKET = bucket
    settings.S3_ENDPOINT_URL = moto_s3_server.url
    settings.S3_REGION = "us-east-1"
    settings.S3_ACCESS_KEY_ID = settings.S3_SECRET_ACCESS_KEY = "test"
    body = admin_client_api.get(URL).json()
    assert body["storage"]["ok"] is True, body["storage"]
    assert body["status"] == "ok"


def test_unapplied_migrations_are_listed(admin_client_api, monkeypatch):
    class FakeMigration:
        app_label, name = "disputes", "0099_future"

    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [(FakeMigration(), False)],
    )
    body = admin_client_api.get(URL).json()
    assert body["migrations"] == {"ok": False, "unapplied": ["disputes.0099_future"]}
    assert body["status"] == "degraded"


def test_read_only_mode_is_reported_and_health_still_answers(admin_client_api, settings):
    settings.READ_ONLY_MODE = True
    response = admin_client_api.get(URL)
    assert response.status_code == 200 and response.json()["read_only_mode"] is True


def test_ops_health_is_admin_only(organizer_client, api_client):
    assert organizer_client.get(URL).status_code == 403
    assert api_client.get(URL).status_code == 401


# --- the work outside requests ---------------------------------------------------------------


def test_health_reports_the_eager_mode_without_a_broker(admin_client_api):
    body = admin_client_api.get(URL).json()
    assert body["broker"]["ok"] is True and body["broker"]["mode"] == "eager"
    assert body["jobs"]["ok"] is True and body["jobs"]["oldest_due_seconds"] == 0
    assert set(body["jobs"]["backlog"]) >= {
        "expire_vendor_requests",
        "expire_unpaid_bookings",
        "start_events",
        "complete_events",
        "retry_webhook_events",
        "deliver_outbox",
    }


def test_health_pings_the_broker(admin_client_api, settings, redis_namespace):
    settings.REDIS_URL = redis_namespace.url
    broker = admin_client_api.get(URL).json()["broker"]
    assert broker["ok"] is True and broker["mode"] == "celery"
    assert broker["url"].startswith("redis://127.0.0.1:6379")


def test_unreachable_broker_degrades(admin_client_api, settings):
    settings.REDIS_URL = "redis://:s3cret@127.0.0.1:1/0"
    body = admin_client_api.get(URL).json()
    assert body["status"] == "degraded" and body["broker"]["ok"] is False
    assert "s3cret" not in str(body)


def test_work_waiting_too_long_degrades(admin_client_api, settings):
    import datetime

    from django.utils import timezone

    from strathwell.jobs.models import OutboxMessage

    settings.JOBS_MAX_LAG_SECONDS = 600
    OutboxMessage.objects.create(
        topic="test.noop",
        dedupe_key="lagging",
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=20),
    )
    body = admin_client_api.get(URL).json()
    assert body["status"] == "degraded" and body["jobs"]["ok"] is False
    assert body["jobs"]["backlog"]["deliver_outbox"]["due"] == 1
    assert 1190 < body["jobs"]["oldest_due_seconds"] < 1300
