from datetime import timedelta

from django.db import migrations, models
from django.db.models import Min

# The default of REFRESH_FAMILY_MAX_DAYS when this migration was written: existing families
# end that long after their first token.
FAMILY_MAX_DAYS = 30


def set_family_deadlines(apps, schema_editor):
    RefreshToken = apps.get_model("accounts", "RefreshToken")
    starts = RefreshToken.objects.values("family").annotate(started=Min("created_at"))
    for row in starts.iterator():
        RefreshToken.objects.filter(family=row["family"]).update(
            family_expires_at=row["started"] + timedelta(days=FAMILY_MAX_DAYS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_subscription"),
    ]

    operations = [
        migrations.AddField(
            model_name="refreshtoken",
            name="family_expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(set_family_deadlines, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="refreshtoken",
            name="family_expires_at",
            field=models.DateTimeField(),
        ),
    ]
