"""Times in query results are parsed by psycopg's compiled loader (customer_ops/pg_loaders.py)
and come out as Django's own loader gives them: the same instant, aware, in ``datetime.UTC``."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format

from customer_ops.pg_loaders import TIMESTAMPTZ, UtcTimestampLoader

pytestmark = pytest.mark.django_db


def _values() -> list[dt.datetime]:
    rng = random.Random(20261207)
    edges = [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),  # a DST change in Europe
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    ]
    start = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
    return edges + [start + dt.timedelta(microseconds=rng.randrange(200 * 365 * 86400 * 10**6)) for _ in range(500)]


def _read(values, loader=None, zone="UTC"):
    """``values`` through PostgreSQL as timestamptz (and one array of them), read in a
    session of time zone ``zone`` with ``loader`` registered on the cursor."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL TIME ZONE '{zone}'")
        if loader is not None:
            cursor.adapters.register_loader(TIMESTAMPTZ, loader)
        cursor.execute("SELECT v, ARRAY[v, v] FROM unnest(%s::timestamptz[]) AS v", [values])
        return cursor.fetchall()


def test_connections_read_times_with_the_compiled_loader():
    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is UtcTimestampLoader
    with connection.cursor() as cursor:  # Django's create_cursor agrees with it: no loader of its own
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is UtcTimestampLoader


def test_times_are_what_djangos_loader_gives():
    values = _values()
    ours = _read(values)
    djangos = _read(values, loader=_djangos_loader())
    assert ours == djangos
    assert [v for v, _ in ours] == values
    assert all(v.tzinfo is dt.UTC and all(a.tzinfo is dt.UTC for a in array) for v, array in ours)


def _djangos_loader():
    """The loader Django registers for a UTC connection."""

    context = SimpleNamespace(adapters=AdaptersMap(psycopg.adapters))
    register_tzloader(dt.UTC, context)
    return context.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)


def test_a_session_in_another_time_zone_still_gives_the_instant_in_utc():
    values = _values()[2:60]  # not the extremes: a year-1 or year-9999 time in Kolkata is out of range
    for (value, array), expected in zip(_read(values, zone="Asia/Kolkata"), values, strict=True):
        assert value == expected and value.tzinfo is dt.UTC and array == [expected, expected]
