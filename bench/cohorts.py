"""Benchmark: the dashboard's cohort figures for the widest cohorts the data has.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_scale_c DEBUG=true \\
        .venv/bin/python bench/cohorts.py [--days 90] [--runs 5] [--services ,FOOD] [--timeout 300]

The range starts at the data's first day (``min(first_order_at)``), so every customer who
ordered in its ``--days`` days is in a cohort: the worst case for the cohort matrix and
for referred versus organic. For each service choice (``""`` is all services) it times
``dashboard.cohort_retention`` and ``dashboard.referred_vs_organic`` called directly, then
the whole dashboard page for the same range (a GET through Django's test client as a
superuser, as ``bench/admin_pages.py`` measures it). Each is run once to warm up, then
``--runs`` times; medians in milliseconds. Target: the page under 300 ms. A query that
runs longer than ``--timeout`` seconds is cancelled and reported as such (the live queries
this replaced took minutes at 100,000 customers).

It reads only (it creates the ``bench_superuser`` user if missing). Timings are not tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402

from analytics import dashboard  # noqa: E402
from analytics.filters import dashboard_filters  # noqa: E402
from bench.timing import median_ms  # noqa: E402

DASHBOARD = "/admin/analytics/dashboard/"


def get(client: Client, url: str) -> None:
    assert client.get(url).status_code == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--services", default=",FOOD", help="comma-separated; empty means all services")
    parser.add_argument("--timeout", type=int, default=300, help="seconds before a query is cancelled")
    args = parser.parse_args()

    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{args.timeout}s'")
        cursor.execute(
            "SELECT (min(first_order_at) AT TIME ZONE 'UTC')::date, count(DISTINCT customer_id) "
            "FROM customer_service_analytics"
        )
        first, customers = cursor.fetchone()
    if first is None:
        sys.exit("customer_service_analytics is empty: generate data and run the jobs first.")
    last = first + dt.timedelta(days=args.days - 1)
    print(f"{customers} customers with orders; range {first} .. {last} ({args.days} days); {args.runs} runs")

    user, _ = get_user_model().objects.get_or_create(
        username="bench_superuser", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    print("| service | cohort customers | cohort_retention ms | referred_vs_organic ms | page ms |")
    print("|---|---:|---:|---:|---:|")
    for service in args.services.split(","):
        query = QueryDict(mutable=True)
        query.update({"date_from": first.isoformat(), "date_to": last.isoformat(), "service_type": service})
        _, f = dashboard_filters(query)
        retention = median_ms(lambda f=f: dashboard.cohort_retention(f), args.runs)
        size = sum(row["size"] for row in dashboard.cohort_retention(f)["rows"]) if retention < math.inf else "?"
        comparison = median_ms(lambda f=f: dashboard.referred_vs_organic(f), args.runs)
        url = f"{DASHBOARD}?{query.urlencode()}"
        page = median_ms(lambda url=url: get(client, url), args.runs) if comparison < math.inf else math.inf
        figures = [f"{ms:.1f}" if ms < math.inf else f"> {args.timeout} s" for ms in (retention, comparison, page)]
        print(f"| {service or 'all'} | {size} | {' | '.join(figures)} |", flush=True)
    print(f"page URL: {DASHBOARD}?date_from={first}&date_to={last}&service_type=")


if __name__ == "__main__":
    main()
