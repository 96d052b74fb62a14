r"""``manage.py run_daily_jobs [--date D | --from D --to D] [--all-customers]``

Runs every app's daily jobs, registered with ``customer_ops.registry.register_daily_job``, in their
order: analytics' (daily analytics, platform daily figures, ordering customers, service analytics,
orders summary, the dashboard's cohorts, referral lifecycle: ``analytics/jobs``), then the other
apps' pre-aggregations (the support figures), for one UTC day
(yesterday by default) or a range of days, with progress output. Every job is idempotent:
re-running a day, or overlapping ranges, is safe.

Cron (UTC), re-computing the last two days so that orders finished after midnight are
counted on the day they were placed::

    30 0 * * * cd /srv/backoffice && .venv/bin/python manage.py run_daily_jobs \
        --from "$(date -u -d '2 days ago' +\%F)" --to "$(date -u -d yesterday +\%F)"
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import CommandError
from django.utils import timezone

from customer_ops import registry
from customer_ops.dates import day_range
from customer_ops.scheduled import JobCommand


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Run the analytics jobs for one UTC day (default: yesterday) or a range of days."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_date, help="One UTC day, YYYY-MM-DD.")
        parser.add_argument("--from", dest="first", type=_date, help="First UTC day of a range.")
        parser.add_argument("--to", dest="last", type=_date, help="Last UTC day of a range (inclusive).")
        parser.add_argument(
            "--all-customers",
            action="store_true",
            help="Recompute service analytics and order summaries for every customer, not only those "
            "who ordered in the range.",
        )

    def handle(self, *args, date=None, first=None, last=None, all_customers=False, **options):
        if date and (first or last):
            raise CommandError("Give either --date or --from/--to, not both.")
        if bool(first) != bool(last):
            raise CommandError("--from and --to go together.")
        if date:
            first = last = date
        elif not first:
            first = last = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=1)
        try:
            days = day_range(first, last)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def progress(message: str) -> None:
            self.stdout.write(message)

        started = time.monotonic()
        for job in registry.daily_jobs.ordered():  # each app's, analytics' first (analytics/jobs)
            scope = None if all_customers and job.per_customer else days
            t0 = time.monotonic()
            progress(f"{job.label}: {days.first} .. {days.last} ...")
            result = job.run(scope)
            progress(self.style.SUCCESS(f"  {result} ({time.monotonic() - t0:.1f}s)"))
        progress(f"done in {time.monotonic() - started:.1f}s")
