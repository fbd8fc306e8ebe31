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


def insert_ignore_conflicts(objs: list, *, returning: str = "pk") -> list:
    """INSERT these unsaved model instances in ONE statement, skipping any row that conflicts
    with a unique constraint (`ON CONFLICT DO NOTHING`), and return the `returning` column of
    the rows actually inserted (`RETURNING`; PostgreSQL and SQLite ≥ 3.35). Unlike
    `bulk_create(ignore_conflicts=True)` the caller learns which rows are new, without a
    savepoint or a second SELECT. Fields' `pre_save` runs as in `save()` (auto_now_add…); a
    database-generated primary key (AutoField) is left to the database."""
    from django.db import connection

    objs = list(objs)
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    fields = [
        f for f in meta.concrete_fields if not (f.primary_key and getattr(f, "db_returning", False))
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = []
    for obj in objs:
        params += [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    target = meta.pk if returning == "pk" else meta.get_field(returning)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "
        f"VALUES {', '.join([row_sql] * len(objs))} ON CONFLICT DO NOTHING "
        f"RETURNING {connection.ops.quote_name(target.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [target.to_python(row[0]) for row in cursor.fetchall()]
