from django.db import transaction

from customer_ops.partitions import DEFAULT_MONTHS_AHEAD, partitioned_tables, roll
from customer_ops.scheduled import JobCommand


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = (
        "Create the coming months' partitions of every monthly-partitioned log, and those of any month whose "
        "rows arrived in the default partition, moving the rows there (daily; idempotent; as the runtime role)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months-ahead", type=int, default=DEFAULT_MONTHS_AHEAD)

    def handle(self, *args, months_ahead: int, **options):
        for table in partitioned_tables():
            with transaction.atomic():
                created = roll(table, months_ahead=months_ahead)
            self.stdout.write(f"{table}: {', '.join(created) if created else 'up to date'}")
