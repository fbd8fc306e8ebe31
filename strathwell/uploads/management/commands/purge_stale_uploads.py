"""`manage.py purge_stale_uploads`: delete uploads never attached to anything (storage object and
row) UPLOAD_STALE_HOURS after their creation. Idempotent; meant to run periodically."""

from strathwell.commands import WriteCommand
from strathwell.uploads.services import purge_stale_uploads


class Command(WriteCommand):
    help = "Delete uploads never attached to a record within UPLOAD_STALE_HOURS (object and row)."

    def handle(self, *args, **options):
        deleted = purge_stale_uploads()
        self.stdout.write(f"purged {deleted} stale upload(s)")
