"""Uploads straight to object storage: presigning, the local provider's receiving end, and
checking that keys other records want to reference are really there.

Two providers sit behind the same `POST /uploads/presign`, chosen by `settings.STORAGE_PROVIDER`
at call time:

* `s3`: an S3 presigned POST (django-storages' S3 connection, boto3) whose policy binds the key,
  the content type and `content-length-range` 1..declared size.
* `local` (default): a URL of this server, signed over key|content type|size|expiry, that
  accepts one PUT of the bytes and stores them through Django's default storage.
"""

from __future__ import annotations

import functools
import hmac
import mimetypes
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from strathwell.exceptions import DomainPermissionDenied, DomainValidationError
from strathwell.uploads.models import Upload

LOCAL_SIGNING_SALT = "strathwell.uploads.local"
READ_CHUNK_BYTES = 64 * 1024
MAX_PHOTOS = 20

_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,10}")


# --- rules ----------------------------------------------------------------------------------


def allowed_mime_types() -> set[str]:
    return {m.strip().lower() for m in settings.ALLOWED_UPLOAD_MIME if m.strip()}


def media_type(value: str | None) -> str:
    """`image/png; charset=x` → `image/png` (lower case)."""
    return (value or "").split(";", 1)[0].strip().lower()


def clean_filename(filename: str) -> str:
    """The client's file name for display only: last path part, no control characters."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = _FILENAME_UNSAFE.sub("", name).strip()
    return name[:255] or "upload"


def extension_for(filename: str, content_type: str) -> str:
    """The key's extension: the file name's own when it fits the content type (`.jpeg` for
    image/jpeg), else the content type's usual one. Never one that contradicts the type."""
    candidates = mimetypes.guess_all_extensions(content_type)
    dot = filename.rfind(".")
    suffix = filename[dot:].lower() if dot > 0 else ""
    if suffix in candidates and _EXTENSION.fullmatch(suffix):
        return suffix
    guessed = mimetypes.guess_extension(content_type)
    if guessed and _EXTENSION.fullmatch(guessed):
        return guessed
    subtype = re.sub(r"[^a-z0-9]", "", content_type.rsplit("/", 1)[-1])[:10]
    return f".{subtype}" if subtype else ""


def new_key(owner, filename: str, content_type: str) -> str:
    """`uploads/<owner id>/<random>.<ext>`: chosen by the server, never by the client."""
    return f"uploads/{owner.pk}/{uuid.uuid4().hex}{extension_for(filename, content_type)}"


# --- providers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    size_bytes: int
    content_type: str | None  # None: the provider does not know (it was checked on the way in)


class LocalProvider:
    """This server receives the bytes (PUT to a signed URL) and keeps them in default storage."""

    name = "local"

    def presign(self, upload: Upload, *, request, expires_in: int) -> dict:
        expires = int(time.time()) + expires_in
        path = reverse("uploads-local", kwargs={"key": upload.key})
        query = urlencode(
            {"expires": expires, "signature": local_signature(upload, expires=expires)}
        )
        return {
            "upload_url": request.build_absolute_uri(f"{path}?{query}"),
            "method": "PUT",
            "headers": {"Content-Type": upload.content_type},
            "fields": {},
        }

    def stat(self, upload: Upload) -> StoredObject | None:
        if not default_storage.exists(upload.key):
            return None
        return StoredObject(size_bytes=default_storage.size(upload.key), content_type=None)


@functools.lru_cache(maxsize=8)
def _s3_storage(bucket, endpoint_url, region, access_key, secret_key):
    """django-storages' S3 storage for these settings (its boto3 connection is per thread)."""
    from storages.backends.s3 import S3Storage

    return S3Storage(
        bucket_name=bucket,
        endpoint_url=endpoint_url,
        region_name=region,
        access_key=access_key,
        secret_key=secret_key,
        # boto3 presigns POST forms with SigV2 unless told otherwise.
        signature_version="s3v4",
        file_overwrite=False,
    )


class S3Provider:
    """S3 or an S3-compatible store (`S3_ENDPOINT_URL`): the client POSTs the form itself."""

    name = "s3"

    def storage(self):
        if not settings.S3_BUCKET:
            raise ImproperlyConfigured("STORAGE_PROVIDER=s3 needs S3_BUCKET.")
        return _s3_storage(
            settings.S3_BUCKET,
            settings.S3_ENDPOINT_URL or None,
            settings.S3_REGION or None,
            settings.S3_ACCESS_KEY_ID or None,
            settings.S3_SECRET_ACCESS_KEY or None,
        )

    def client(self):
        return self.storage().connection.meta.client

    def presign(self, upload: Upload, *, request, expires_in: int) -> dict:
        # Pure signing, no network call.
        post = self.client().generate_presigned_post(
            Bucket=settings.S3_BUCKET,
            Key=upload.key,
            Fields={"Content-Type": upload.content_type},
            Conditions=[
                {"Content-Type": upload.content_type},
                ["content-length-range", 1, upload.size_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return {
            "upload_url": post["url"],
            "method": "POST",
            "headers": {},
            "fields": post["fields"],
        }

    def stat(self, upload: Upload) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client().head_object(Bucket=settings.S3_BUCKET, Key=upload.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(
            size_bytes=int(head["ContentLength"]), content_type=media_type(head.get("ContentType"))
        )


_PROVIDERS = {"local": LocalProvider, "s3": S3Provider}


def get_provider():
    try:
        return _PROVIDERS[settings.STORAGE_PROVIDER]()
    except KeyError as exc:
        raise ImproperlyConfigured(
            f"STORAGE_PROVIDER must be one of {sorted(_PROVIDERS)}, "
            f"not {settings.STORAGE_PROVIDER!r}."
        ) from exc


# --- presign --------------------------------------------------------------------------------


def presign_upload(*, owner, filename: str, content_type: str, size_bytes: int, request) -> dict:
    """Record a pending Upload under a new server-chosen key and answer how to send the bytes.

    The caller has validated type and size against the settings. Signing makes no network call,
    so the row and the URL are made in one transaction."""
    provider = get_provider()
    expires_in = settings.UPLOAD_URL_EXPIRE_SECONDS
    content_type = media_type(content_type)
    with transaction.atomic():
        upload = Upload.objects.create(
            owner=owner,
            key=new_key(owner, filename, content_type),
            filename=clean_filename(filename),
            content_type=content_type,
            size_bytes=size_bytes,
        )
        instructions = provider.presign(upload, request=request, expires_in=expires_in)
    return {"key": upload.key, **instructions, "expires_in": expires_in}


# --- the local provider's receiving end -------------------------------------------------------


def local_signature(upload: Upload, *, expires: int) -> str:
    """HMAC (Django's signing key, a dedicated salt) over everything the URL grants."""
    value = f"{upload.key}|{upload.content_type}|{upload.size_bytes}|{expires}"
    return signing.Signer(salt=LOCAL_SIGNING_SALT).signature(value)


def verify_local_url(upload: Upload | None, *, expires: str | None, signature: str | None):
    """403 unless the URL was signed by us for exactly this upload and has not expired."""
    if upload is None or not expires or not signature or not expires.isdigit():
        raise DomainPermissionDenied("The upload URL is not valid.")
    expected = local_signature(upload, expires=int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise DomainPermissionDenied("The upload URL is not valid.")
    if int(expires) < time.time():
        raise DomainPermissionDenied("The upload URL has expired; ask for a new one.")


def _too_large(upload: Upload) -> DomainValidationError:
    return DomainValidationError(
        f"The body is larger than the declared {upload.size_bytes} bytes; nothing was stored.",
        details={"size_bytes": [f"Ensure the body has at most {upload.size_bytes} bytes."]},
    )


def _read_bounded(stream, limit: int, upload: Upload) -> bytes:
    """Read at most limit bytes; one byte more means the body is too large."""
    chunks, total = [], 0
    while True:
        chunk = stream.read(min(READ_CHUNK_BYTES, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(upload)
    return b"".join(chunks)


def receive_local_upload(
    *,
    key: str,
    expires: str | None,
    signature: str | None,
    content_type: str | None,
    content_length: str | None,
    stream,
) -> tuple[Upload, bool]:
    """Store the body of a signed local PUT. Returns (upload, created).

    Refuses (nothing stored) a bad or expired signature (403), another content type, or a body
    larger than declared (400). A repeat PUT after success stores nothing: the first bytes win.
    """
    upload = Upload.objects.filter(key=key).first()
    verify_local_url(upload, expires=expires, signature=signature)
    if media_type(content_type) != upload.content_type:
        raise DomainValidationError(
            f"content_type: this URL accepts {upload.content_type} only.",
            details={"content_type": [f"Send Content-Type: {upload.content_type}."]},
        )
    if upload.is_uploaded:
        return upload, False
    if content_length and content_length.isdigit() and int(content_length) > upload.size_bytes:
        raise _too_large(upload)
    body = _read_bounded(stream, upload.size_bytes, upload)
    if not body:
        raise DomainValidationError(
            "The body is empty; nothing was stored.", details={"body": ["Send the file's bytes."]}
        )

    with transaction.atomic():
        locked = Upload.objects.select_for_update().get(pk=upload.pk)
        if locked.is_uploaded:  # a concurrent PUT won
            return locked, False
        # Leftovers of an attempt whose transaction failed after writing the file.
        if default_storage.exists(key):
            default_storage.delete(key)
        stored = default_storage.save(key, ContentFile(body))
        try:
            if stored != key:
                raise RuntimeError(f"storage renamed {key!r} to {stored!r}")
            locked = locked.mark_uploaded(size_bytes=len(body), actor=upload.owner)
        except BaseException:
            default_storage.delete(stored)
            raise
    return locked, True


# --- referencing uploads from other records ----------------------------------------------------


def _confirm_in_storage(upload: Upload, provider) -> str | None:
    """Mark a pending upload uploaded if its object is in storage as declared; else say why."""
    found = provider.stat(upload)
    if found is None:
        return f"{upload.key} has not been uploaded yet."
    if found.size_bytes > upload.size_bytes or (
        found.content_type is not None and found.content_type != upload.content_type
    ):
        # The store accepted something the signed policy did not allow (not every
        # S3-compatible server enforces POST policies): never reference it.
        return f"{upload.key} does not match its declared type or size."
    upload.mark_uploaded(size_bytes=found.size_bytes, actor=upload.owner)
    return None


def claim_uploaded_keys(
    *, owner, keys: list[str], field: str = "photo_keys", images_only: bool = True
) -> list[str]:
    """Validate upload keys another record wants to reference: each must be an upload of
    `owner`, be in storage (checked with the provider for pending ones) and, for photos, be an
    image. Returns the keys de-duplicated in order; raises DomainValidationError naming `field`.

    May call the storage provider: call it before opening a transaction."""
    unique = list(dict.fromkeys(keys))
    if len(unique) > MAX_PHOTOS:
        raise DomainValidationError(
            f"{field}: at most {MAX_PHOTOS} files.",
            details={field: [f"Ensure this field has no more than {MAX_PHOTOS} elements."]},
        )
    uploads = {u.key: u for u in Upload.objects.filter(owner=owner, key__in=unique)}
    errors = []
    provider = None
    for key in unique:
        upload = uploads.get(key)
        if upload is None:
            errors.append(f"{key} is not one of your uploads.")
        elif images_only and not upload.content_type.startswith("image/"):
            errors.append(f"{key} is not an image.")
        elif not upload.is_uploaded:
            provider = provider or get_provider()
            problem = _confirm_in_storage(upload, provider)
            if problem:
                errors.append(problem)
    if errors:
        raise DomainValidationError(f"{field}: {errors[0]}", details={field: errors})
    return unique
