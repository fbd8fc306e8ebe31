"""Uploads with STORAGE_PROVIDER=local, end to end through the test client: presign, then PUT
the bytes to the signed URL this server answered."""

import io
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.files.storage import default_storage

from accounts.tests.factories import OrganizerFactory
from strathwell.audit.models import AuditLog
from strathwell.exceptions import DomainValidationError
from strathwell.uploads.models import Upload
from strathwell.uploads.services import local_signature, receive_local_upload
from strathwell.uploads.tests.factories import image_bytes
from vendors.tests.factories import VenueFactory

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG", (12, 10))


@pytest.fixture(autouse=True)
def local_storage(settings, tmp_path):
    settings.STORAGE_PROVIDER = "local"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_URL_EXPIRE_SECONDS = 600
    return tmp_path


@pytest.fixture
def user():
    return OrganizerFactory()


@pytest.fixture
def client(make_client, user):
    return make_client(user)


def presign(client, **overrides):
    body = {"filename": "hall.png", "content_type": "image/png", "size_bytes": len(PNG)}
    return client.post("/api/v1/uploads/presign", {**body, **overrides})


def put(api_client, url, body=PNG, content_type="image/png", **extra):
    return api_client.generic("PUT", url, data=body, content_type=content_type, **extra)


def with_query(url, **changes):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


# --- presign --------------------------------------------------------------------------------


def test_presign_answers_a_signed_put_url_and_records_the_upload(client, user):
    response = presign(client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"key", "upload_url", "method", "headers", "fields", "expires_in"}
    assert re.fullmatch(rf"uploads/{user.id}/[0-9a-f]{{32}}\.png", body["key"])
    assert body["method"] == "PUT"
    assert body["headers"] == {"Content-Type": "image/png"}
    assert body["fields"] == {}
    assert body["expires_in"] == 600
    url = urlsplit(body["upload_url"])
    assert url.scheme == "http" and url.netloc == "testserver"
    assert url.path == f"/api/v1/uploads/local/{body['key']}"
    assert {"expires", "signature"} <= set(parse_qs(url.query))

    upload = Upload.objects.get(key=body["key"])
    assert (upload.owner, upload.status) == (user, Upload.Status.PENDING)
    assert (upload.content_type, upload.size_bytes, upload.filename) == (
        "image/png",
        len(PNG),
        "hall.png",
    )


@pytest.mark.parametrize(
    ("filename", "content_type", "suffix", "stored_name"),
    [
        ("../../etc/evil.php", "image/png", ".png", "evil.php"),
        ("Photo.JPEG", "image/jpeg", ".jpeg", "Photo.JPEG"),
        ("no-extension", "application/pdf", ".pdf", "no-extension"),
        ("C:\\Users\\me\\menu.pdf", "application/pdf", ".pdf", "menu.pdf"),
        ("x.png", "IMAGE/WEBP", ".webp", "x.png"),
    ],
)
def test_key_is_server_chosen_with_a_sanitized_extension(
    client, user, filename, content_type, suffix, stored_name
):
    response = presign(client, filename=filename, content_type=content_type)
    assert response.status_code == 201, response.json()
    key = response.json()["key"]
    assert key.startswith(f"uploads/{user.id}/") and key.endswith(suffix)
    assert ".." not in key and "\\" not in key
    assert Upload.objects.get(key=key).filename == stored_name


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content_type": "text/html"}, "content_type"),
        ({"content_type": "image/svg+xml"}, "content_type"),
        ({"size_bytes": 10 * 1024 * 1024 + 1}, "size_bytes"),
        ({"size_bytes": 0}, "size_bytes"),
        ({"filename": ""}, "filename"),
    ],
)
def test_presign_refuses_type_and_size_before_issuing_a_url(client, overrides, field):
    response = presign(client, **overrides)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert "upload_url" not in response.json()
    assert not Upload.objects.exists()


def test_presign_reads_limits_from_settings_at_call_time(client, settings):
    settings.MAX_UPLOAD_BYTES = 100
    settings.ALLOWED_UPLOAD_MIME = ["text/plain"]
    assert presign(client, size_bytes=101, content_type="text/plain").status_code == 400
    assert presign(client, size_bytes=100, content_type="image/png").status_code == 400
    response = presign(client, size_bytes=100, content_type="text/plain", filename="a.txt")
    assert response.status_code == 201
    assert response.json()["key"].endswith(".txt")


def test_presign_needs_authentication(api_client):
    response = presign(api_client)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


# --- the upload itself ----------------------------------------------------------------------


def test_put_to_signed_url_stores_the_file(client, api_client, user):
    body = presign(client).json()
    response = put(api_client, body["upload_url"])  # no bearer: the URL is the credential
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "uploaded"
    with default_storage.open(body["key"]) as stored:
        assert stored.read() == PNG
    upload = Upload.objects.get(key=body["key"])
    assert upload.status == Upload.Status.UPLOADED and upload.uploaded_at is not None
    assert upload.size_bytes == len(PNG)
    log = AuditLog.objects.get(action="upload.complete")
    assert log.target_id == str(upload.id) and log.actor_id == user.id


def test_smaller_body_than_declared_is_accepted_with_its_real_size(client, api_client):
    body = presign(client, size_bytes=5000).json()
    assert put(api_client, body["upload_url"]).status_code == 201
    assert Upload.objects.get(key=body["key"]).size_bytes == len(PNG)


def test_repeat_put_stores_nothing_new(client, api_client):
    body = presign(client).json()
    assert put(api_client, body["upload_url"]).status_code == 201
    again = put(api_client, body["upload_url"], body=PNG[:50])
    assert again.status_code == 200
    with default_storage.open(body["key"]) as stored:
        assert stored.read() == PNG
    assert AuditLog.objects.filter(action="upload.complete").count() == 1


def _assert_nothing_stored(key):
    assert not default_storage.exists(key)
    assert Upload.objects.get(key=key).status == Upload.Status.PENDING


def test_body_larger_than_declared_is_refused_and_nothing_stored(client, api_client):
    body = presign(client, size_bytes=len(PNG) - 1).json()
    response = put(api_client, body["upload_url"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "size_bytes" in response.json()["error"]["details"]
    _assert_nothing_stored(body["key"])


def test_body_without_content_length_is_read_bounded(client):
    """Without a Content-Length (chunked bodies), the stream is read at most declared + 1
    bytes: more is refused before anything is stored."""
    body = presign(client, size_bytes=10).json()
    query = parse_qs(urlsplit(body["upload_url"]).query)
    with pytest.raises(DomainValidationError) as refused:
        receive_local_upload(
            key=body["key"],
            expires=query["expires"][0],
            signature=query["signature"][0],
            content_type="image/png",
            content_length=None,
            stream=io.BytesIO(PNG),
        )
    assert "size_bytes" in refused.value.details
    _assert_nothing_stored(body["key"])


def test_other_content_type_is_refused(client, api_client):
    body = presign(client).json()
    response = put(api_client, body["upload_url"], content_type="text/html")
    assert response.status_code == 400
    assert "content_type" in response.json()["error"]["details"]
    _assert_nothing_stored(body["key"])


def test_empty_body_is_refused(client, api_client):
    body = presign(client).json()
    response = put(api_client, body["upload_url"], body=b"")
    assert response.status_code == 400
    _assert_nothing_stored(body["key"])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: with_query(url, signature="A" * 27),
        lambda url: with_query(url, expires=str(int(time.time()) + 86_400)),
        lambda url: with_query(url, expires="soon"),
        lambda url: url.split("?")[0],
        lambda url: re.sub(r"[0-9a-f]{32}\.png\?", "0" * 32 + ".png?", url),
    ],
    ids=["signature", "extended-expiry", "junk-expiry", "no-query", "other-key"],
)
def test_tampered_url_is_403(client, api_client, tamper):
    body = presign(client).json()
    response = put(api_client, tamper(body["upload_url"]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "not valid" in response.json()["error"]["message"]
    _assert_nothing_stored(body["key"])


def test_expired_url_is_403(client, api_client):
    body = presign(client).json()
    upload = Upload.objects.get(key=body["key"])
    past = int(time.time()) - 1
    url = with_query(body["upload_url"], expires=str(past))
    url = with_query(url, signature=local_signature(upload, expires=past))  # validly signed
    response = put(api_client, url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "expired" in response.json()["error"]["message"]
    _assert_nothing_stored(body["key"])


def test_url_signed_for_another_size_is_refused(client, api_client):
    """The signature binds the declared size: a URL cannot be reused for a bigger upload."""
    body = presign(client).json()
    Upload.objects.filter(key=body["key"]).update(size_bytes=10 * 1024 * 1024)
    assert put(api_client, body["upload_url"]).status_code == 403


def test_local_endpoint_is_off_with_the_s3_provider(client, api_client, settings):
    body = presign(client).json()
    settings.STORAGE_PROVIDER = "s3"
    assert put(api_client, body["upload_url"]).status_code == 404
    _assert_nothing_stored(body["key"])


def test_uploads_are_writes_refused_in_read_only_mode(client, api_client, settings):
    body = presign(client).json()
    settings.READ_ONLY_MODE = True
    assert put(api_client, body["upload_url"]).status_code == 503
    assert presign(client).status_code == 503


# --- referencing uploads from a vendor profile ------------------------------------------------


def test_vendor_attaches_photos_it_uploaded(make_client, api_client):
    vendor = VenueFactory()
    client = make_client(vendor.user)
    keys = []
    for name in ("front.png", "hall.png"):
        body = presign(client, filename=name).json()
        assert put(api_client, body["upload_url"]).status_code == 201
        keys.append(body["key"])
    response = client.patch("/api/v1/vendors/me", {"photo_keys": keys})
    assert response.status_code == 200, response.json()
    assert response.json()["photo_keys"] == keys
    public = api_client.get(f"/api/v1/vendors/{vendor.id}").json()
    assert public["photo_keys"] == keys


def test_vendor_cannot_attach_a_key_it_never_uploaded_or_someone_elses(make_client, client):
    vendor = VenueFactory()
    vendor_client = make_client(vendor.user)
    never_sent = presign(vendor_client).json()["key"]
    others = presign(client).json()["key"]
    for key in (never_sent, others):
        response = vendor_client.patch("/api/v1/vendors/me", {"photo_keys": [key]})
        assert response.status_code == 400
        assert "photo_keys" in response.json()["error"]["details"]
    vendor.refresh_from_db()
    assert vendor.photo_keys == []
