"""Uploads in the staff console: a read-only record of the files users sent to storage
(created by `POST /uploads/presign`, completed by the storage check)."""

from django.contrib import admin

from strathwell.console.mixins import ReadOnlyModelAdmin
from strathwell.uploads.models import Upload


@admin.register(Upload)
class UploadAdmin(ReadOnlyModelAdmin):
    list_display = (
        "key",
        "owner",
        "filename",
        "content_type",
        "size_bytes",
        "status",
        "created_at",
    )
    list_filter = ("status", "content_type")
    search_fields = ("=key", "filename", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
