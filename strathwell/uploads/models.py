import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone


class Upload(models.Model):
    """A file a user uploads straight to object storage under a server-chosen key.

    The row is written when the upload URL is issued (`pending`) and becomes `uploaded` once the
    bytes are known to be in storage and to be a file of the declared type (the local
    provider's PUT, or a check against S3 when the key is first referenced). `attached_at` is
    set when another record first references it (`services.attach_uploads`); uploads never
    attached are deleted, object and row, `UPLOAD_STALE_HOURS` after creation."""

    class Status(models.TextChoices):
        PENDING = "pending"  # URL issued, bytes not seen yet
        UPLOADED = "uploaded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads"
    )
    key = models.CharField(max_length=300, unique=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    attached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The stale-upload sweep: never attached, oldest first.
            models.Index(
                fields=["created_at"],
                name="uploads_unattached_idx",
                condition=models.Q(attached_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.key

    @property
    def is_uploaded(self) -> bool:
        return self.status == self.Status.UPLOADED

    def mark_uploaded(self, *, size_bytes: int, actor=None) -> "Upload":
        """pending → uploaded with the stored size. Locks the row; a repeat is a no-op (the
        first stored bytes win)."""
        from strathwell.uploads.signals import upload_completed

        with transaction.atomic():
            locked = Upload.objects.select_for_update().get(pk=self.pk)
            if locked.is_uploaded:
                return locked
            locked.status = self.Status.UPLOADED
            locked.size_bytes = size_bytes
            locked.uploaded_at = timezone.now()
            locked.save(update_fields=["status", "size_bytes", "uploaded_at"])
            upload_completed.send(
                sender=Upload,
                actor=actor,
                action="upload.complete",
                target=locked,
                before={"status": self.Status.PENDING},
                after={"status": locked.status, "size_bytes": size_bytes},
                reason="",
            )
        self.status, self.size_bytes, self.uploaded_at = (
            locked.status,
            locked.size_bytes,
            locked.uploaded_at,
        )
        return locked
