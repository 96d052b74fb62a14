"""The support console's ticket queue at scale: every one-click view, a filter and a search,
as an agent and as a lead, at 100 rows per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_scale_a DEBUG=true \\
        .venv/bin/python bench/queue_scale.py [--runs 7] [--explain]

Server time of a GET through Django's test client (one warm-up request, then ``--runs``);
prints page, role, queries of the last request, median and p95 ms. ``--explain`` prints
EXPLAIN (ANALYZE, BUFFERS) of the default view's two page queries (ids in queue order, then
the page's rows). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.admin_pages import bench_user  # noqa: E402
from tickets import selectors  # noqa: E402
from tickets.admin.tickets import TicketAdmin  # noqa: E402

QUERIES = [
    "",
    "?queue=mine",
    "?queue=unassigned",
    "?queue=open",
    "?queue=breached",
    "?queue=escalated",
    "?queue=follow_up",
    "?priority__exact=HIGH",
    "?status__exact=OPEN&priority__exact=CRITICAL",
    "?q=TKT-00099699",
    "?q=refund",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--roles", default="agent,lead")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    TicketAdmin.list_per_page = 100
    url = reverse("admin:tickets_ticket_changelist")
    if args.explain:
        # What the admin runs for a page: the ids in queue order (QueuePaginator), then the rows.
        ordered = selectors.ticket_queue().order_by(*selectors.queue_ordering())
        ids = list(ordered.values_list("pk", flat=True)[:100])
        for qs in (ordered.values_list("pk", flat=True)[:100], ordered.order_by().filter(pk__in=ids)):
            sql, params = qs.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print("\n".join(row[0] for row in cursor.fetchall()), end="\n\n")
    print(f"{'page':<48} {'role':<14} {'queries':>7} {'median':>8} {'p95':>8}")
    with override_settings(ALLOWED_HOSTS=["*"]):
        for role in args.roles.split(","):
            client = Client()
            client.force_login(bench_user(role))
            for query in QUERIES:
                client.get(url + query)
                times = []
                for _ in range(args.runs):
                    with CaptureQueriesContext(connection) as captured:
                        start = time.perf_counter()
                        response = client.get(url + query)
                        times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (query, response.status_code)
                ordered = sorted(times)
                p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
                print(
                    f"{'queue' + query:<48} {role:<14} {len(captured):>7} {statistics.median(times):>8.0f} {p95:>8.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
