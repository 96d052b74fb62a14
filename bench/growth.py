"""How each role's main pages grow with the data: 30,000, 100,000 and 300,000 customers.

    DEBUG=true .venv/bin/python bench/growth.py [--sizes 30000,100000,300000] [--runs 5] \\
        [--server postgres://postgres@127.0.0.1:5432] [--prefix growth_] [--regenerate] [--prepare-only] [--pages TEXT]

For each size the script uses the database ``<prefix><size>`` on ``--server`` (a superuser
URL: it creates what is missing): created, migrated and filled with
``manage.py generate_data --customers <size>`` (90 days, pre-aggregates included) unless it
already holds that many customers; ``--regenerate`` drops and rebuilds them. The demo logins
are created in each (``customer_ops.demo.ensure_staff``). Never point it at a database you
care about.

What is timed: the server time of a GET (the export: a POST, its zip read to the end)
through Django's test client as the role that uses the page, development settings. Page by
page, the sizes are measured one after the other (a warm-up, then ``--runs`` timed
requests each), so that the machine's load at that moment weighs on every size alike.
The samples are picked at the same relative place at every size (the customer, ticket,
dispute ... in the middle of the id range).

The table shows each size's median ms, the queries of the last request, and the growth:
median at the largest size / median at the smallest. Goal (issue 16): growth < 1.5x and
every median < 300 ms at the largest size. Timings are not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

TARGET_MS = 300
TARGET_GROWTH = 1.5
PASSWORD = "growth-bench-password-1"


# --- the databases -----------------------------------------------------------------------


def _psql(server: str, sql: str) -> str:
    out = subprocess.run(["psql", f"{server}/postgres", "-Atc", sql], check=True, capture_output=True, text=True).stdout
    return out.strip()


def _customers(url: str) -> int:
    try:
        out = subprocess.run(
            ["psql", url, "-Atc", "SELECT count(*) FROM customers"], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError:
        return 0
    return int(out.stdout.strip() or 0)


def prepare(server: str, name: str, size: int, regenerate: bool) -> dict:
    """Create, migrate and fill ``name`` with ``size`` customers; the load's figures."""
    url = f"{server}/{name}"
    exists = _psql(server, f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    if exists and not regenerate and _customers(url) >= size:
        print(f"{name}: {size:,} customers already there")
        return {}
    if exists:
        _psql(server, f'DROP DATABASE "{name}" WITH (FORCE)')
    _psql(server, f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    result = subprocess.run(
        [python, "manage.py", "generate_data", "--customers", str(size)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    summary = [line for line in result.stdout.splitlines() if "rows in" in line]
    print(f"{name}: generate_data --customers {size:,} took {seconds:.0f} s ({summary[-1].strip() if summary else ''})")
    subprocess.run(["psql", url, "-qAtc", "VACUUM ANALYZE"], check=True)
    return {"seconds": seconds}


# --- the pages ---------------------------------------------------------------------------


@dataclass
class Page:
    label: str
    role: str
    url: str
    post: dict | None = None  # a POST (the export), its streamed body read to the end


@dataclass
class Measure:
    median: float
    queries: int
    times: list[float] = field(default_factory=list)


def _middle(model, **filters):
    """The row in the middle of the model's id range (the same relative place at every size)."""
    from django.db.models import Max, Min

    qs = model.objects.filter(**filters)
    bounds = qs.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return None
    return qs.filter(pk__gte=(bounds["lo"] + bounds["hi"]) // 2).order_by("pk").first()


def pages() -> list[Page]:
    """Each role's main pages, with samples from the current database."""
    import datetime as dt
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils import timezone

    from compliance.models import DataDeletionRequest
    from customer_ops.models import Customer
    from fraud.models import TrustScore
    from tickets.models import Dispute, Ticket

    today = timezone.localdate()
    customer = _middle(Customer)
    ticket = _middle(Ticket, status__in=["OPEN", "IN_PROGRESS", "WAITING_CUSTOMER"]) or _middle(Ticket)
    trust = TrustScore.objects.filter(customer=customer).first() or _middle(TrustScore)
    dispute = _middle(Dispute)
    deletion = _middle(DataDeletionRequest)
    queue = reverse("admin:tickets_ticket_changelist")

    def dashboard(days: int) -> str:
        first = today - dt.timedelta(days=days)
        last = today - dt.timedelta(days=1)
        return f"{reverse('admin:analytics_dashboard_changelist')}?date_from={first}&date_to={last}"

    found = [
        Page("agent home", "agent", reverse("admin:index")),
        Page("queue (default view)", "agent", queue),
        *(Page(f"queue ?queue={v}", "agent", f"{queue}?queue={v}") for v in ("mine", "open", "breached", "unassigned")),
        # What an agent types: the customer's email (a common word's matches grow with the data).
        Page("queue search (an email)", "agent", f"{queue}?{urlencode({'q': customer.email})}"),
        Page("ticket page", "agent", reverse("admin:tickets_ticket_change", args=[ticket.pk])),
        Page("customer page", "agent", reverse("admin:customer_ops_customer_change", args=[customer.pk])),
        Page("lead home", "lead", reverse("admin:index")),
        Page("queue ?queue=escalated", "lead", f"{queue}?queue=escalated"),
        Page("refund requests", "lead", reverse("admin:tickets_refundrequest_changelist")),
        Page("fraud home", "fraud", reverse("admin:index")),
        Page("alert queue", "fraud", reverse("admin:fraud_fraudalert_changelist")),
        Page("trust scores", "fraud", reverse("admin:fraud_trustscore_changelist")),
        Page("trust page", "fraud", reverse("admin:fraud_trustscore_change", args=[trust.pk])),
        Page("suspicious activity", "fraud", reverse("admin:fraud_suspiciousactivity_changelist")),
        Page("blocks", "fraud", reverse("admin:fraud_block_changelist")),
        Page("legal home", "legal", reverse("admin:index")),
        Page("disputes", "legal", reverse("admin:tickets_dispute_changelist")),
        Page("compliance home", "compliance", reverse("admin:index")),
        Page("deletion requests", "compliance", reverse("admin:compliance_datadeletionrequest_changelist")),
        Page(
            "export of one customer",
            "compliance",
            reverse("admin:compliance_customer_export", args=[customer.pk]),
            post={"format": "json"},
        ),
        Page("analyst home", "analyst", reverse("admin:index")),
        Page("dashboard, 30 days", "analyst", dashboard(30)),
        Page("dashboard, 365 days", "analyst", dashboard(365)),
        Page("superuser home", "admin", reverse("admin:index")),
    ]
    if dispute:
        found.append(Page("dispute page", "legal", reverse("admin:tickets_dispute_change", args=[dispute.pk])))
    if deletion:
        found.append(
            Page(
                "deletion request page",
                "compliance",
                reverse("admin:compliance_datadeletionrequest_change", args=[deletion.pk]),
            )
        )
    return found


# --- measuring ---------------------------------------------------------------------------


def use_database(name: str) -> None:
    """Point the default connection at ``name`` (same server, same migrations)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name
    ContentType.objects.clear_cache()  # ids may differ between databases


def request(client, page: Page):
    if page.post is None:
        response = client.get(page.url)
    else:
        response = client.post(page.url, page.post)
    if response.streaming:
        for _ in response.streaming_content:
            pass
    assert response.status_code == 200, (page.label, response.status_code)


def measure(client, page: Page, runs: int) -> Measure:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request(client, page)  # warm-up (caches, the ticket page's mark-read write)
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            request(client, page)
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    return Measure(median=statistics.median(times), queries=queries, times=times)


def run(names: dict[int, str], runs: int, only: str = "") -> dict[str, dict[int, Measure]]:
    import django

    django.setup()
    from django.test import Client

    from customer_ops.demo import ensure_staff

    clients: dict[int, dict[str, Client]] = {}
    page_sets: dict[int, dict[str, Page]] = {}
    for size, name in names.items():
        use_database(name)
        users = ensure_staff(PASSWORD)
        clients[size] = {}
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            clients[size][role] = client
        page_sets[size] = {p.label: p for p in pages()}

    labels = [label for label in page_sets[min(names)] if all(label in s for s in page_sets.values())]
    labels = [label for label in labels if only.lower() in label.lower()]
    results: dict[str, dict[int, Measure]] = {}
    for label in labels:
        results[label] = {}
        for size, name in names.items():
            use_database(name)
            page = page_sets[size][label]
            results[label][size] = measure(clients[size][page.role], page, runs)
        line = "  ".join(f"{results[label][s].median:7.1f}" for s in names)
        print(f"  {label:<28} {line}", flush=True)
    return results


def table(results: dict[str, dict[int, Measure]], sizes: list[int], roles: dict[str, str]) -> str:
    small, large = min(sizes), max(sizes)
    head = " | ".join(f"{s // 1000}k ms (q)" for s in sizes)
    lines = [f"| page | role | {head} | growth | |", "|---|---|" + "---:|" * len(sizes) + "---:|---|"]
    for label, by_size in results.items():
        growth = by_size[large].median / by_size[small].median
        ok = growth < TARGET_GROWTH and by_size[large].median < TARGET_MS
        cells = " | ".join(f"{by_size[s].median:.0f} ({by_size[s].queries})" for s in sizes)
        lines.append(f"| {label} | {roles[label]} | {cells} | {growth:.2f}x | {'ok' if ok else 'MISSED'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30000,100000,300000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--prefix", default="growth_")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--json", help="also write the timings to this file")
    parser.add_argument("--prepare-only", action="store_true", help="make the databases, measure nothing")
    parser.add_argument("--pages", default="", help="only the pages whose label contains this text")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    names = {size: f"{args.prefix}{size}" for size in sizes}

    for size, name in names.items():
        prepare(args.server, name, size, args.regenerate)
    if args.prepare_only:
        return

    os.environ["DATABASE_URL"] = f"{args.server}/{names[sizes[0]]}"
    os.environ.setdefault("DEBUG", "true")
    print(f"{'page':<30} " + "  ".join(f"{s // 1000:>5}k" for s in sizes) + "   (median ms)")
    results = run(names, args.runs, args.pages)
    roles = {p.label: p.role for p in pages()}
    print()
    print(table(results, sizes, roles))
    if args.json:
        Path(args.json).write_text(
            json.dumps({label: {s: vars(m) for s, m in r.items()} for label, r in results.items()}, indent=1)
        )


if __name__ == "__main__":
    main()
