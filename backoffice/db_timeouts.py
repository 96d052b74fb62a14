"""Statement timeouts: web requests get a short one; jobs set their own; migrations none.

A web request waits on its query while a person waits on the page: a statement running
past ``DATABASE_STATEMENT_TIMEOUT`` (ms, default 15,000) is cancelled by PostgreSQL and
the request fails, instead of holding a worker thread and a connection. The web process
(``backoffice/wsgi.py``, so gunicorn and runserver) asks for it as a startup option of its
connections, which costs no query. Jobs (``customer_ops.scheduled.JobCommand``) set
``JOB_STATEMENT_TIMEOUT`` (default one hour) on their session; migrations (the owner
alias) and the other commands have none.

Behind a transaction-mode pooler no startup option may be sent (and a ``SET`` would leak
to the pooler's next client): set the pooler's ``query_timeout`` or the runtime role's
default (``ALTER ROLE ... SET statement_timeout``) instead (docs/scaling.md).
"""

from __future__ import annotations

from django.conf import settings

WEB_ALIASES = ("default", "replica")


def apply_web_statement_timeout(databases: dict | None = None) -> None:
    """Add the web's statement timeout to the web's connections (before any is opened)."""
    if settings.DATABASE_POOLER:
        return
    databases = settings.DATABASES if databases is None else databases
    timeout = int(settings.DATABASE_STATEMENT_TIMEOUT)
    for alias in WEB_ALIASES:
        if alias in databases:
            options = databases[alias].setdefault("OPTIONS", {})
            existing = options.get("options", "")
            if "statement_timeout=" not in existing:  # idempotent
                options["options"] = f"{existing} -c statement_timeout={timeout}".strip()
