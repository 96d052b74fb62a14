"""Read-replica routing for the pages that tolerate replication lag.

Dashboards and analytics exports read pre-aggregated tables that jobs refresh daily, so a
replica a few seconds behind serves them as well as the primary and takes their heavy
scans off it. Everything else reads the primary: an agent must see the reply they just
sent. Code opts in explicitly with ``read_replica()``; when no ``replica`` database is
configured (``DATABASE_REPLICA_URL`` unset) it is a no-op.

The apps import these helpers from here (no domain app imports ``backoffice``); the router
that settings name, ``backoffice.db_router.ReplicaRouter``, reads :func:`read_alias` too.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("use_replica", default=False)


@contextlib.contextmanager
def read_replica() -> Iterator[None]:
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


def read_alias() -> str:
    """Where reads go now: the replica inside ``read_replica()`` (when configured), else the
    primary. For a queryset evaluated after the block has ended, e.g. a streamed export's,
    which must name its alias: ``queryset.using(read_alias())``."""
    if _use_replica.get() and getattr(settings, "READ_REPLICA_ENABLED", REPLICA in settings.DATABASES):
        return REPLICA
    return "default"


def read_connection():
    """The connection for raw SQL reads: ``read_connection().cursor()``. Routers only steer
    the ORM; a raw ``django.db.connection`` is always the primary's, even inside
    ``read_replica()``."""
    return connections[read_alias()]
