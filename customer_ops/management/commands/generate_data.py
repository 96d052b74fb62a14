import datetime as dt
import time

from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customer_ops.datagen import Generator
from customer_ops.db_roles import OWNER


class Command(BaseCommand):
    help = "Fill every table with realistic data at scale through PostgreSQL COPY (benchmarks, load tests)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--days", type=int, default=90, help="Spread the rows over this many past days.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--skip-aggregates", action="store_true", help="Do not run the analytics jobs after.")

    def handle(self, *args, customers: int, days: int, seed: int, skip_aggregates: bool, **options):
        if customers < 1 or days < 1:
            raise CommandError("--customers and --days must be positive")
        started = time.perf_counter()
        generator = Generator(customers=customers, days=days, seed=seed, write=self.stdout.write)
        with transaction.atomic(using=OWNER):  # a bulk load is DDL too: see customer_ops/datagen.py
            counts = generator.run()
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        self.stdout.write(self.style.SUCCESS(f"{total:,} rows in {elapsed:.1f} s: {total / elapsed:,.0f} rows/s"))
        if not skip_aggregates and "run_daily_jobs" in get_commands():
            from django.core.management import call_command

            self.stdout.write("Computing the pre-aggregated analytics tables ...")
            last_day = generator.end.date() - dt.timedelta(days=1)
            call_command(
                "run_daily_jobs",
                "--from",
                generator.start.date().isoformat(),
                "--to",
                last_day.isoformat(),
                "--all-customers",
                stdout=self.stdout,
            )
