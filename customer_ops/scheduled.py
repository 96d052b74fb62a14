"""Scheduled jobs never work twice at once: one PostgreSQL advisory lock per job.

Every command that the cron schedule (``deploy/crontab``) calls is a :class:`JobCommand`.
Before it does anything it asks PostgreSQL for the advisory lock named after the job
(``pg_try_advisory_lock``, never waiting). A copy that finds it taken, because the previous
run is still going (a slow night, a re-run by hand, a second scheduler host), says so and
exits 0: overlapping is expected, not an error, and the running copy does the work.

The lock is session-level, held on the job's database connection for the whole run: jobs
commit many transactions (per batch, per chunk, per analytics job), and a transaction-level
lock would end with the first. PostgreSQL releases it when the session ends, so a killed
job never leaves it behind. It needs a session of its own: behind a transaction-mode pooler
(``DATABASE_POOLER``, PgBouncer) the lock would stay on a server connection that the pooler
then lends to other clients (a later run there would find it free, every other run taken),
so the lock is held on ``DATABASE_DIRECT_URL``'s connection, which bypasses the pooler,
while the job's own transactions go through it.

``tests/customer_ops/test_scheduled.py`` runs two copies of every job in the cron file at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

# One 64-bit lock key per job, from its name; the prefix keeps clear of other advisory-lock users.
LOCK_KEY_SQL = "hashtextextended('backoffice scheduled job: ' || %s, 0)"


DIRECT = "direct"  # the DATABASES alias of DATABASE_DIRECT_URL (backoffice/settings.py)


def lock_alias() -> str:
    """The connection that holds the jobs' locks: the default one, or behind a
    transaction-mode pooler the direct one."""
    if not getattr(settings, "DATABASE_POOLER", None):
        return DEFAULT_DB_ALIAS
    if DIRECT not in settings.DATABASES:
        raise CommandError(
            "DATABASE_POOLER is set: the scheduled jobs hold a session-level lock, which needs "
            "DATABASE_DIRECT_URL, a connection to PostgreSQL that bypasses the pooler."
        )
    return DIRECT


@contextmanager
def job_lock(name: str, *, using: str | None = None) -> Iterator[bool]:
    """``with job_lock("unblock_expired") as acquired:`` -- ``acquired`` is False when
    another session holds the job's lock; it is released when the block ends."""
    connection = connections[using or lock_alias()]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL})", [name])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})", [name])
            except Exception:  # a broken connection: its session, and so the lock, is gone already
                logger.warning("could not release the lock of job %s", name, exc_info=True)


def _set_statement_timeout(connection) -> None:
    """A job's own statement timeout (``JOB_STATEMENT_TIMEOUT``, ms) on its session, whatever
    the web's is; not through a pooler, where a session setting would reach its next client."""
    if settings.DATABASE_POOLER:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(int(settings.JOB_STATEMENT_TIMEOUT))])


class JobCommand(BaseCommand):
    """Base class of the scheduled jobs' management commands: ``handle()`` runs only in the
    copy that holds the job's advisory lock."""

    @classmethod
    def job_name(cls) -> str:
        return cls.__module__.rsplit(".", 1)[-1]  # the command's name, as cron calls it

    def execute(self, *args, **options):
        if options.get("stdout"):  # as BaseCommand.execute does, so call_command(stdout=...) gets the notice
            self.stdout = OutputWrapper(options["stdout"])
        name = self.job_name()
        _set_statement_timeout(connections[DEFAULT_DB_ALIAS])
        with job_lock(name) as acquired:
            if not acquired:
                self.stdout.write(f"{name} is already running (its advisory lock is held): this copy did nothing.")
                return ""
            return super().execute(*args, **options)
