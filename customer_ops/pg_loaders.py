"""Times read from PostgreSQL by psycopg's compiled parser instead of Django's Python one.

Django registers its own ``timestamptz`` loader on every connection (``BaseTzLoader``, a
subclass of psycopg's pure-Python loader, so psycopg cannot swap in its C version): each
time in each row is parsed by a regular expression in Python, about 5 µs. The ticket queue
reads several per row; that was 6% of its CPU. :class:`UtcTimestampLoader` hands the text
to psycopg's own loader (the C one with psycopg-binary) and gives what Django's gives:
the instant, aware, in ``datetime.UTC``.

It is registered on each new connection whose Django time zone is UTC (``USE_TZ`` with no
database ``TIME_ZONE``: this project's); any other keeps Django's. It carries Django's
``timezone`` attribute, so ``create_cursor``'s check finds the connection agrees and does
not register Django's loader again per cursor. ``tests/customer_ops/test_pg_loaders.py``
compares the two loaders' values.
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format

TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# The best loader psycopg has for the type: the C one where psycopg-binary (or -c) is installed.
_FAST = psycopg.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)


class UtcTimestampLoader(Loader):
    timezone = dt.UTC  # what Django's create_cursor compares with the connection's time zone

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = _FAST(oid, context).load

    def load(self, data):
        value = self._load(data)
        # psycopg gives the session's zone (Django sets it to UTC); any other is converted.
        return value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)


def register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the fast loader where Django's time zone is UTC."""
    if connection.vendor == "postgresql" and connection.timezone is dt.UTC:
        connection.connection.adapters.register_loader(TIMESTAMPTZ, UtcTimestampLoader)
