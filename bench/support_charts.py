"""Benchmark: the dashboard's support charts over a long range, pre-aggregated against live.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_scale_c DEBUG=true \\
        .venv/bin/python bench/support_charts.py [--days 365] [--runs 5] [--services ,FOOD] [--rebuild]

The range ends today and spans ``--days`` days. For each service choice (``""`` is all
services) it times, called directly: ``tickets.charts.tickets_per_day`` and
``tickets.charts.median_resolution_by_category`` (the tables ``run_daily_jobs`` keeps, plus
the last two days' tickets), the live SQL they replaced (every ticket of the range), and the
whole dashboard page for the range (a GET through Django's test client as a superuser, as
``bench/admin_pages.py`` measures it), with its query count. Each is run once to warm up,
then ``--runs`` times; medians in milliseconds. It checks that both ways give the same
figures. Target: the page under 300 ms.

``--rebuild`` first runs ``tickets.jobs.run_ticket_daily`` over the range (timed), for a
database loaded before the support tables existed. Otherwise it only reads (it creates the
``bench_superuser`` user if missing). Timings are not tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from analytics.filters import dashboard_filters  # noqa: E402
from analytics.jobs import day_range  # noqa: E402
from bench.timing import median_ms  # noqa: E402
from tickets import charts, jobs  # noqa: E402
from tickets.choices import IssueCategory  # noqa: E402

DASHBOARD = "/admin/analytics/dashboard/"

# What the charts computed before the support tables (kept here as the comparison).
LIVE_PER_DAY_SQL = """
    SELECT 'opened', (created_at AT TIME ZONE 'UTC')::date, count(*) FROM customer_tickets
     WHERE created_at >= %(start)s AND created_at < %(end)s AND (%(service)s = '' OR service_type = %(service)s)
     GROUP BY 2
    UNION ALL
    SELECT 'resolved', (resolved_at AT TIME ZONE 'UTC')::date, count(*) FROM customer_tickets
     WHERE resolved_at >= %(start)s AND resolved_at < %(end)s AND (%(service)s = '' OR service_type = %(service)s)
     GROUP BY 2
"""
LIVE_MEDIAN_SQL = """
    SELECT issue_category, percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_time_minutes)
    FROM customer_tickets
    WHERE resolved_at >= %(start)s AND resolved_at < %(end)s AND resolution_time_minutes IS NOT NULL
      AND (%(service)s = '' OR service_type = %(service)s)
    GROUP BY issue_category
"""


def live(sql: str, f: dict) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": f["start"], "end": f["end"], "service": f["service_type"]})
        return cursor.fetchall()


def live_medians(f: dict) -> list:
    medians = dict(live(LIVE_MEDIAN_SQL, f))
    return [round(medians[c], 1) if c in medians else None for c in IssueCategory.values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--services", default=",FOOD", help="comma-separated; empty means all services")
    parser.add_argument("--rebuild", action="store_true", help="run the support job over the range first")
    args = parser.parse_args()

    today = timezone.now().astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=args.days - 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customer_tickets WHERE resolved_at >= %s", [first])
        resolved = cursor.fetchone()[0]
    print(f"range {first} .. {today} ({args.days} days): {resolved} tickets resolved; {args.runs} runs")
    if args.rebuild:
        started = time.perf_counter()
        print(jobs.run_ticket_daily(day_range(first, today - dt.timedelta(days=1))))
        print(f"run_ticket_daily over the range: {time.perf_counter() - started:.1f} s")

    user, _ = get_user_model().objects.get_or_create(
        username="bench_superuser", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    print("| service | per day ms (live) | median ms (live) | page ms | page queries |")
    print("|---|---:|---:|---:|---:|")
    for service in args.services.split(","):
        query = QueryDict(mutable=True)
        query.update({"date_from": first.isoformat(), "date_to": today.isoformat(), "service_type": service})
        _, f = dashboard_filters(query)
        medians = charts.median_resolution_by_category(f)["datasets"][0]["data"]
        if medians != live_medians(f):
            sys.exit(f"medians differ: {medians} (tables) against {live_medians(f)} (live); rebuild the tables?")
        per_day = median_ms(lambda f=f: charts.tickets_per_day(f), args.runs)
        per_day_live = median_ms(lambda f=f: live(LIVE_PER_DAY_SQL, f), args.runs)
        median = median_ms(lambda f=f: charts.median_resolution_by_category(f), args.runs)
        median_live = median_ms(lambda f=f: live_medians(f), args.runs)
        url = f"{DASHBOARD}?{query.urlencode()}"
        page = median_ms(lambda url=url: client.get(url), args.runs)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        print(
            f"| {service or 'all'} | {per_day:.1f} ({per_day_live:.1f}) | {median:.1f} ({median_live:.1f}) "
            f"| {page:.1f} | {len(queries)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
