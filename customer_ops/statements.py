"""Querysets compiled once per process, run with each call's own value.

Building and compiling a queryset costs Python more than PostgreSQL takes to answer a small
indexed query; on a path every page takes (the home page's recent actions, a pending
erasure plan's 44 steps) the compiled SQL is kept. The queryset is built once with
:data:`STAND_IN` where the varying value goes; :func:`bound` swaps it for the call's own.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

# Not a primary key any table hands out (they are positive), so it never means a real row.
STAND_IN = -424242


def compiled(queryset: QuerySet) -> tuple[str, tuple]:
    """``queryset``'s SQL and parameters; it must have been built with :data:`STAND_IN`."""
    sql, params = queryset.query.sql_with_params()
    if not any(_is_stand_in(p) for p in params):
        raise ImproperlyConfigured(f"The stand-in value does not reach the statement: {sql[:120]}")
    return sql, params


def bound(params: tuple, value: int) -> list:
    """``params`` with every stand-in replaced by ``value``."""
    return [value if _is_stand_in(p) else p for p in params]


def _is_stand_in(param) -> bool:
    # int subclasses too: Django wraps a BigIntegerField's value in psycopg's Int8.
    return isinstance(param, int) and not isinstance(param, bool) and param == STAND_IN
