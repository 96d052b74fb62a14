"""Monthly range partitions for the append-only logs.

A log table is converted once, by a migration (:func:`convert_to_monthly`), into a table
``PARTITION BY RANGE (created_at)`` under the same name, with one partition per month
(``<table>_p2026_11``) and a default partition that catches anything outside them. A job
(``manage.py roll_partitions``, :func:`roll`) keeps partitions created a few months ahead
and moves rows that arrived in the default partition into their month's new partition.

What carries over from the plain table: columns, defaults and the identity sequence,
CHECK and foreign-key constraints, every index (as partitioned indexes), and the
write-rule triggers of django-pgtrigger (row triggers on a partitioned table are cloned to
every partition, present and future, so an UPDATE addressed to a partition directly is
refused too; statement-level triggers, the append-only TRUNCATE trigger, are not cloned, so
every partition gets a copy when it is made). What changes: the primary key is ``(id, created_at)``, because a unique
constraint on a partitioned table must contain the partition key. See docs/partitioning.md.

Django only needs ``id`` to address a row, and ``id`` stays unique by construction (one
identity sequence), so the models keep ``id`` as their primary key.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection as default_connection

from customer_ops.context import current_viewer

logger = logging.getLogger(__name__)

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


# The one way a monthly partition is made, in the database so that the runtime role can
# call it without any DDL right of its own (SECURITY DEFINER: it runs as the owner that
# created it, with a fixed search_path so that no caller's schema can shadow what it uses).
#
# A row of a month without a partition lands in the default partition (a late event, a
# paused roll_partitions, a demo loaded before the months existed), and PostgreSQL then
# refuses to create that month's partition. So the function first moves that month's
# rows out of the default partition, in the caller's transaction: it deletes them from
# the default partition alone, with that partition's append-only DELETE trigger disabled
# for that one statement (as the owner: DDL, no setting a session could forge, and the
# partition is locked against writes meanwhile), creates the partition, inserts them
# back through the parent (they land in the new partition, ids and values unchanged) and
# fails if the counts differ. It also copies the parent's statement-level triggers (the
# append-only TRUNCATE trigger), which PostgreSQL does not clone to partitions.
# Returns the number of rows moved, or -1 when the partition already existed.
FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION backoffice_copy_statement_triggers(parent regclass, part regclass)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    t record;
    copied integer := 0;
BEGIN
    FOR t IN
        SELECT tgname, pg_get_triggerdef(oid) AS definition FROM pg_trigger
        WHERE tgrelid = parent AND NOT tgisinternal AND (tgtype & 1) = 0  -- statement level
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = part AND tgname = t.tgname) THEN
            -- Same name as the parent's, so that a test or an operator finds it by name.
            EXECUTE regexp_replace(t.definition, ' ON \S+ ', ' ON ' || part::text || ' ');
            copied := copied + 1;
        END IF;
    END LOOP;
    RETURN copied;
END
$fn$;

CREATE OR REPLACE FUNCTION backoffice_add_month_partition(parent regclass, month date)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    schema name;
    key name;
    default_part regclass;
    part text;
    low timestamptz;
    high timestamptz;
    trigger_name name;
    moved bigint := 0;
    inserted bigint := 0;
BEGIN
    SELECT a.attname, nullif(p.partdefid, 0)::regclass INTO key, default_part
    FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = parent AND p.partstrat = 'r' AND p.partnatts = 1;
    IF key IS NULL THEN
        RAISE EXCEPTION '%: not a table partitioned by range of one column', parent;
    END IF;
    month := date_trunc('month', month)::date;
    SELECT relnamespace::regnamespace::name, format('%s_p%s', relname, to_char(month, 'YYYY_MM'))
        INTO schema, part FROM pg_class WHERE oid = parent;
    IF to_regclass(format('%I.%I', schema, part)) IS NOT NULL THEN
        RETURN -1;
    END IF;
    low := month::timestamp AT TIME ZONE 'UTC';
    high := (month + interval '1 month')::timestamp AT TIME ZONE 'UTC';

    IF default_part IS NOT NULL THEN
        -- No row may reach the default partition while its month is being moved out.
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', default_part);
        EXECUTE format('CREATE TEMP TABLE backoffice_moving (LIKE %s) ON COMMIT DROP', parent);
        FOR trigger_name IN
            SELECT tgname FROM pg_trigger
            WHERE tgrelid = default_part AND (tgtype & 1) = 1 AND (tgtype & 8) = 8  -- row-level DELETE
        LOOP
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', default_part, trigger_name);
        END LOOP;
        EXECUTE format(
            'WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) '
            'INSERT INTO pg_temp.backoffice_moving SELECT * FROM moved',
            default_part, key, low, key, high
        );
        GET DIAGNOSTICS moved = ROW_COUNT;
        FOR trigger_name IN
            SELECT tgname FROM pg_trigger
            WHERE tgrelid = default_part AND (tgtype & 1) = 1 AND (tgtype & 8) = 8
        LOOP
            EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', default_part, trigger_name);
        END LOOP;
    END IF;

    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', schema, part, parent, low, high);
    PERFORM public.backoffice_copy_statement_triggers(parent, format('%I.%I', schema, part)::regclass);

    IF default_part IS NOT NULL THEN
        EXECUTE format('INSERT INTO %s SELECT * FROM pg_temp.backoffice_moving', parent);
        GET DIAGNOSTICS inserted = ROW_COUNT;
        DROP TABLE pg_temp.backoffice_moving;
        IF inserted <> moved THEN
            RAISE EXCEPTION '%: moved % rows out of the default partition but inserted %', part, moved, inserted;
        END IF;
    END IF;
    RETURN moved;
END
$fn$;

-- Only the roles the project grants it to (customer_ops.db_roles) may call it.
REVOKE ALL ON FUNCTION backoffice_add_month_partition(regclass, date) FROM PUBLIC;
"""


def install_functions(connection=default_connection) -> None:
    """(Re)create the SQL functions above; idempotent, run by the partitioning migrations."""
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS_SQL)


def sync_partition_triggers(table: str, connection=default_connection) -> int:
    """Copy ``table``'s statement-level triggers onto its existing partitions that lack them."""
    copied = 0
    with connection.cursor() as cursor:
        for part in partitions(table, connection):
            cursor.execute("SELECT backoffice_copy_statement_triggers(%s::regclass, %s::regclass)", [table, part])
            copied += cursor.fetchone()[0]
    return copied


def partitioned_tables(connection=default_connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT partrelid::regclass::text FROM pg_partitioned_table ORDER BY 1")
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
    ``months_ahead`` months past ``through`` (default: today), moving each month's rows
    out of the default partition first; returns the new partitions' names.

    Called by the partitioning migrations, ``roll_partitions``, ``generate_data`` and
    ``seed_demo``; never from a request (it refuses one), because the move passes the
    default partition's append-only trigger.
    """
    if current_viewer() is not None:
        raise RuntimeError("partitions are created by migrations and jobs, never from a request")
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
                cursor.execute("SELECT backoffice_add_month_partition(%s::regclass, %s)", [table, month])
                moved = cursor.fetchone()[0]
                if moved >= 0:
                    created.append(name)
                if moved > 0:
                    # Recorded: a non-empty default partition is an anomaly worth an alert.
                    logger.warning("%s: moved %d rows of %s out of %s_default", name, moved, month, table)
            month = _next_month(month)
    return created


def ensure_months_for(model, rows, *, column: str = "created_at", connection=default_connection) -> list[str]:
    """Before a bulk insert of ``rows`` (model instances) into a partitioned log: the
    partitions of exactly the months they fall in, so that none lands in the default
    partition. A no-op for a plain table. Used by the demo seeders."""
    table = model._meta.db_table
    if not is_partitioned(table, connection):
        return []
    months = sorted({getattr(row, column).astimezone(dt.UTC).date().replace(day=1) for row in rows})
    created = []
    for month in months:
        created += ensure_monthly(table, since=month, through=month, months_ahead=0, connection=connection)
    return created


def roll(table: str, *, months_ahead: int = DEFAULT_MONTHS_AHEAD, connection=default_connection) -> list[str]:
    """The daily job: this month to ``months_ahead`` ahead, plus each month that has rows
    waiting in the default partition (late events, a paused job, data loaded before its
    month existed): its partition is created and the rows moved into it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname, p.partdefid::regclass::text FROM pg_partitioned_table p
            JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
            WHERE p.partrelid = %s::regclass AND p.partdefid <> 0
            """,
            [table],
        )
        found = cursor.fetchone()
        waiting = []
        if found:
            key, default_part = found
            cursor.execute(
                f"SELECT DISTINCT date_trunc('month', \"{key}\" AT TIME ZONE 'UTC')::date FROM {default_part}"
            )
            waiting = sorted(r[0] for r in cursor.fetchall())
    created = []
    for month in waiting:
        created += ensure_monthly(table, since=month, through=month, months_ahead=0, connection=connection)
    return created + ensure_monthly(table, months_ahead=months_ahead, connection=connection)


def convert_to_monthly(table: str, *, column: str = "created_at", connection=default_connection) -> None:
    """Turn a plain table into a monthly-partitioned one under the same name, keeping its
    rows, constraints, indexes and triggers. Runs inside the migration's transaction."""
    if is_partitioned(table, connection):
        return
    install_functions(connection)
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
        cursor.execute(
            "SELECT backoffice_copy_statement_triggers(%s::regclass, %s::regclass)", [table, f"{table}_default"]
        )
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


def partition_upkeep():
    """A migration operation: (re)install the partition functions above and copy each
    partitioned table's statement-level triggers onto its partitions. Run it after an
    operation that adds such a trigger (PostgreSQL does not clone them); idempotent."""
    from django.db import migrations

    def forward(apps, schema_editor):
        install_functions(schema_editor.connection)
        for table in partitioned_tables(schema_editor.connection):
            sync_partition_triggers(table, schema_editor.connection)

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)
