"""Benchmark: a full rebuild of the daily tables over a range (90 days) against hand-written statements.

    createdb -h 127.0.0.1 -U postgres -T bo100k bo_rebuild     # a copy: the tables are TRUNCATED
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_rebuild DEBUG=true \\
        .venv/bin/python bench/daily_rebuild.py [--days 90] [--rounds 2] [--explain] [--rerun] [--rest]

The range is the last ``--days`` days of the data (up to the day of the newest order). Each
round empties the tables and times, for each per-customer and per-day table the range
rebuilds, the job into the real table against a plain ``INSERT ... SELECT`` computing the
same rows into an empty copy of it (``LIKE ... INCLUDING ALL``: same indexes):

* ``customer_daily_analytics``: ``run_daily_analytics`` against bench/daily_job.py's
  hand-written statement (three sources grouped per customer and day, summed), over the range;
* ``analytics_platform_daily``: ``run_platform_daily`` against one grouped INSERT;
* ``customer_service_analytics`` and ``customer_orders_summary``: ``run_service_analytics`` /
  ``run_orders_summary`` for every customer (``--all-customers``) against the same
  computation inserted plainly (no upsert, no change detection).

Rounds alternate which goes first. The rows are checked equal (``EXCEPT`` both ways).
Target: each job and their sum within 1.5x of the statements. ``--rest`` then times the
whole ``run_daily_jobs --from --to --all-customers`` into emptied tables (the cohorts,
ordering customers, referrals and support figures have no hand-written twin here);
``--rerun`` times the daily job again over the filled range (merge path; nothing to write)
and for 300 customers; ``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the daily
analytics job's statement for an empty range (the slowest), rolled back. Refuses to run on
``bo100k`` itself. The machine is shared: compare the figures of one round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# (table, metric columns compared, floor copy)
TABLES = {
    "daily": ("customer_daily_analytics", ["customer_id", "analytics_date"], "bench_rebuild_daily"),
    "platform": ("analytics_platform_daily", ["day", "service_type"], "bench_rebuild_platform"),
    "service": ("customer_service_analytics", ["customer_id", "service_type"], "bench_rebuild_service"),
    "summary": ("customer_orders_summary", ["customer_id", "service_type"], "bench_rebuild_summary"),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--rerun", action="store_true", help="time the daily job again over the filled range")
    parser.add_argument("--rest", action="store_true", help="also time the whole run_daily_jobs")
    return parser.parse_args()


def setup_django() -> None:
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.settings_dict["NAME"] == "bo100k":
        sys.exit("Refusing to TRUNCATE bo100k: run on a copy (createdb -T bo100k ...).")


def execute(sql: str, params=None):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def floors(days) -> dict:
    """The hand-written statements, by key of TABLES."""
    from daily_job import FLOOR_SQL

    from analytics import jobs

    service_cols = ", ".join(jobs.SERVICE_METRICS)
    summary_cols = ", ".join(jobs.SUMMARY_METRICS)
    source = jobs.SERVICE_SOURCE_SQL.format(scope="")
    return {
        "daily": FLOOR_SQL.replace("bench_daily_floor", TABLES["daily"][2]),
        "platform": f"""
            INSERT INTO {TABLES["platform"][2]}
                (day, service_type, total_orders, completed_orders, cancelled_orders, total_spent, updated_at)
            SELECT (created_at AT TIME ZONE 'UTC')::date, service_type, count(*),
                   count(*) FILTER (WHERE status = 'COMPLETED'), count(*) FILTER (WHERE status = 'CANCELLED'),
                   coalesce(sum(order_amount) FILTER (WHERE status = 'COMPLETED'), 0), now()
            FROM orders WHERE created_at >= %(start)s AND created_at < %(end)s
            GROUP BY 1, 2""",
        "service": f"""
            INSERT INTO {TABLES["service"][2]} (customer_id, service_type, {service_cols}, created_at, last_updated_at)
            SELECT customer_id, service_type, {service_cols}, now(), now() FROM ({source}) s""",
        "summary": f"""
            INSERT INTO {TABLES["summary"][2]} (customer_id, service_type, {summary_cols}, created_at, updated_at)
            SELECT customer_id, service_type, total_orders, total_spent, average_order_value, last_order_at,
                   favorite_merchant_ids[1], now(), now() FROM ({source}) s""",
    }


def job_runs(days) -> dict:
    from analytics import jobs

    return {
        "daily": lambda: jobs.run_daily_analytics(days),
        "platform": lambda: jobs.run_platform_daily(days),
        "service": lambda: jobs.run_service_analytics(None),
        "summary": lambda: jobs.run_orders_summary(None),
    }


def metric_columns(table: str) -> list[str]:
    rows = execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name NOT IN ('id', 'created_at', 'updated_at', 'last_updated_at') ORDER BY ordinal_position",
        [table],
    )
    return [r[0] for r in rows]


def differing(key: str) -> int:
    table, _, floor = TABLES[key]
    cols = ", ".join(metric_columns(table))
    sql = f"""SELECT count(*) FROM ((SELECT {cols} FROM {table} EXCEPT ALL SELECT {cols} FROM {floor})
              UNION ALL (SELECT {cols} FROM {floor} EXCEPT ALL SELECT {cols} FROM {table})) d"""
    return execute(sql)[0][0]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    args = parse_args()
    setup_django()
    from analytics import jobs

    last = execute("SELECT (max(created_at) AT TIME ZONE 'UTC')::date FROM orders")[0][0]
    days = jobs.day_range(last - dt.timedelta(days=args.days - 1), last)
    counts = execute(
        "SELECT (SELECT count(*) FROM orders WHERE created_at >= %(start)s AND created_at < %(end)s),"
        " (SELECT count(*) FROM customer_activity_log WHERE created_at >= %(start)s AND created_at < %(end)s),"
        " (SELECT count(*) FROM customer_sessions WHERE started_at >= %(start)s AND started_at < %(end)s),"
        " (SELECT count(*) FROM customers)",
        days.params(),
    )[0]
    print(
        f"{days.first} .. {days.last} ({args.days} days): {counts[0]:,} orders, {counts[1]:,} activity rows, "
        f"{counts[2]:,} sessions, {counts[3]:,} customers (shared 2-core machine)"
    )
    for table, _, floor in TABLES.values():
        execute(f"DROP TABLE IF EXISTS {floor}; CREATE TABLE {floor} (LIKE {table} INCLUDING ALL)")
    statements, runs = floors(days), job_runs(days)
    results: dict[str, list[tuple[float, float]]] = {key: [] for key in TABLES}
    for round_no in range(1, args.rounds + 1):
        names = ", ".join(t for table, _, floor in TABLES.values() for t in (table, floor))
        execute(f"TRUNCATE {names}")
        execute("CHECKPOINT")
        print(f"round {round_no}:")
        for key in TABLES:
            floor_run = lambda key=key: execute(statements[key], days.params())  # noqa: E731
            if round_no % 2:
                floor_s, job_s = timed(floor_run), timed(runs[key])
            else:
                job_s, floor_s = timed(runs[key]), timed(floor_run)
            results[key].append((job_s, floor_s))
            rows = execute(f"SELECT count(*) FROM {TABLES[key][0]}")[0][0]
            print(
                f"  {TABLES[key][0]:<28} {rows:>10,} rows  job {job_s:7.1f} s  hand-written {floor_s:7.1f} s"
                f"  ratio {job_s / floor_s:.2f}  (rows differing: {differing(key)})"
            )
        job_total = sum(results[k][-1][0] for k in TABLES)
        floor_total = sum(results[k][-1][1] for k in TABLES)
        ratio = job_total / floor_total
        print(f"  total{'':37}job {job_total:7.1f} s  hand-written {floor_total:7.1f} s  ratio {ratio:.2f}")
    if args.rounds:  # --rounds 0 --rerun: the re-run alone, over what an earlier run filled
        best_job = sum(min(r[0] for r in results[k]) for k in TABLES)
        best_floor = sum(min(r[1] for r in results[k]) for k in TABLES)
        print(
            f"best of {args.rounds}: jobs {best_job:.1f} s, hand-written {best_floor:.1f} s, "
            f"jobs / hand-written = {best_job / best_floor:.2f}x (target <= 1.5x)"
        )
    if args.rerun:
        rerun(days)
    if args.explain:
        explain(days)
    if args.rest:
        rest(days)
    for _, _, floor in TABLES.values():
        execute(f"DROP TABLE IF EXISTS {floor}")


def rerun(days) -> None:
    """The daily job again over the filled range (what seed_demo used to do at this size):
    the computed rows merged in, nothing written; and for 300 customers only."""
    from analytics import jobs

    t0 = time.perf_counter()
    result = jobs.run_daily_analytics(days)
    print(f"re-run of the daily job over the filled range: {time.perf_counter() - t0:.1f} s ({result})")
    some = [row[0] for row in execute("SELECT id FROM customers ORDER BY id DESC LIMIT 300")]
    t0 = time.perf_counter()
    result = jobs.run_daily_analytics(days, customers=some)
    print(f"the same for 300 customers (customers=, as seed_demo): {time.perf_counter() - t0:.1f} s ({result})")


def explain(days) -> None:
    from django.db import connection, transaction

    from analytics import jobs

    class Rollback(Exception):
        pass

    print("EXPLAIN (ANALYZE, BUFFERS) of the daily analytics job's statement into the emptied range:")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE customer_daily_analytics")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + jobs.DAILY_REBUILD[1], days.params())
            for (line,) in cursor.fetchall():
                print(f"    {line}")
            raise Rollback
    except Rollback:
        pass


def rest(days) -> None:
    from django.core.management import call_command

    from customer_ops import registry

    tables = [
        "customer_daily_analytics",
        "analytics_platform_daily",
        "customer_service_analytics",
        "customer_orders_summary",
        "analytics_ordering_customers",
        "analytics_cohort_daily",
        "analytics_cohort_activity",
        "support_ticket_daily",
        "support_resolution_minutes_daily",
        "support_refund_daily",
    ]
    assert [job.key for job in registry.daily_jobs.ordered()] == [
        "daily_analytics",
        "platform_daily",
        "ordering_customers",
        "service_analytics",
        "orders_summary",
        "cohorts",
        "referrals",
        "support_daily",
    ], "new daily job: add its tables"
    execute(f"TRUNCATE {', '.join(tables)}")
    out = io.StringIO()
    t0 = time.perf_counter()
    call_command(
        "run_daily_jobs", "--from", days.first.isoformat(), "--to", days.last.isoformat(), "--all-customers", stdout=out
    )
    print(f"whole run_daily_jobs --from {days.first} --to {days.last} --all-customers into emptied tables:")
    for line in out.getvalue().splitlines():
        print(f"    {line}")
    print(f"  total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
