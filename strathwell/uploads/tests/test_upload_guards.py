"""Uploads cannot be abused: per-user quotas (race-safe), a tighter presign throttle, bytes checked
against the declared type, never-attached uploads swept, odd keys refused, files never served."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import OrganizerFactory
from accounts.tokens import issue_tokens
from strathwell.audit.models import AuditLog
from strathwell.testing.threads import run_together
from strathwell.uploads.models import Upload
from strathwell.uploads.services import purge_stale_uploads
from strathwell.uploads.tests.factories import PDF, UploadFactory, image_bytes
from vendors.tests.factories import VenueFactory

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG", (10, 10))


@pytest.fixture(autouse=True)
def local_storage(settings, tmp_path):
    settings.STORAGE_PROVIDER = "local"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_URL_EXPIRE_SECONDS = 600
    return tmp_path


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    return client


def presign(client, content_type="image/png", size=None, name="hall.png"):
    size = len(PNG) if size is None else size
    body = {"filename": name, "content_type": content_type, "size_bytes": size}
    return client.post("/api/v1/uploads/presign", body)


def put(url, body, content_type):
    return APIClient().generic("PUT", url, data=body, content_type=content_type)


# --- quotas --------------------------------------------------------------------------------


def test_pending_uploads_are_capped_per_user(settings):
    settings.UPLOAD_MAX_PENDING_PER_USER = 2
    user = OrganizerFactory()
    client = client_for(user)
    first, _second = presign(client).json(), presign(client).json()
    refused = presign(client)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "upload_quota_exceeded"
    assert error["details"] == {"pending": 2, "max_pending": 2}
    assert Upload.objects.filter(owner=user).count() == 2

    # Sending the bytes frees a slot; so does a URL that expired unused.
    assert put(first["upload_url"], PNG, "image/png").status_code == 201
    assert presign(client).status_code == 201
    assert presign(client).status_code == 409
    Upload.objects.filter(owner=user, status=Upload.Status.PENDING).update(
        created_at=timezone.now() - timedelta(seconds=601)
    )
    assert presign(client).status_code == 201
    # Another user has their own quota.
    assert presign(client_for(OrganizerFactory())).status_code == 201


def test_bytes_are_capped_per_user(settings):
    settings.UPLOAD_QUOTA_BYTES_PER_USER = 1000
    user = OrganizerFactory()
    client = client_for(user)
    assert presign(client, size=600).status_code == 201
    refused = presign(client, size=401)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"used_bytes": 600, "quota_bytes": 1000}
    assert presign(client, size=400).status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_presigns_never_exceed_the_quota(settings, attempt):
    """Eight presigns at once with room for three: exactly three pass. The user-row lock makes
    the count-then-insert one step (without it several see the same count)."""
    settings.UPLOAD_MAX_PENDING_PER_USER = 3
    user = OrganizerFactory()
    clients = [client_for(user) for _ in range(8)]
    outcomes = run_together(*(lambda c=c: presign(c) for c in clients))
    codes = sorted(o.status_code for o in outcomes)
    assert codes == [201] * 3 + [409] * 5, codes
    assert Upload.objects.filter(owner=user).count() == 3


def test_presign_has_its_own_tighter_throttle(settings):
    settings.THROTTLE_PRESIGN_RATE = "3/min"
    client = client_for(OrganizerFactory())
    codes = [presign(client).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    assert presign(client).json()["error"]["code"] == "throttled"
    assert presign(client_for(OrganizerFactory())).status_code == 201  # per user
    assert Upload.objects.count() == 4


# --- the bytes must be what was declared ----------------------------------------------------------

GOOD = [
    ("image/png", PNG),
    ("image/jpeg", image_bytes("JPEG")),
    ("image/webp", image_bytes("WEBP")),
    ("application/pdf", PDF),
]


@pytest.mark.parametrize(("content_type", "body"), GOOD, ids=[g[0] for g in GOOD])
def test_a_real_file_of_the_declared_type_is_accepted(content_type, body):
    client = client_for(OrganizerFactory())
    answer = presign(client, content_type=content_type, size=len(body), name="f").json()
    response = put(answer["upload_url"], body, content_type)
    assert response.status_code == 201, response.json()
    assert default_storage.exists(answer["key"])


BAD = [
    ("image/png", image_bytes("JPEG"), "its content is image/jpeg"),
    ("image/jpeg", PNG, "its content is image/png"),
    ("application/pdf", PNG, "its content is image/png"),
    ("image/png", b"<svg onload=alert(1)></svg>" + b" " * 40, "unknown type"),
    ("image/png", PNG[:30], "not a valid image/png"),  # the magic, then nothing
    ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a valid image/png"),
    ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 60, "not a valid image/webp"),
]


@pytest.mark.parametrize(("content_type", "body", "why"), BAD)
def test_bytes_that_are_not_the_declared_type_are_refused_and_not_stored(content_type, body, why):
    client = client_for(OrganizerFactory())
    answer = presign(client, content_type=content_type, size=len(body), name="f").json()
    response = put(answer["upload_url"], body, content_type)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and why in error["details"]["body"][0]
    assert not default_storage.exists(answer["key"])
    assert Upload.objects.get(key=answer["key"]).status == Upload.Status.PENDING


# --- odd keys and serving ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/uploads/local/%00",
        "/api/v1/uploads/local/%00abc",
        "/api/v1/uploads/local/uploads/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/uploads/local/uploads/x/y.png",
        "/api/v1/uploads/local/" + "a" * 5000,
    ],
)
def test_an_odd_key_in_the_local_put_url_is_a_404_not_a_500(path):
    response = APIClient().generic("PUT", path + "?expires=1&signature=x", data=b"x")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_stored_files_are_never_served_by_the_app():
    client = client_for(OrganizerFactory())
    answer = presign(client).json()
    assert put(answer["upload_url"], PNG, "image/png").status_code == 201
    key = answer["key"]
    assert default_storage.exists(key)
    for url in (f"/media/{key}", f"/{key}", f"/api/v1/uploads/local/{key}"):
        response = APIClient().get(url)
        assert response.status_code in (404, 405), url
        assert PNG not in response.content


# --- the stale-upload sweep --------------------------------------------------------------------


def stored_upload(owner, *, age_hours: float, attached: bool = False) -> Upload:
    upload = UploadFactory(owner=owner)
    default_storage.save(upload.key, io.BytesIO(PNG))
    Upload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(hours=age_hours),
        attached_at=timezone.now() if attached else None,
    )
    return upload


def test_sweep_deletes_never_attached_uploads_after_a_day_object_and_row():
    owner = VenueFactory().user
    stale = stored_upload(owner, age_hours=25)
    stale_pending = UploadFactory(owner=owner, status=Upload.Status.PENDING)
    Upload.objects.filter(pk=stale_pending.pk).update(
        created_at=timezone.now() - timedelta(hours=30)
    )
    recent = stored_upload(owner, age_hours=2)
    attached = stored_upload(owner, age_hours=100, attached=True)

    assert purge_stale_uploads() == 2
    assert set(Upload.objects.values_list("pk", flat=True)) == {recent.pk, attached.pk}
    assert not default_storage.exists(stale.key)
    assert default_storage.exists(recent.key) and default_storage.exists(attached.key)
    logs = AuditLog.objects.filter(action="upload.purge")
    assert {log.target_id for log in logs} == {str(stale.pk), str(stale_pending.pk)}
    assert all(log.actor_id is None for log in logs)

    assert purge_stale_uploads() == 0  # idempotent


def test_vendor_photos_are_attached_and_survive_the_sweep(make_client):
    vendor = VenueFactory()
    client = make_client(vendor.user)
    answer = presign(client).json()
    assert put(answer["upload_url"], PNG, "image/png").status_code == 201
    response = client.patch("/api/v1/vendors/me", {"photo_keys": [answer["key"]]})
    assert response.status_code == 200, response.json()
    Upload.objects.update(created_at=timezone.now() - timedelta(days=3))
    assert purge_stale_uploads() == 0
    assert default_storage.exists(answer["key"])


def test_an_upload_swept_before_it_is_attached_is_refused_not_dangling(make_client):
    """attach_uploads re-reads under lock inside the vendor's transaction."""
    from strathwell.exceptions import DomainValidationError
    from strathwell.uploads.services import attach_uploads

    owner = VenueFactory().user
    upload = stored_upload(owner, age_hours=30)
    key = upload.key
    assert purge_stale_uploads() == 1
    with pytest.raises(DomainValidationError, match="no longer available"):
        attach_uploads(owner=owner, keys=[key])


def test_purge_command_runs_the_sweep_and_respects_read_only(settings):
    owner = VenueFactory().user
    stored_upload(owner, age_hours=48)
    settings.READ_ONLY_MODE = True
    with pytest.raises(CommandError, match="READ_ONLY_MODE"):
        call_command("purge_stale_uploads", stdout=io.StringIO())
    assert Upload.objects.count() == 1
    settings.READ_ONLY_MODE = False
    out = io.StringIO()
    call_command("purge_stale_uploads", stdout=out)
    assert "purged 1 stale upload" in out.getvalue()
    assert Upload.objects.count() == 0
