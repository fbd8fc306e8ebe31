"""PostgreSQL enforces "the profile matches the vendor's type": a VenueProfile only for a venue
vendor, a ServiceProfile only for a service vendor, and no type change once a profile exists.
(A vendor has at most one profile of each kind through the one-to-one primary keys, so with
these triggers it has at most one profile, the matching one.) A no-op on other databases."""

from django.db import migrations

PROFILE_FUNCTION = """
CREATE OR REPLACE FUNCTION vendors_profile_matches_type() RETURNS trigger AS $$
DECLARE
    actual text;
BEGIN
    -- FOR SHARE: a concurrent change of the vendor's type waits for this insert to finish.
    SELECT vendor_type INTO actual FROM vendors_vendor WHERE id = NEW.vendor_id FOR SHARE;
    IF actual IS DISTINCT FROM TG_ARGV[0] THEN
        RAISE EXCEPTION '% is only allowed for a % vendor (vendor % is %)',
            TG_TABLE_NAME, TG_ARGV[0], NEW.vendor_id, actual
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TYPE_FUNCTION = """
CREATE OR REPLACE FUNCTION vendors_vendor_type_locked() RETURNS trigger AS $$
BEGIN
    IF NEW.vendor_type IS DISTINCT FROM OLD.vendor_type AND (
        EXISTS (SELECT 1 FROM vendors_venueprofile WHERE vendor_id = NEW.id)
        OR EXISTS (SELECT 1 FROM vendors_serviceprofile WHERE vendor_id = NEW.id)
    ) THEN
        RAISE EXCEPTION 'vendor % has a % profile: its vendor_type cannot change',
            NEW.id, OLD.vendor_type
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

FORWARDS = [
    PROFILE_FUNCTION,
    TYPE_FUNCTION,
    "CREATE TRIGGER vendors_venueprofile_type_matches BEFORE INSERT OR UPDATE OF vendor_id "
    "ON vendors_venueprofile FOR EACH ROW EXECUTE FUNCTION vendors_profile_matches_type('venue');",
    "CREATE TRIGGER vendors_serviceprofile_type_matches BEFORE INSERT OR UPDATE OF vendor_id "
    "ON vendors_serviceprofile FOR EACH ROW "
    "EXECUTE FUNCTION vendors_profile_matches_type('service');",
    "CREATE TRIGGER vendors_vendor_type_locked BEFORE UPDATE OF vendor_type ON vendors_vendor "
    "FOR EACH ROW EXECUTE FUNCTION vendors_vendor_type_locked();",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS vendors_vendor_type_locked ON vendors_vendor;",
    "DROP TRIGGER IF EXISTS vendors_serviceprofile_type_matches ON vendors_serviceprofile;",
    "DROP TRIGGER IF EXISTS vendors_venueprofile_type_matches ON vendors_venueprofile;",
    "DROP FUNCTION IF EXISTS vendors_vendor_type_locked();",
    "DROP FUNCTION IF EXISTS vendors_profile_matches_type();",
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
        ("vendors", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
