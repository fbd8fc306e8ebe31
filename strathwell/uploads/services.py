"""Uploads straight to object storage: presigning, the local provider's receiving end, and
checking that keys other records want to reference are really there.

Two providers sit behind the same `POST /uploads/presign`, chosen by `settings.STORAGE_PROVIDER`
at call time:

* `s3`: an S3 presigned POST (django-storages' S3 connection, boto3) whose policy binds the key,
  the content type and `content-length-range` 1..declared size.
* `local` (default): a URL of this server, signed over key|content type|size|expiry, that
  accepts one PUT of the bytes and stores them through Django's default storage. Stored files
  are never served by this server (no media URL is routed).

Guards: per-user quotas on live pending uploads and on bytes (`presign_upload`, under a lock of
the user's row); the bytes must be a file of the declared type (magic bytes, and Pillow's
`verify()` for images) before an upload is accepted (`check_content`); uploads never attached
to a record are swept after `UPLOAD_STALE_HOURS` (`purge_stale_uploads`).
"""

from __future__ import annotations

import functools
import hmac
import io
import logging
import mimetypes
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from strathwell.exceptions import (
    DomainPermissionDenied,
    DomainValidationError,
    UploadQuotaExceeded,
)
from strathwell.uploads.models import Upload
from strathwell.uploads.signals import upload_purged

logger = logging.getLogger("strathwell.uploads")

LOCAL_SIGNING_SALT = "strathwell.uploads.local"
READ_CHUNK_BYTES = 64 * 1024
MAX_PHOTOS = 20

_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,10}")
# Every key `new_key` makes: uploads/<owner uuid>/<32 hex>[.ext] (the local PUT route's pattern).
KEY_PATTERN = (
    r"uploads/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"/[0-9a-f]{32}(?:\.[a-z0-9]{1,10})?"
)
# Pillow's name of each image type it must be able to open.
IMAGE_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}


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


def check_content(body: bytes, content_type: str) -> str | None:
    """None when `body` is a file of `content_type`, else a sentence saying why not.

    The magic bytes must say the declared type (filetype); an image must also open and pass
    Pillow's `verify()` as that format (a damaged or disguised file does not)."""
    kind = filetype.guess(body[:8192])
    if kind is None or kind.mime != content_type:
        found = kind.mime if kind is not None else "an unknown type"
        return f"The file is not {content_type}: its content is {found}."
    image_format = IMAGE_FORMATS.get(content_type)
    if image_format:
        try:
            with Image.open(io.BytesIO(body), formats=[image_format]) as image:
                image.verify()
        except Exception:  # Pillow raises many types for a bad file
            return f"The file is not a valid {content_type} image (it is damaged or disguised)."
    return None


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

    def read(self, upload: Upload, limit: int) -> bytes:
        with default_storage.open(upload.key, "rb") as stored:
            return stored.read(limit)

    def delete(self, upload: Upload) -> None:
        default_storage.delete(upload.key)  # a missing file is fine


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

    def read(self, upload: Upload, limit: int) -> bytes:
        obj = self.client().get_object(
            Bucket=settings.S3_BUCKET, Key=upload.key, Range=f"bytes=0-{limit - 1}"
        )
        return obj["Body"].read(limit)

    def delete(self, upload: Upload) -> None:
        self.client().delete_object(Bucket=settings.S3_BUCKET, Key=upload.key)  # idempotent


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


def check_quota(owner, size_bytes: int) -> None:
    """Refuse (409 `upload_quota_exceeded`) a new upload over the owner's quotas: uploads whose
    URL is still valid and whose bytes were not sent (`UPLOAD_MAX_PENDING_PER_USER`), and bytes
    of all their uploads, declared or stored (`UPLOAD_QUOTA_BYTES_PER_USER`). One query; the
    caller holds the owner's row lock, so concurrent presigns cannot both pass."""
    live_since = timezone.now() - timedelta(seconds=settings.UPLOAD_URL_EXPIRE_SECONDS)
    usage = Upload.objects.filter(owner=owner).aggregate(
        pending=Count("id", filter=Q(status=Upload.Status.PENDING, created_at__gte=live_since)),
        used=Sum("size_bytes", default=0),
    )
    max_pending = settings.UPLOAD_MAX_PENDING_PER_USER
    if usage["pending"] >= max_pending:
        raise UploadQuotaExceeded(
            f"You have {usage['pending']} uploads waiting for their bytes (at most "
            f"{max_pending}): send them, or wait until their URLs expire.",
            details={"pending": usage["pending"], "max_pending": max_pending},
        )
    quota = settings.UPLOAD_QUOTA_BYTES_PER_USER
    if usage["used"] + size_bytes > quota:
        raise UploadQuotaExceeded(
            f"This upload would take your files to {usage['used'] + size_bytes} bytes "
            f"(at most {quota}).",
            details={"used_bytes": usage["used"], "quota_bytes": quota},
        )


def presign_upload(*, owner, filename: str, content_type: str, size_bytes: int, request) -> dict:
    """Record a pending Upload under a new server-chosen key and answer how to send the bytes.

    The caller has validated type and size against the settings; the owner's quotas are checked
    under a lock of the owner's row. Signing makes no network call, so the row and the URL are
    made in one transaction."""
    provider = get_provider()
    expires_in = settings.UPLOAD_URL_EXPIRE_SECONDS
    content_type = media_type(content_type)
    with transaction.atomic():
        # Serializes one user's presigns: the quota check and the new row are one step.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).values("pk").first()
        check_quota(owner, size_bytes)
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

    Refuses (nothing stored) a bad or expired signature (403), another content type, a body
    larger than declared, or bytes that are not a file of the declared type (400). A repeat PUT
    after success stores nothing: the first bytes win.
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
    problem = check_content(body, upload.content_type)
    if problem:
        raise DomainValidationError(f"{problem} Nothing was stored.", details={"body": [problem]})

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
    """Mark a pending upload uploaded if its object is in storage as declared and its bytes are
    a file of the declared type; else say why (a bad object is deleted: it is never used)."""
    found = provider.stat(upload)
    if found is None:
        return f"{upload.key} has not been uploaded yet."
    if found.size_bytes > upload.size_bytes or (
        found.content_type is not None and found.content_type != upload.content_type
    ):
        # The store accepted something the signed policy did not allow (not every
        # S3-compatible server enforces POST policies): never reference it.
        return f"{upload.key} does not match its declared type or size."
    problem = check_content(provider.read(upload, upload.size_bytes), upload.content_type)
    if problem:
        provider.delete(upload)
        return f"{upload.key}: {problem}"
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


def attach_uploads(*, owner, keys: list[str]) -> None:
    """Record that a record now references these uploads of `owner` (validated before with
    `claim_uploaded_keys`), so the stale-upload sweep keeps them.

    Call it inside the transaction that saves the reference: it locks the upload rows, so the
    sweep cannot delete one in between; an upload the sweep deleted first is a 400."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return
    rows = list(Upload.objects.select_for_update().filter(owner=owner, key__in=keys))
    missing = sorted(set(keys) - {row.key for row in rows})
    if missing:
        raise DomainValidationError(
            f"photo_keys: {missing[0]} is no longer available; upload it again.",
            details={"photo_keys": [f"{key} is no longer available." for key in missing]},
        )
    Upload.objects.filter(pk__in=[r.pk for r in rows if r.attached_at is None]).update(
        attached_at=timezone.now()
    )


# --- the stale-upload sweep ------------------------------------------------------------------


def purge_stale_uploads(*, now=None) -> int:
    """Delete every upload never attached to a record `UPLOAD_STALE_HOURS` after its creation:
    its storage object, then its row (audited, actor: the system). Returns how many.

    Idempotent and safe to run on two machines at once: each row is locked (rows another run or
    an attaching request holds are skipped) and re-checked. The object is deleted inside the
    row's transaction, so a storage failure keeps the row for the next run."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.UPLOAD_STALE_HOURS)
    stale = Upload.objects.filter(attached_at__isnull=True, created_at__lt=cutoff)
    provider = None
    deleted = 0
    for pk in list(stale.order_by("created_at").values_list("pk", flat=True)):
        with transaction.atomic():
            upload = stale.select_for_update(skip_locked=True).filter(pk=pk).first()
            if upload is None:  # attached, deleted or being handled meanwhile
                continue
            provider = provider or get_provider()
            before = {
                "key": upload.key,
                "status": upload.status,
                "size_bytes": upload.size_bytes,
                "owner_id": str(upload.owner_id),
            }
            provider.delete(upload)
            upload_purged.send(
                sender=Upload,
                actor=None,
                action="upload.purge",
                target=upload,
                before=before,
                after=None,
                reason=f"Never attached within {settings.UPLOAD_STALE_HOURS} hours.",
            )
            upload.delete()
            deleted += 1
    if deleted:
        logger.info("Purged %d stale uploads", deleted)
    return deleted
