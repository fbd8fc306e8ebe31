from django.db import migrations

from strathwell.db import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [
        append_only_trigger("payments_ledgerentry"),
        append_only_trigger("payments_allocation"),
    ]
