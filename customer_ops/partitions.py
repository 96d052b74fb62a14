"""Monthly range partitions for the append-only logs.

A log table is converted once, by a migration (:func:`convert_to_monthly`), into a table
``PARTITION BY RANGE (created_at)`` under the same name, with one partition per month
(``<table>_p2026_11``) and a default partition that catches anything outside them. A job
(``manage.py roll_partitions``, :func:`ensure_monthly`) keeps partitions created a few
months ahead, so the default partition stays empty.

What carries over from the plain table: columns, defaults and the identity sequence,
CHECK and foreign-key constraints, every index (as partitioned indexes), and the
write-rule triggers of django-pgtrigger (row triggers on a partitioned table are cloned to
every partition, present and future, so an UPDATE addressed to a partition directly is
refused too). What changes: the primary key is ``(id, created_at)``, because a unique
constraint on a partitioned table must contain the partition key. See docs/partitioning.md.

Django only needs ``id`` to address a row, and ``id`` stays unique by construction (one
identity sequence), so the models keep ``id`` as their primary key.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection as default_connection

DEFAULT_MONTHS_AHEAD = 3


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def is_partitioned(table: str, connection=default_connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partitions(table: str, connection=default_connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY 1",
            [table],
        )
        return [r[0] for r in cursor.fetchall()]


def ensure_monthly(
    table: str,
    *,
    through: dt.date | None = None,
    since: dt.date | None = None,
    months_ahead: int = DEFAULT_MONTHS_AHEAD,
    connection=default_connection,
) -> list[str]:
    """Create the missing monthly partitions from ``since`` (default: this month) to
    ``months_ahead`` months past ``through`` (default: today); returns the new names."""
    today = dt.datetime.now(dt.UTC).date()
    month = _month_start(since or today)
    last = _month_start(through or today)
    for _ in range(months_ahead):
        last = _next_month(last)
    existing = set(partitions(table, connection))
    created = []
    with connection.cursor() as cursor:
        while month <= last:
            name = partition_name(table, month)
            if name not in existing:
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') TO ('{_next_month(month).isoformat()} 00:00+00')"
                )
                created.append(name)
            month = _next_month(month)
    return created


def convert_to_monthly(table: str, *, column: str = "created_at", connection=default_connection) -> None:
    """Turn a plain table into a monthly-partitioned one under the same name, keeping its
    rows, constraints, indexes and triggers. Runs inside the migration's transaction."""
    if is_partitioned(table, connection):
        return
    old = f"{table}_unpartitioned"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
        cursor.execute(
            """
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype IN ('c', 'f') ORDER BY conname
            """,
            [old],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [old],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT tgname, pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger') FROM pg_trigger t
            WHERE tgrelid = %s::regclass AND NOT tgisinternal
            """,
            [old],
        )
        triggers = cursor.fetchall()
        cursor.execute(f"SELECT min({column}), max({column}) FROM {old}")
        first, last = cursor.fetchone()

        # Free the names (constraints, indexes) for the new table.
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE {old} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(f"ALTER TABLE {old} DROP CONSTRAINT {table}_pkey")

        cursor.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE) "
            f"PARTITION BY RANGE ({column})"
        )
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, {column})")
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(
                definition.replace(f" ON public.{old} ", f" ON public.{table} ").replace(f" ON {old} ", f" ON {table} ")
            )
        for name, definition, comment in triggers:
            cursor.execute(f'DROP TRIGGER "{name}" ON {old}')
            cursor.execute(
                definition.replace(f" ON public.{old} ", f" ON public.{table} ").replace(f" ON {old} ", f" ON {table} ")
            )
            if comment is not None:
                cursor.execute(f'COMMENT ON TRIGGER "{name}" ON {table} IS %s', [comment])

        cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    ensure_monthly(
        table,
        since=first.date() if first else None,
        through=max(last.date(), dt.datetime.now(dt.UTC).date()) if last else None,
        connection=connection,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, "
            "false)"
        )
        cursor.execute(f"DROP TABLE {old}")


def monthly_partitioning(*tables: str):
    """A migration operation converting ``tables`` with :func:`convert_to_monthly`.

    Irreversible in effect: going back leaves the tables partitioned (the previous
    migrations' schema operations work the same on them), and going forward again is a
    no-op because the conversion skips a table that is already partitioned.
    """
    from django.db import migrations

    def forward(apps, schema_editor):
        for table in tables:
            convert_to_monthly(table, connection=schema_editor.connection)

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)
