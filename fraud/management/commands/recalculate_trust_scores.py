from django.core.management.base import CommandError

from customer_ops.models import Customer
from customer_ops.scheduled import JobCommand
from fraud.jobs import recalculate_changed_trust_scores, recalculate_trust_scores, run_requested_recalculation


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = (
        "Recompute customer_trust_score (set-based SQL upsert) for every customer or the given ones. "
        "A full run also serves the full recalculations requested on the trust-score page; with "
        "--requested it runs only if one is waiting (cron every few minutes); with --changed only the "
        "customers whose inputs changed since the last run are rescored (cron hourly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customer", type=int, action="append", dest="customers", metavar="ID", help="Only this customer (repeat)."
        )
        parser.add_argument("--batch-size", type=int, default=None, help="Customers per statement.")
        parser.add_argument(
            "--requested", action="store_true", help="Full run only if one was requested on the trust-score page."
        )
        parser.add_argument(
            "--changed", action="store_true", help="Only the customers whose inputs changed since the last run."
        )

    def handle(self, *args, customers=None, batch_size=None, requested=False, changed=False, **options):
        if sum(map(bool, (customers, requested, changed))) > 1:
            raise CommandError("--customer, --requested and --changed do not go together.")
        if customers:
            known = set(Customer.objects.filter(pk__in=customers).values_list("pk", flat=True))
            missing = sorted(set(customers) - known)
            if missing:
                raise CommandError(f"No such customer: {', '.join(map(str, missing))}")

        def progress(done: int, total: int, seconds: float) -> None:
            self.stdout.write(f"  {done}/{total} customers scored ({seconds:.2f}s)")

        if customers:
            result = recalculate_trust_scores(customers, batch_size=batch_size, progress=progress)
        elif changed:
            result = recalculate_changed_trust_scores(batch_size=batch_size, progress=progress)
        else:
            result = run_requested_recalculation(only_if_requested=requested, batch_size=batch_size, progress=progress)
            if result is None:
                self.stdout.write("No full recalculation requested.")
                return
        rate = result.customers / result.seconds if result.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.customers} trust scores recalculated in {result.seconds:.2f}s ({rate:,.0f} rows/s); "
                f"{result.history_rows} moved, {len(result.risk_changes)} risk-level changes."
            )
        )
