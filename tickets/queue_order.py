"""The SLA targets the database's queue triggers compute with: ``settings.SUPPORT_SLA``,
copied into ``tickets_sla_targets``.

The queue reads each open ticket's SLA due time from ``tickets_queue_order``, which triggers
keep (tickets/triggers.py, the SQL function ``tickets_queue_refresh`` of migration
0072_queue_order). The targets are settings, so the database needs its own copy; when the
copy changes, a statement trigger rewrites every open ticket's due time.

:func:`sync_sla_targets` writes the copy: after every ``migrate`` (post_migrate, so a deploy
that changes the settings rewrites the queue before it serves), and through
:func:`ensure_sla_targets`, which the queue's reads call: at most one query per process and
settings value (settings change with a restart), so a process started with new targets never
reads due times computed with the old ones.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from tickets.choices import Priority

TABLE = "tickets_sla_targets"
# One writer at a time (two processes starting with new settings): a transaction-level lock.
_LOCK_KEY = 0x51A7A26E7

Target = tuple[str, int, dt.timedelta, dt.timedelta]  # priority, rank, first response, resolution

_synced: dict[str, tuple[Target, ...]] = {}  # per database alias: the targets last found there


def wanted_targets() -> tuple[Target, ...]:
    """``settings.SUPPORT_SLA`` as rows; the rank is the queue's (higher is more urgent)."""
    rows = []
    for rank, priority in enumerate(Priority.values):
        target = settings.SUPPORT_SLA.get(priority)
        if target is None:
            # A ticket of this priority would have no due time and fall out of the queue's order.
            raise ImproperlyConfigured(f"SUPPORT_SLA has no targets for priority {priority}")
        rows.append(
            (
                priority,
                rank,
                dt.timedelta(minutes=target["first_response_minutes"]),
                dt.timedelta(minutes=target["resolution_minutes"]),
            )
        )
    return tuple(rows)


def sync_sla_targets(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Make ``tickets_sla_targets`` equal the settings; True when it changed (the triggers
    then rewrote every open ticket's due time in the same transaction)."""
    wanted = wanted_targets()
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        if _read(cursor) == wanted:
            _synced[using] = wanted
            return False
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        if _read(cursor) != wanted:
            cursor.execute(f"DELETE FROM {TABLE} WHERE NOT (priority = ANY(%s))", [[row[0] for row in wanted]])
            values = ", ".join(["(%s, %s, %s::interval, %s::interval)"] * len(wanted))
            cursor.execute(
                f"""
                INSERT INTO {TABLE} (priority, priority_rank, first_response, resolution) VALUES {values}
                ON CONFLICT (priority) DO UPDATE
                   SET priority_rank = EXCLUDED.priority_rank, first_response = EXCLUDED.first_response,
                       resolution = EXCLUDED.resolution
                 WHERE ({TABLE}.priority_rank, {TABLE}.first_response, {TABLE}.resolution)
                       IS DISTINCT FROM (EXCLUDED.priority_rank, EXCLUDED.first_response, EXCLUDED.resolution)
                """,
                [value for row in wanted for value in row],
            )
    _synced[using] = wanted
    return True


def ensure_sla_targets(using: str = DEFAULT_DB_ALIAS) -> None:
    """Sync once per process and settings value (no query after the first)."""
    if _synced.get(using) != wanted_targets():
        sync_sla_targets(using)


def rebuild_queue_order(using: str = DEFAULT_DB_ALIAS) -> None:
    """Recompute every open ticket's row: for loads that skip triggers (generate_data)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT public.tickets_queue_refresh(NULL)")


def _read(cursor) -> tuple[Target, ...]:
    cursor.execute(f"SELECT priority, priority_rank, first_response, resolution FROM {TABLE}")
    by_priority = {row[0]: tuple(row) for row in cursor.fetchall()}
    return tuple(by_priority.get(p) for p in Priority.values)


def _forget(*, setting, **kwargs) -> None:
    if setting == "SUPPORT_SLA":
        _synced.clear()  # a test's override (or its end): look at the database again


def on_post_migrate(*, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    if TABLE in connections[using].introspection.table_names():  # not before 0070, nor after its reversal
        sync_sla_targets(using)


setting_changed.connect(_forget)
