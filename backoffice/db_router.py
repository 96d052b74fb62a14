"""The database router settings name: reads follow ``customer_ops.replica`` (the replica
inside ``read_replica()``, when configured), writes and migrations the primary.

The helpers themselves live in :mod:`customer_ops.replica`, which the apps import (no domain
app imports ``backoffice``); they are re-exported here for the project's own code.
"""

from __future__ import annotations

from customer_ops.replica import REPLICA, read_alias, read_connection, read_replica

__all__ = ["REPLICA", "ReplicaRouter", "read_alias", "read_connection", "read_replica"]


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two connections

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # "owner" is the same database as the owner role (customer_ops/db_roles.py): migrations run there.
        return db in {"default", "owner"}
