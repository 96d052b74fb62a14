import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from compliance.chain import verify


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the audit log and the staff access log (docs/audit_chain.md): "
        "prints OK and the rows checked (exit 0), or where each chain first breaks (exit 1). Read-only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias (default: the runtime role's, which may only read the chain).",
        )
        parser.add_argument(
            "--all", action="store_true", dest="every", help="List every broken place, not the first of each chain."
        )

    def handle(self, *args, database, every=False, **options):
        started = time.perf_counter()
        report = verify(connections[database], every=every)
        took = f"in {time.perf_counter() - started:.1f} s"
        if report.ok:
            self.stdout.write(f"OK: {report.summary()} {took}")
            return
        for problem in report.problems:
            self.stdout.write(f"BROKEN: {problem}")
        which = "" if every else ", the first of each chain or table (--all: every one)"
        raise CommandError(
            f"the audit chain is broken: {len(report.problems)} place(s) above{which} ({report.summary()} {took})",
            returncode=1,
        )
