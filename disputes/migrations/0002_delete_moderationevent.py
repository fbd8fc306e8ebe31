"""ModerationEvent now belongs to `trust` (see trust/migrations/0001_initial.py): drop it from
this app's migration state only. The table `disputes_moderationevent` stays, with its rows."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("disputes", "0001_initial"),
        ("trust", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ModerationEvent"),
            ],
            database_operations=[],
        ),
    ]
