"""Tables of counts kept by statement-level triggers, the pattern of
``analytics/0069_platform_hourly`` (``analytics_platform_hourly`` on orders), in one place.

A counter table ``<table>`` holds figures derived from a ``<source>`` table. Per event
(INSERT, UPDATE, DELETE) a plpgsql function ``public.<table>_<event>()`` runs the statements
the migration gives for that event, reading the statement's transition tables ``new_rows``
and ``old_rows``. It adds the statement's net change once per key, so the figures equal a
plain count of the source at every commit. A TRUNCATE of the source empties the table, and
``public.<table>_rebuild()`` recomputes it from the source under a SHARE ROW EXCLUSIVE lock
(once when the migration runs, and after loads that skip triggers: :func:`rebuild`).

The functions fix their ``search_path`` so that nothing a session creates (a TEMP table)
can stand in for what they read. Used by the migrations that create the tables
(``fraud/0017``, ``tickets/0073``, ``tickets/0075``): a change here changes what those
migrations create on a new database, so give an existing table a new migration instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections, migrations

EVENTS = ("insert", "update", "delete")
_REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def changed(event: str, columns: str, where: str = "true") -> str:
    """The statement's changed rows that satisfy ``where``: ``columns`` and ``sign``, +1 for
    a row as it is now (``new_rows``), -1 as it was (``old_rows``)."""
    parts = []
    if event != "delete":
        parts.append(f"SELECT {columns}, 1 AS sign FROM new_rows WHERE {where}")
    if event != "insert":
        parts.append(f"SELECT {columns}, -1 AS sign FROM old_rows WHERE {where}")
    return " UNION ALL ".join(parts)


def operations(table: str, source: str, *, statements: Callable[[str], str], fill: str) -> list[migrations.RunSQL]:
    """The migration operations that keep ``table`` from ``source``: ``statements(event)`` is
    the body of the event's function; ``fill`` the INSERT that fills the emptied table from
    ``source`` (the rebuild)."""
    ops = [
        migrations.RunSQL(
            f"""
CREATE FUNCTION public.{table}_{event}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    {statements(event)}
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_{event} AFTER {event.upper()} ON public.{source}
    REFERENCING {_REFERENCING[event]}
    FOR EACH STATEMENT EXECUTE FUNCTION public.{table}_{event}();
""",
            f"DROP TRIGGER {table}_{event} ON public.{source}; DROP FUNCTION public.{table}_{event}();",
        )
        for event in EVENTS
    ]
    ops.append(
        migrations.RunSQL(
            f"""
CREATE FUNCTION public.{table}_rebuild() RETURNS void
LANGUAGE sql SET search_path = pg_catalog, public, pg_temp AS $$
    LOCK TABLE public.{source} IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM public.{table};
    {fill};
$$;
CREATE FUNCTION public.{table}_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    DELETE FROM public.{table};
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_truncate AFTER TRUNCATE ON public.{source}
    FOR EACH STATEMENT EXECUTE FUNCTION public.{table}_truncate();
SELECT public.{table}_rebuild();
""",
            f"""
DROP TRIGGER {table}_truncate ON public.{source};
DROP FUNCTION public.{table}_truncate();
DROP FUNCTION public.{table}_rebuild();
""",
        )
    )
    return ops


def rebuild(table: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Recompute ``table`` from its source: for loads that skip triggers (generate_data)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT public.{table}_rebuild()")
