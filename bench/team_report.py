"""Benchmark: the lead's team report for a quarter (13 weeks) at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_workspace_100k DEBUG=true \\
        .venv/bin/python bench/team_report.py [--runs 5]

First runs the weekly job (``tickets.team_report.run_team_weekly``) over the last quarter
(timed: the daily job's cost when rebuilding a quarter), then times, after one warm-up,
``--runs`` times (medians in ms): the report's two reads (``report_rows``) and the whole
page through Django's test client as a lead (``bench_lead``, created if missing), and its
CSV export. Target: the page under 300 ms. Timings are not tests.
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
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.timing import median_ms  # noqa: E402
from customer_ops.dates import day_range  # noqa: E402
from customer_ops.roles import Role  # noqa: E402
from tickets import team_report  # noqa: E402
from tickets.models import AgentWeekly, Ticket  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--agents",
        type=int,
        default=0,
        help="first spread the resolved tickets' resolved_by over this many bench agents (generate_data "
        "leaves it empty; use on a copy of the database only)",
    )
    args = parser.parse_args()
    if args.agents:
        users = []
        for i in range(args.agents):
            user, _ = get_user_model().objects.get_or_create(username=f"bench_agent_{i}", defaults={"is_staff": True})
            user.groups.add(Group.objects.get(name=Role.AGENT.value))
            users.append(user.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customer_tickets SET resolved_by = (%s::int[])[1 + id %% %s] WHERE resolved_at IS NOT NULL",
                [users, len(users)],
            )
            print(f"resolved_by set on {cursor.rowcount} tickets")

    today = timezone.now().date()
    quarter = day_range(today - dt.timedelta(weeks=team_report.QUARTER_WEEKS), today)
    start = time.perf_counter()
    summary = team_report.run_team_weekly(quarter)
    print(f"job over a quarter: {(time.perf_counter() - start) * 1000:.0f} ms ({summary})")
    print(
        f"tickets: {Ticket.objects.count()}, resolved in the quarter: "
        f"{Ticket.objects.filter(resolved_at__date__gte=quarter.first).count()}, "
        f"agent-week rows: {AgentWeekly.objects.count()}"
    )

    week0 = team_report.monday(today) - dt.timedelta(weeks=team_report.QUARTER_WEEKS - 1)
    end = week0 + dt.timedelta(weeks=team_report.QUARTER_WEEKS)
    print(f"report_rows (quarter): {median_ms(lambda: team_report.report_rows(week0, end), args.runs):.1f} ms")

    lead, _ = get_user_model().objects.get_or_create(username="bench_lead", defaults={"is_staff": True})
    lead.groups.add(Group.objects.get(name=Role.LEAD.value))
    client = Client()
    client.force_login(lead)
    url = reverse("admin:tickets_ticket_team_report")
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    rows = len(response.context_data["agent_rows"]) + len(response.context_data["category_rows"])
    print(f"page: {median_ms(lambda: client.get(url), args.runs):.1f} ms, {rows} rows shown")
    print(f"CSV export: {median_ms(lambda: client.get(url + '?format=csv'), args.runs):.1f} ms")


if __name__ == "__main__":
    main()
