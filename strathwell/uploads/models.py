import uuid

from django.conf import settings
from django.db import models


class Upload(models.Model):
    """A file a user uploads straight to object storage under a server-chosen key."""

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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.key
