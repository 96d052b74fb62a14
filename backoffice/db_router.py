"""Read-replica routing for the pages that tolerate replication lag.

Dashboards and analytics exports read pre-aggregated tables that jobs refresh daily, so a
replica a few seconds behind serves them as well as the primary and takes their heavy
scans off it. Everything else reads the primary: an agent must see the reply they just
sent. Code opts in explicitly with ``read_replica()``; when no ``replica`` database is
configured (``DATABASE_REPLICA_URL`` unset) it is a no-op.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.conf import settings

REPLICA = "replica"
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("use_replica", default=False)


@contextlib.contextmanager
def read_replica() -> Iterator[None]:
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _use_replica.get() and getattr(settings, "READ_REPLICA_ENABLED", REPLICA in settings.DATABASES):
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two connections

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # "owner" is the same database as the owner role (customer_ops/db_roles.py): migrations run there.
        return db in {"default", "owner"}
