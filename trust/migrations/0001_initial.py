"""ModerationEvent moves from `disputes` to `trust` without touching the database.

The table keeps its name (`disputes_moderationevent`, set as `Meta.db_table`), so this
migration only changes Django's migration state; `disputes` 0002 drops the model from its own
state the same way. The content type row moves from app label "disputes" to "trust", so the
permissions staff already hold on moderation events keep working."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODEL = "moderationevent"


def _move_content_type(apps, schema_editor, *, from_label, to_label):
    """Relabel the model's content type row; a no-op when there is none (a fresh database:
    content types are created after migrating) or when the target row already exists."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    rows = ContentType.objects.using(db)
    if rows.filter(app_label=to_label, model=MODEL).exists():
        return
    rows.filter(app_label=from_label, model=MODEL).update(app_label=to_label)
    ContentType.objects.clear_cache()


def content_type_to_trust(apps, schema_editor):
    _move_content_type(apps, schema_editor, from_label="disputes", to_label="trust")


def content_type_to_disputes(apps, schema_editor):
    _move_content_type(apps, schema_editor, from_label="trust", to_label="disputes")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("disputes", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ModerationEvent",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("context_type", models.CharField(choices=[("booking_note", "Booking Note"), ("counter_note", "Counter Note"), ("profile", "Profile"), ("message", "Message")], max_length=20)),
                        ("context_id", models.CharField(blank=True, max_length=64)),
                        ("action", models.CharField(choices=[("allow", "Allow"), ("warn", "Warn"), ("block", "Block")], db_index=True, max_length=10)),
                        ("signals", models.JSONField(default=list)),
                        ("excerpt", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="moderation_events", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "disputes_moderationevent",
                        "ordering": ["-created_at", "id"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_trust, content_type_to_disputes),
    ]
