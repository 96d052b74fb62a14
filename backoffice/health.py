"""Liveness and readiness probes for the load balancer or orchestrator.

- ``GET /healthz``: the process answers (no database access): restart it if this fails.
- ``GET /readyz``: the database answers and no migration is unapplied: send it traffic only
  while this answers 200.

Both answer ``ok`` (200) or ``not ok`` (503) as plain text and nothing else: no versions,
no error text (the reason goes to the log). They need no sign-in.

They are answered by the first middleware, before ``SecurityMiddleware`` and Django's
``ALLOWED_HOSTS`` check, for exactly these two paths and GET/HEAD:

- a probe talks plain HTTP to the process (``http://10.0.3.7:8000/readyz``), behind the
  TLS proxy: the HTTPS redirect would answer it 301 instead of its health;
- its ``Host`` is the instance's address, which is not known when ``ALLOWED_HOSTS`` is
  written. The host check protects URLs built from the ``Host`` header (password-reset
  links, absolute redirects); these answers are constant and build none.

Cost: after the first success, a ready check is one ``SELECT 1``. Migrations are compared
(the migration graph's leaf nodes against the ``django_migrations`` rows, as
``migrate --check`` does) only until they first match: this process's code cannot gain a
migration later, and production never unapplies one.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse

logger = logging.getLogger(__name__)

PROBES = {"/healthz", "/readyz"}

_migrations_checked: set[str] = set()  # aliases whose migrations were all applied once


def database_ready(connection: BaseDatabaseWrapper) -> bool:
    """The database answers, and (until first seen so) has every migration applied."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if connection.alias not in _migrations_checked:
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                logger.warning("readyz: unapplied migrations on %r", connection.alias)
                return False
            _migrations_checked.add(connection.alias)
        return True
    except Exception:  # any failure means "not ready"; the probe itself must never 500
        logger.warning("readyz: database %r not ready", connection.alias, exc_info=True)
        return False


def _answer(ok: bool) -> HttpResponse:
    response = HttpResponse(b"ok\n" if ok else b"not ok\n", status=200 if ok else 503, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in PROBES and request.method in ("GET", "HEAD"):
            if request.path_info == "/healthz":
                return _answer(True)
            return _answer(database_ready(connections[DEFAULT_DB_ALIAS]))
        return self.get_response(request)
