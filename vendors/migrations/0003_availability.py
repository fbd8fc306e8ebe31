"""Availability: `Vendor.daily_capacity` and `VendorDateUnit`, one row per unit of capacity
in use on a date (blocked, held or booked).

The database keeps a vendor within capacity: `vendors_unit_one_per_slot` makes every
(vendor, date, slot) unique, and on PostgreSQL the trigger below refuses a slot at or above
the vendor's `daily_capacity` (read `FOR SHARE`, so a capacity change and an insert serialise).
Together: at most `daily_capacity` units per vendor and date, whatever the interleaving. The
trigger is a no-op on other databases (SQLite runs one writer at a time)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

import strathwell.transitions

UNIT_FUNCTION = """
CREATE OR REPLACE FUNCTION vendors_unit_within_capacity() RETURNS trigger AS $$
DECLARE
    capacity integer;
BEGIN
    -- FOR SHARE: a concurrent change of the capacity waits for this write to finish.
    SELECT daily_capacity INTO capacity FROM vendors_vendor WHERE id = NEW.vendor_id FOR SHARE;
    IF capacity IS NULL OR NEW.slot >= capacity THEN
        RAISE EXCEPTION 'slot % of vendor % on % is beyond its daily capacity %',
            NEW.slot, NEW.vendor_id, NEW.date, capacity
            USING ERRCODE = 'check_violation', CONSTRAINT = 'vendors_unit_slot_within_capacity';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

FORWARDS = [
    UNIT_FUNCTION,
    "CREATE TRIGGER vendors_unit_within_capacity BEFORE INSERT OR UPDATE OF slot, vendor_id "
    "ON vendors_vendordateunit FOR EACH ROW EXECUTE FUNCTION vendors_unit_within_capacity();",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS vendors_unit_within_capacity ON vendors_vendordateunit;",
    "DROP FUNCTION IF EXISTS vendors_unit_within_capacity();",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARDS:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARDS:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0002_line_and_status_constraints'),
        ('vendors', '0002_profile_type_triggers'),
    ]

    operations = [
        migrations.CreateModel(
            name='VendorDateUnit',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('date', models.DateField()),
                ('slot', models.PositiveSmallIntegerField()),
                ('status', models.CharField(choices=[('blocked', 'Blocked'), ('held', 'Held'), ('booked', 'Booked')], max_length=10)),
                ('note', models.CharField(blank=True, max_length=500)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['date', 'vendor_id', 'slot'],
            },
            bases=(strathwell.transitions.Transitions, models.Model),
        ),
        migrations.AddField(
            model_name='vendor',
            name='daily_capacity',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddConstraint(
            model_name='vendor',
            constraint=models.CheckConstraint(condition=models.Q(('daily_capacity__gte', 1), ('daily_capacity__lte', 50)), name='vendors_vendor_daily_capacity_range'),
        ),
        migrations.AddConstraint(
            model_name='vendor',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('vendor_type', 'venue'), _negated=True), ('daily_capacity', 1), _connector='OR'), name='vendors_venue_daily_capacity_one'),
        ),
        migrations.AddField(
            model_name='vendordateunit',
            name='booking_vendor',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='capacity_unit', to='bookings.bookingvendor'),
        ),
        migrations.AddField(
            model_name='vendordateunit',
            name='vendor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='date_units', to='vendors.vendor'),
        ),
        migrations.AddConstraint(
            model_name='vendordateunit',
            constraint=models.UniqueConstraint(fields=('vendor', 'date', 'slot'), name='vendors_unit_one_per_slot'),
        ),
        migrations.AddConstraint(
            model_name='vendordateunit',
            constraint=models.CheckConstraint(condition=models.Q(('slot__lt', 50)), name='vendors_unit_slot_range'),
        ),
        migrations.AddConstraint(
            model_name='vendordateunit',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['blocked', 'held', 'booked'])), name='vendors_unit_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='vendordateunit',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('booking_vendor__isnull', True), ('status', 'blocked')), models.Q(('booking_vendor__isnull', False), ('status__in', ['held', 'booked'])), _connector='OR'), name='vendors_unit_block_or_line'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
