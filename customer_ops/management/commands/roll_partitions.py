from django.db import connection, transaction

from customer_ops.partitions import DEFAULT_MONTHS_AHEAD, ensure_monthly
from customer_ops.scheduled import JobCommand


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Create the coming months' partitions of every monthly-partitioned log (run daily; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--months-ahead", type=int, default=DEFAULT_MONTHS_AHEAD)

    def handle(self, *args, months_ahead: int, **options):
        with connection.cursor() as cursor:
            cursor.execute("SELECT partrelid::regclass::text FROM pg_partitioned_table ORDER BY 1")
            tables = [r[0] for r in cursor.fetchall()]
        for table in tables:
            with transaction.atomic():
                created = ensure_monthly(table, months_ahead=months_ahead)
            self.stdout.write(f"{table}: {', '.join(created) if created else 'up to date'}")
