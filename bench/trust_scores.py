"""Benchmark: the trust engine, a full run over every customer and the hourly incremental run.

    DATABASE_URL=postgres://.../<a copy> DEBUG=true .venv/bin/python bench/trust_scores.py [--runs 3] [--vacuum]
    DATABASE_URL=postgres://.../<a copy> DEBUG=true .venv/bin/python bench/trust_scores.py --hourly [--runs 3]

It writes (scores, history, audit rows, and with --hourly a day of changes): run it on a copy
(``createdb -T bo100k <copy>``), never on a database someone uses; for --hourly a fresh copy
each time (a second round would count the first round's changes too: they are "since" any
earlier run). ``customer_trust_score`` is vacuumed before each timed run, as autovacuum would
between two runs (the benchmark server runs without autovacuum).

Full (default): ``recalculate_trust_scores()`` exactly as the nightly job runs it (same function,
same batches, writes committed), ``--runs`` times; each run's time, customers/s, and the median.
The first run on fresh data may move many scores (history rows, audit entries); the later ones
rewrite the same values. ``--vacuum``: VACUUM ANALYZE first (after ``generate_data`` or a copy
the visibility map is unset and the index-only scans would read the heap).

``--hourly``: the hourly run after a day of new activity. Each round records a full run as of
24 hours (``--hours``) before the data's last order (``now=``), so that the data's last generated
day (or hours) is new activity for the incremental run (orders, payment failures, disputes, refunds, verifications,
alerts, suspicious activities, blocks, logins: as ``generate_data`` makes a day), then makes the
day's other changes through the services and SQL: in-flight orders of that day finished, 200
alerts resolved and 100 suspicious activities reviewed by an analyst, 20 blocks lifted, 50
customers seen on a blocked customer's device (scaled down for fewer hours). Then
``recalculate_changed_trust_scores()`` is timed: customers found and rescored, seconds,
rescored customers/s, and the time it takes to find them (fraud.changes) on its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from fraud import changes, conf, links, services  # noqa: E402
from fraud.jobs import recalculate_changed_trust_scores, recalculate_trust_scores  # noqa: E402
from fraud.models import Block, FraudAlert, SuspiciousActivity, TrustEngineRun  # noqa: E402


def _one(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _vacuum_scores() -> None:
    """What autovacuum does between two runs (the benchmark server runs without it): the
    previous run's row versions are cleared, so the page room for HOT rewrites is back."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM customer_trust_score")


def full(args, customers: int) -> None:
    seconds = []
    for run in range(1, args.runs + 1):
        _vacuum_scores()
        result = recalculate_trust_scores(batch_size=args.batch_size)
        seconds.append(result.seconds)
        print(
            f"  full run {run}: {result.customers} customers in {result.seconds:.3f}s "
            f"({result.customers / result.seconds:,.0f} customers/s; {result.history_rows} moved, "
            f"{len(result.risk_changes)} risk changes)"
        )
    median = statistics.median(seconds)
    print(f"median full run: {median:.3f}s for {customers} customers = {customers / median:,.0f} customers/s")


def _day_of_changes(start: dt.datetime, hours: int) -> dict[str, int]:
    """The day's changes besides the rows generate_data wrote for it (see the docstring),
    scaled to ``hours``."""
    share = hours / 24
    analyst, _ = get_user_model().objects.get_or_create(username="bench-analyst", defaults={"is_staff": True})
    analyst.is_superuser = True  # bulk decisions need the fraud lead's right
    analyst.save(update_fields=["is_superuser"])
    done = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """UPDATE orders SET status = 'COMPLETED', completed_at = %s
               WHERE created_at >= %s AND status IN ('PLACED', 'IN_PROGRESS')""",
            [timezone.now(), start],
        )
        done["orders finished"] = cursor.rowcount
        # Customers seen on a blocked customer's device (links made during the day).
        cursor.execute(
            f"""INSERT INTO customer_login_history (customer_id, login_method, login_success, device_id, created_at)
                SELECT 1 + floor(random() * (SELECT max(id) FROM customers))::bigint, 'OTP', true, d.device_id,
                       clock_timestamp()
                FROM (SELECT DISTINCT lh.device_id FROM customer_login_history lh
                      WHERE lh.customer_id IN ({links.BLOCKED_IN_FORCE}) AND lh.device_id <> '' LIMIT %(n)s) d""",
            {"now": timezone.now(), "n": max(1, round(50 * share))},
        )
        done["logins on blocked devices"] = cursor.rowcount
    alerts = list(FraudAlert.objects.filter(is_resolved=False).order_by("?")[: max(1, round(200 * share))])
    done["alerts resolved"] = services.alerts_resolve(
        outcome="FALSE_POSITIVE", reason_code="DATA_ERROR", alerts=alerts, notes="bench", actor=analyst
    )[0]
    reviews = SuspiciousActivity.objects.filter(requires_review=True, reviewed=False).order_by("?")
    for activity in reviews[: max(1, round(100 * share))]:
        services.suspicious_review(activity=activity, notes="bench", actor=analyst)
    done["suspicious reviewed"] = max(1, round(100 * share))
    blocks = Block.objects.filter(is_unblocked=False).order_by("?")[: max(1, round(20 * share))]
    done["blocks lifted"] = services.unblock_many(blocks=blocks, reason="bench", actor=analyst)[0]
    return done


def hourly(args, customers: int) -> None:
    last_day = _one("SELECT max(created_at) FROM orders")
    rates = []
    for run in range(1, args.runs + 1):
        before = last_day - dt.timedelta(hours=args.hours)
        TrustEngineRun.objects.filter(started_at__gt=before).delete()  # the previous round's runs
        base = recalculate_trust_scores(batch_size=args.batch_size, now=before)
        print(f"  round {run}: full run as of {before:%Y-%m-%d %H:%M} in {base.seconds:.1f}s")
        made = _day_of_changes(before, args.hours)
        _vacuum_scores()
        print("    day of changes: " + ", ".join(f"{v} {k}" for k, v in made.items()))

        # The lookup alone (what fraud.changes reads), then the whole hourly run.
        now = timezone.now()
        since = TrustEngineRun.last().started_at - conf.INCREMENTAL_OVERLAP
        started = time.monotonic()
        found = changes.changed_customers(since=since, now=now, in_force=links.links(now=now))
        lookup = time.monotonic() - started
        result = recalculate_changed_trust_scores(batch_size=args.batch_size)
        rate = result.customers / result.seconds
        rates.append((result.seconds, rate))
        print(
            f"    hourly run: {result.customers} customers with changed inputs ({len(found)} by the lookup alone, "
            f"{lookup:.2f}s) rescored in {result.seconds:.3f}s = {rate:,.0f} customers/s "
            f"({result.history_rows} moved, {len(result.risk_changes)} risk changes); "
            f"{customers / result.seconds:,.0f} customers/s of the database"
        )
    seconds = statistics.median(s for s, _ in rates)
    rate = statistics.median(r for _, r in rates)
    print(f"median incremental run after {args.hours} h: {seconds:.3f}s ({rate:,.0f} customers/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--vacuum", action="store_true", help="VACUUM ANALYZE first.")
    parser.add_argument("--hourly", action="store_true", help="The incremental run after a day of changes.")
    parser.add_argument("--hours", type=int, default=24, help="--hourly: this many hours of changes (default a day).")
    args = parser.parse_args()
    if args.vacuum:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    customers = _one("SELECT count(*) FROM customers")
    load = os.getloadavg()[0]
    print(f"{customers} customers; PostgreSQL {connection.pg_version // 10000}; {args.runs} runs; load {load:.1f}")
    (hourly if args.hourly else full)(args, customers)


if __name__ == "__main__":
    main()
