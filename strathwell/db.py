"""Database helpers shared by the apps: migrations' triggers, batched deletes."""

from django.db import migrations, transaction

_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION strathwell_reject_mutation() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % rejected', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def append_only_trigger(table: str) -> migrations.RunPython:
    """A migration operation that makes `table` append-only in PostgreSQL: a trigger rejects
    every UPDATE and DELETE, whoever issues it. A no-op on other databases.

    TRUNCATE is deliberately not blocked: it needs table ownership, and the test runner's flush
    between transactional tests uses it."""
    trigger = f"{table}_append_only"

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_FUNCTION_SQL, params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION strathwell_reject_mutation();"
        )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table};")

    return migrations.RunPython(forwards, backwards, elidable=False)


def advisory_xact_lock(name: str) -> None:
    """Hold a PostgreSQL advisory lock named `name` until the current transaction ends: for
    "check that nothing exists, then create it" flows with no row to lock. Call it inside
    `transaction.atomic()`. A no-op on other databases (SQLite serializes writers anyway)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def delete_in_batches(queryset, *, batch_size: int = 1000) -> int:
    """Delete the rows of `queryset` a batch at a time (each its own short transaction, so a
    purge never holds many row locks for long). Returns how many rows were deleted."""
    deleted = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            deleted += queryset.model._base_manager.filter(pk__in=pks).delete()[0]
