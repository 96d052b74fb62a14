from django.core.management.base import CommandError

from customer_ops.models import Customer
from customer_ops.scheduled import JobCommand
from fraud.jobs import recalculate_trust_scores


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Recompute customer_trust_score (set-based SQL upsert) for every customer or the given ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--customer", type=int, action="append", dest="customers", metavar="ID", help="Only this customer (repeat)."
        )
        parser.add_argument("--batch-size", type=int, default=None, help="Customers per statement.")

    def handle(self, *args, customers=None, batch_size=None, **options):
        if customers:
            known = set(Customer.objects.filter(pk__in=customers).values_list("pk", flat=True))
            missing = sorted(set(customers) - known)
            if missing:
                raise CommandError(f"No such customer: {', '.join(map(str, missing))}")

        def progress(done: int, total: int, seconds: float) -> None:
            self.stdout.write(f"  {done}/{total} customers scored ({seconds:.2f}s)")

        result = recalculate_trust_scores(customers, batch_size=batch_size, progress=progress)
        rate = result.customers / result.seconds if result.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.customers} trust scores recalculated in {result.seconds:.2f}s ({rate:,.0f} rows/s); "
                f"{result.history_rows} moved, {len(result.risk_changes)} risk-level changes."
            )
        )
