"""The worker's readiness check: exit 0 when a webhook worker's heartbeat is fresh.

procrastinate's workers write a heartbeat every 10 seconds (``procrastinate_workers``);
a worker that is up, connected and not wedged keeps it fresh. A container probe or a
supervisor runs ``manage.py worker_ready`` (exit 1 and the reason otherwise). The web
process's own probes are /health/ready (backoffice/health.py).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection


class Command(BaseCommand):
    help = "Exit 0 when a webhook worker's heartbeat is fresh (readiness probe of `make worker`)."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=float, default=30.0, help="Seconds a heartbeat stays fresh (30).")

    def handle(self, *args, max_age: float, **options):
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM procrastinate_workers"
                    " WHERE last_heartbeat > now() - make_interval(secs => %s)",
                    [max_age],
                )
                (fresh,) = cursor.fetchone()
        except DatabaseError as error:
            raise CommandError(f"Not ready: the database cannot be read ({error.__class__.__name__}).") from None
        if not fresh:
            raise CommandError(f"Not ready: no worker heartbeat in the last {max_age:g} seconds.")
        self.stdout.write(f"Ready: {fresh} worker(s) with a fresh heartbeat.")
