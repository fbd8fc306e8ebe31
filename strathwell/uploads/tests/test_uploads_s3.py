"""Uploads with STORAGE_PROVIDER=s3 against a real S3-compatible HTTP server (moto_server,
started once per test session on a free loopback port): presign through the API, then an actual
multipart POST of the file to the returned URL.

moto does not enforce POST policies (see strathwell/testing/tests/test_servers.py:
test_moto_does_not_enforce_post_policy), so the content-type and content-length-range bindings
are asserted on the signed policy document itself, and the server-side re-check made before a
key is referenced is tested against an object that violates them."""

import base64
import json
import time
import uuid
from datetime import datetime

import boto3
import pytest
import requests
from botocore.config import Config

from strathwell.uploads.models import Upload
from strathwell.uploads.tests.factories import image_bytes
from vendors.tests.factories import VenueFactory

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]

PNG = image_bytes("PNG", (14, 9))


@pytest.fixture
def s3(moto_s3_server, settings):
    bucket = f"strathwell-{uuid.uuid4().hex[:12]}"
    settings.STORAGE_PROVIDER = "s3"
    settings.S3_ENDPOINT_URL = moto_s3_server.url
    settings.S3_BUCKET = bucket
    settings.S3_REGION = "us-east-1"
    settings.S3_ACCESS_KEY_ID = "test"
    settings.S3_SECRET_ACCESS_KEY = "test"
    settings.UPLOAD_URL_EXPIRE_SECONDS = 300
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3_server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4"),
    )
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture
def vendor():
    return VenueFactory()


@pytest.fixture
def client(make_client, vendor):
    return make_client(vendor.user)


def presign(client, **overrides):
    body = {"filename": "hall.png", "content_type": "image/png", "size_bytes": len(PNG)}
    return client.post("/api/v1/uploads/presign", {**body, **overrides})


def post_form(answer, data=PNG, file_type="image/png"):
    # The file must be the last part of the form: requests sends `data` before `files`.
    return requests.post(
        answer["upload_url"],
        data=answer["fields"],
        files={"file": ("hall.png", data, file_type)},
        timeout=30,
    )


def policy_of(answer) -> dict:
    return json.loads(base64.b64decode(answer["fields"]["policy"]))


def bucket_keys(s3_client, bucket):
    return [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_presign_then_real_upload_stores_the_object_with_its_type(
    s3, client, vendor, moto_s3_server
):
    s3_client, bucket = s3
    response = presign(client)
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["method"] == "POST"
    assert answer["upload_url"] == f"{moto_s3_server.url}/{bucket}"
    assert answer["expires_in"] == 300
    assert answer["key"].startswith(f"uploads/{vendor.user_id}/")
    assert answer["fields"]["key"] == answer["key"]
    assert answer["fields"]["Content-Type"] == "image/png"
    assert answer["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert Upload.objects.get(key=answer["key"]).status == Upload.Status.PENDING

    uploaded = post_form(answer)
    assert uploaded.status_code == 204, uploaded.text

    head = s3_client.head_object(Bucket=bucket, Key=answer["key"])
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(PNG)
    stored = s3_client.get_object(Bucket=bucket, Key=answer["key"])["Body"].read()
    assert stored == PNG


def test_signed_policy_binds_key_type_declared_size_and_expiry(s3, client):
    _, bucket = s3
    before = time.time()
    answer = presign(client, size_bytes=4096, content_type="image/webp").json()
    policy = policy_of(answer)
    conditions = policy["conditions"]
    assert {"Content-Type": "image/webp"} in conditions
    assert ["content-length-range", 1, 4096] in conditions  # the declared size, not the max
    assert {"bucket": bucket} in conditions
    assert {"key": answer["key"]} in conditions
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
    assert before + 290 <= expiration <= time.time() + 310


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content_type": "text/html"}, "content_type"),
        ({"size_bytes": 10 * 1024 * 1024 + 1}, "size_bytes"),
    ],
)
def test_refused_before_any_url_is_issued(s3, client, overrides, field):
    s3_client, bucket = s3
    response = presign(client, **overrides)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert "upload_url" not in response.json()
    assert not Upload.objects.exists()
    assert bucket_keys(s3_client, bucket) == []


def test_vendor_attaches_a_photo_uploaded_to_s3(s3, client):
    answer = presign(client).json()
    assert post_form(answer).status_code == 204
    response = client.patch("/api/v1/vendors/me", {"photo_keys": [answer["key"]]})
    assert response.status_code == 200, response.json()
    assert response.json()["photo_keys"] == [answer["key"]]
    upload = Upload.objects.get(key=answer["key"])
    assert upload.status == Upload.Status.UPLOADED  # confirmed with a HEAD on the object
    assert upload.size_bytes == len(PNG)


def test_key_not_uploaded_yet_cannot_be_attached(s3, client):
    answer = presign(client).json()
    response = client.patch("/api/v1/vendors/me", {"photo_keys": [answer["key"]]})
    assert response.status_code == 400
    assert "not been uploaded" in response.json()["error"]["details"]["photo_keys"][0]
    assert Upload.objects.get(key=answer["key"]).status == Upload.Status.PENDING


@pytest.mark.parametrize(
    ("declared", "file_type", "override_type"),
    [
        (50, "image/png", None),  # larger than declared
        (len(PNG), "text/html", "text/html"),  # another type than declared
    ],
)
def test_object_violating_the_policy_is_never_referenced(
    s3, client, declared, file_type, override_type
):
    """moto stores what the policy forbids; the server re-checks before referencing a key."""
    s3_client, bucket = s3
    answer = presign(client, size_bytes=declared).json()
    if override_type:
        answer["fields"]["Content-Type"] = override_type
    assert post_form(answer, file_type=file_type).status_code == 204  # moto does not enforce
    assert answer["key"] in bucket_keys(s3_client, bucket)

    response = client.patch("/api/v1/vendors/me", {"photo_keys": [answer["key"]]})
    assert response.status_code == 400
    assert "does not match" in response.json()["error"]["details"]["photo_keys"][0]
    assert Upload.objects.get(key=answer["key"]).status == Upload.Status.PENDING


def test_a_disguised_file_is_never_accepted_and_its_object_is_deleted(s3, client, vendor):
    """The store takes any bytes the form carries; the content check refuses them when the key
    is first referenced, and deletes the object."""
    s3_client, bucket = s3
    fake = b"<html><script>alert(1)</script></html>".ljust(len(PNG), b" ")
    answer = presign(client, size_bytes=len(fake)).json()
    assert post_form(answer, data=fake).status_code == 204
    assert answer["key"] in bucket_keys(s3_client, bucket)

    response = client.patch("/api/v1/vendors/me", {"photo_keys": [answer["key"]]})
    assert response.status_code == 400
    assert "is not image/png" in response.json()["error"]["details"]["photo_keys"][0]
    assert answer["key"] not in bucket_keys(s3_client, bucket)
    upload = Upload.objects.get(key=answer["key"])
    assert upload.status == Upload.Status.PENDING and upload.attached_at is None
    vendor.refresh_from_db()
    assert vendor.photo_keys == []


def test_real_image_is_attached_and_kept_by_the_sweep(s3, client, vendor):
    from datetime import timedelta

    from django.utils import timezone

    from strathwell.uploads.services import purge_stale_uploads

    s3_client, bucket = s3
    answer = presign(client).json()
    assert post_form(answer).status_code == 204
    response = client.patch("/api/v1/vendors/me", {"photo_keys": [answer["key"]]})
    assert response.status_code == 200, response.json()
    assert Upload.objects.get(key=answer["key"]).attached_at is not None

    abandoned = presign(client).json()
    assert post_form(abandoned).status_code == 204
    Upload.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert purge_stale_uploads() == 1
    assert bucket_keys(s3_client, bucket) == [answer["key"]]
    assert list(Upload.objects.values_list("key", flat=True)) == [answer["key"]]
