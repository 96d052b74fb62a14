r"""``manage.py run_daily_jobs [--date D | --from D --to D] [--all-customers]``

Runs the analytics jobs (daily analytics, platform daily figures, ordering customers, service analytics,
orders summary, the dashboard's cohorts, referral lifecycle), then the other apps' pre-aggregations
registered with ``customer_ops.registry.register_daily_job`` (the support figures), for one UTC day
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

from analytics import jobs
from customer_ops import registry
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
            days = jobs.day_range(first, last)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def progress(message: str) -> None:
            self.stdout.write(message)

        started = time.monotonic()
        scope = None if all_customers else days
        for label, job in [
            ("daily analytics", lambda: jobs.run_daily_analytics(days)),
            ("platform daily", lambda: jobs.run_platform_daily(days)),
            ("ordering customers", lambda: jobs.run_ordering_customers(days)),
            ("service analytics", lambda: jobs.run_service_analytics(scope)),
            ("orders summary", lambda: jobs.run_orders_summary(scope)),
            # after daily and service analytics, which it reads
            ("cohorts", lambda: jobs.run_cohorts(days)),
            ("referrals", lambda: jobs.run_referrals()),
            *[(job.label, lambda job=job: job.run(days)) for job in registry.daily_jobs.ordered()],
        ]:
            t0 = time.monotonic()
            progress(f"{label}: {days.first} .. {days.last} ...")
            result = job()
            progress(self.style.SUCCESS(f"  {result} ({time.monotonic() - t0:.1f}s)"))
        progress(f"done in {time.monotonic() - started:.1f}s")
