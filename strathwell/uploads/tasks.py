"""Periodic job of the uploads: delete what was never attached (see `purge_stale_uploads`)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min

from strathwell.jobs.periodic import periodic_job
from strathwell.uploads.models import Upload
from strathwell.uploads.services import purge_stale_uploads as purge


def stale_uploads_backlog(now: datetime) -> tuple[int, datetime | None]:
    """Uploads due for deletion, and since when they are due."""
    stale_after = timedelta(hours=settings.UPLOAD_STALE_HOURS)
    due = Upload.objects.filter(attached_at__isnull=True, created_at__lt=now - stale_after)
    summary = due.aggregate(oldest=Min("created_at"))
    oldest = summary["oldest"]
    return due.count(), (oldest + stale_after if oldest is not None else None)


@periodic_job("purge_stale_uploads", backlog=stale_uploads_backlog)
def purge_stale_uploads() -> int:
    return purge()
