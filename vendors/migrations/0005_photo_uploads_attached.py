"""Uploads already referenced by vendors' photo_keys count as attached, so the stale-upload
sweep (strathwell.uploads) never deletes a photo a listing shows."""

from django.db import migrations
from django.utils import timezone


def mark_attached(apps, schema_editor):
    Vendor = apps.get_model("vendors", "Vendor")
    Upload = apps.get_model("uploads", "Upload")
    now = timezone.now()
    for vendor in Vendor.objects.exclude(photo_keys=[]).only("user_id", "photo_keys").iterator():
        keys = [k for k in vendor.photo_keys or [] if isinstance(k, str)]
        if keys:
            Upload.objects.filter(
                owner_id=vendor.user_id, key__in=keys, attached_at__isnull=True
            ).update(attached_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("vendors", "0004_backfill_capacity_units"),
        ("uploads", "0002_attached_at"),
    ]

    operations = [migrations.RunPython(mark_attached, migrations.RunPython.noop)]
