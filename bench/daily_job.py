"""Benchmark of the daily analytics job (analytics.jobs.run_daily_analytics).

Generates one UTC day of orders (1,000,000 by default) for 100,000 customers with the
matching activity rows (an ORDER_PLACED row per order, app opens) and sessions, loaded
with PostgreSQL COPY, then times:

1. the job: ``run_daily_analytics`` for that day into the empty table (best of N rounds),
   and a re-run over the filled table (which must write nothing);
2. the floor: one hand-written ``INSERT ... SELECT`` computing the same table into an
   empty copy of it (no upsert, no stale-row clean-up, no change detection) -- what any
   implementation needs at least; its rows are checked to equal the job's;
3. a naive per-customer ORM loop (read the customer's orders, activity and sessions of the
   day, compute in Python, ``update_or_create``) over a sample of customers, rolled back,
   extrapolated to all customers.

It prints the three times, rows per second and the ratios. Target: job <= 1.5 x floor.

Usage (needs a PostgreSQL server; the database is created if missing, migrated, and its
tables are TRUNCATED -- never point it at a database you care about)::

    DEBUG=true .venv/bin/python bench/daily_job.py \\
        --database-url postgres://postgres@127.0.0.1:5432/bo_bench6 \\
        [--orders 1000000] [--customers 100000] [--sample 1000] [--rounds 2] [--keep-data]

``--keep-data`` reuses the data of a previous run (skips generation).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAY = dt.date(2025, 6, 15)
UTC = dt.UTC


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bo_bench6"),
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000, help="customers in the ORM loop sample")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    print(f"  {label}: {elapsed:.2f}s")
    return elapsed, result


def generate(args) -> dict:
    from django.db import connection

    rng = random.Random(args.seed)
    start = dt.datetime.combine(DAY, dt.time.min, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE customers, orders, customer_sessions RESTART IDENTITY CASCADE")
    raw = connection.connection  # the psycopg connection under Django's
    counts = {}

    def copy(table: str, columns: list[str], rows) -> int:
        n = 0
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
                n += 1
        counts[table] = n
        return n

    def customers():
        for i in range(1, args.customers + 1):
            yield (i, f"Bench Customer {i}", f"bench{i}@example.test", start - dt.timedelta(days=400))

    def orders():
        for i in range(1, args.orders + 1):
            customer = rng.randint(1, args.customers)
            service = rng.choice(("FOOD", "FOOD", "PARCEL", "RIDE"))
            status = rng.choices(("COMPLETED", "CANCELLED", "IN_PROGRESS"), (85, 12, 3))[0]
            # Spread over the day, including the first and last microseconds.
            created = start + dt.timedelta(microseconds=rng.randrange(86_400_000_000))
            yield (
                i,
                f"B{i:09d}",
                customer,
                service,
                None if service == "RIDE" else rng.randint(1, 5000),
                status,
                f"{rng.randint(300, 9000) / 100:.2f}",
                "1.50" if rng.random() < 0.2 else "0",
                "2.00" if status == "COMPLETED" and rng.random() < 0.3 else "0",
                rng.randint(1, 5) if status == "COMPLETED" and rng.random() < 0.5 else None,
                created,
                created + dt.timedelta(minutes=35) if status == "COMPLETED" else None,
                created + dt.timedelta(minutes=3) if status == "CANCELLED" else None,
            )

    def sessions():
        for customer in range(1, args.customers + 1):
            for _ in range(2):
                started = start + dt.timedelta(seconds=rng.randrange(86_000))
                ended = None if rng.random() < 0.1 else started + dt.timedelta(seconds=rng.randint(30, 3000))
                yield (customer, f"dev-{customer}", "ANDROID", f"10.{customer % 250}.0.1", started, ended)

    order_rows = list(orders())  # kept, so that the activity rows match the orders

    def activity():
        # An ORDER_PLACED row for every order (its id, customer, service and time), and app opens.
        for row in order_rows:
            yield (row[2], "ORDER_PLACED", row[3], row[0], row[10])
        for customer in range(1, args.customers + 1):
            for _ in range(rng.randint(1, 5)):
                yield (customer, "APP_OPEN", None, None, start + dt.timedelta(seconds=rng.randrange(86_400)))

    print(f"generating {args.customers} customers, {args.orders} orders, activity and sessions (COPY) ...")
    with connection.cursor():
        timed("customers", lambda: copy("customers", ["id", "full_name", "email", "created_at"], customers()))
        timed(
            "orders",
            lambda: copy(
                "orders",
                [
                    "id",
                    "order_number",
                    "customer_id",
                    "service_type",
                    "merchant_id",
                    "status",
                    "order_amount",
                    "discount_amount",
                    "tip_amount",
                    "customer_rating",
                    "created_at",
                    "completed_at",
                    "cancelled_at",
                ],
                order_rows,
            ),
        )
        timed(
            "sessions",
            lambda: copy(
                "customer_sessions",
                ["customer_id", "device_id", "device_type", "ip_address", "started_at", "ended_at"],
                sessions(),
            ),
        )
        timed(
            "activity",
            lambda: copy(
                "customer_activity_log",
                ["customer_id", "activity_type", "service_type", "order_id", "created_at"],
                activity(),
            ),
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval('customers_id_seq', %s), setval('orders_id_seq', %s)", [args.customers, args.orders]
        )
    raw.commit()
    return counts


def vacuum() -> None:
    from django.db import connection

    raw = connection.connection
    old = raw.autocommit
    raw.autocommit = True
    with raw.cursor() as cur:
        for table in ("customers", "orders", "customer_sessions", "customer_activity_log", "customer_daily_analytics"):
            cur.execute(f"VACUUM ANALYZE {table}")
    raw.autocommit = old


# The floor: the same table, computed by one plain INSERT ... SELECT into an empty copy.
FLOOR_SQL = """
    INSERT INTO bench_daily_floor
        (customer_id, analytics_date, total_orders, completed_orders, cancelled_orders, food_orders, parcel_orders,
         ride_orders, total_spent, total_saved, tips_given, avg_rating_given, ratings_count, app_opens,
         time_spent_minutes, created_at, updated_at)
    SELECT customer_id, d, sum(t), sum(c), sum(x), sum(f), sum(p), sum(r), sum(sp), sum(sv), sum(tp),
           round(sum(rs)::numeric / nullif(sum(rc), 0), 2), sum(rc), sum(ao), sum(mins), now(), now()
    FROM (
        SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS t,
               count(*) FILTER (WHERE status = 'COMPLETED') AS c, count(*) FILTER (WHERE status = 'CANCELLED') AS x,
               count(*) FILTER (WHERE service_type = 'FOOD') AS f, count(*) FILTER (WHERE service_type = 'PARCEL') AS p,
               count(*) FILTER (WHERE service_type = 'RIDE') AS r,
               coalesce(sum(order_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS sp,
               coalesce(sum(discount_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS sv,
               coalesce(sum(tip_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS tp,
               coalesce(sum(customer_rating), 0) AS rs, count(customer_rating) AS rc, 0 AS ao, 0 AS mins
        FROM orders WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1, 2
        UNION ALL
        SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               count(*) FILTER (WHERE activity_type = 'APP_OPEN'), 0
        FROM customer_activity_log WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1, 2
        UNION ALL
        SELECT customer_id, (started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               coalesce(sum(floor(extract(epoch FROM ended_at - started_at) / 60))
                        FILTER (WHERE ended_at IS NOT NULL), 0)
        FROM customer_sessions WHERE started_at >= %(start)s AND started_at < %(end)s GROUP BY 1, 2
    ) s
    GROUP BY customer_id, d
"""

COMPARE_SQL = """
    SELECT count(*) FROM (
        (SELECT customer_id, analytics_date, total_orders, completed_orders, cancelled_orders, food_orders,
                parcel_orders, ride_orders, total_spent, total_saved, tips_given, avg_rating_given, ratings_count,
                app_opens, time_spent_minutes FROM customer_daily_analytics
         EXCEPT SELECT customer_id, analytics_date, total_orders, completed_orders, cancelled_orders, food_orders,
                parcel_orders, ride_orders, total_spent, total_saved, tips_given, avg_rating_given, ratings_count,
                app_opens, time_spent_minutes FROM bench_daily_floor)
        UNION ALL
        (SELECT customer_id, analytics_date, total_orders, completed_orders, cancelled_orders, food_orders,
                parcel_orders, ride_orders, total_spent, total_saved, tips_given, avg_rating_given, ratings_count,
                app_opens, time_spent_minutes FROM bench_daily_floor
         EXCEPT SELECT customer_id, analytics_date, total_orders, completed_orders, cancelled_orders, food_orders,
                parcel_orders, ride_orders, total_spent, total_saved, tips_given, avg_rating_given, ratings_count,
                app_opens, time_spent_minutes FROM customer_daily_analytics)
    ) diff
"""


def orm_loop(customer_ids: list[int]) -> float:
    """What a naive implementation does: per customer, read the day's rows and upsert one row."""
    from django.db import transaction

    from analytics.models import ActivityLog, DailyAnalytics
    from customer_ops.models import CustomerSession, Order

    start = dt.datetime.combine(DAY, dt.time.min, tzinfo=UTC)
    end = start + dt.timedelta(days=1)

    class Rollback(Exception):
        pass

    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            for customer_id in customer_ids:
                orders = list(Order.objects.filter(customer_id=customer_id, created_at__gte=start, created_at__lt=end))
                opens = ActivityLog.objects.filter(
                    customer_id=customer_id, activity_type="APP_OPEN", created_at__gte=start, created_at__lt=end
                ).count()
                sessions = CustomerSession.objects.filter(
                    customer_id=customer_id, started_at__gte=start, started_at__lt=end, ended_at__isnull=False
                )
                done = [o for o in orders if o.status == "COMPLETED"]
                ratings = [o.customer_rating for o in orders if o.customer_rating is not None]
                DailyAnalytics.objects.update_or_create(
                    customer_id=customer_id,
                    analytics_date=DAY,
                    defaults={
                        "total_orders": len(orders),
                        "completed_orders": len(done),
                        "cancelled_orders": sum(o.status == "CANCELLED" for o in orders),
                        "food_orders": sum(o.service_type == "FOOD" for o in orders),
                        "parcel_orders": sum(o.service_type == "PARCEL" for o in orders),
                        "ride_orders": sum(o.service_type == "RIDE" for o in orders),
                        "total_spent": sum(o.order_amount for o in done),
                        "total_saved": sum(o.discount_amount for o in done),
                        "tips_given": sum(o.tip_amount for o in done),
                        "avg_rating_given": round(sum(ratings) / len(ratings), 2) if ratings else None,
                        "ratings_count": len(ratings),
                        "app_opens": opens,
                        "time_spent_minutes": sum(
                            (s.ended_at - s.started_at) // dt.timedelta(minutes=1) for s in sessions
                        ),
                    },
                )
            raise Rollback
    except Rollback:
        pass
    return time.perf_counter() - t0


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    from analytics import jobs

    if not args.keep_data:
        counts = generate(args)
        print(f"  loaded: {counts}")
    vacuum()
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_daily_floor; "
            "CREATE TABLE bench_daily_floor (LIKE customer_daily_analytics"
            " INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
        )
        cursor.execute(
            "SELECT count(*) FROM orders WHERE created_at >= %s AND created_at < %s",
            [
                dt.datetime.combine(DAY, dt.time.min, tzinfo=UTC),
                dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time.min, tzinfo=UTC),
            ],
        )
        day_orders = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM customer_activity_log")
        activity_rows = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM customer_sessions")
        session_rows = cursor.fetchone()[0]
    days = jobs.day_range(DAY)
    params = days.params()
    input_rows = day_orders + activity_rows + session_rows
    print(f"day {DAY}: {day_orders} orders, {activity_rows} activity rows, {session_rows} sessions")

    job_times, floor_times = [], []
    for round_no in range(1, args.rounds + 1):
        print(f"round {round_no}:")
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_daily_floor, customer_daily_analytics")
        vacuum()
        elapsed, _ = timed("floor (one INSERT ... SELECT)", lambda: _execute(FLOOR_SQL, params))
        floor_times.append(elapsed)
        elapsed, result = timed("job (run_daily_analytics)", lambda: jobs.run_daily_analytics(days))
        job_times.append(elapsed)
    rerun, again = timed("job re-run over the filled table", lambda: jobs.run_daily_analytics(days))
    with connection.cursor() as cursor:
        cursor.execute(COMPARE_SQL)
        differing = cursor.fetchone()[0]

    rng = random.Random(args.seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers")
        customers = cursor.fetchone()[0]
    sample = rng.sample(range(1, customers + 1), min(args.sample, customers))
    orm_sample = orm_loop(sample)
    orm_total = orm_sample * customers / len(sample)

    job, floor = min(job_times), min(floor_times)
    print()
    print(f"output rows: {result.rows} (job and floor differ in {differing} rows); re-run wrote {again.written}")
    print(f"{'':34}{'seconds':>10}{'input rows/s':>16}{'output rows/s':>16}")
    for label, seconds in [
        ("hand-written statement (floor)", floor),
        ("daily job", job),
        (f"ORM loop (extrapolated from {len(sample)})", orm_total),
    ]:
        print(f"{label:34}{seconds:>10.2f}{input_rows / seconds:>16,.0f}{result.rows / seconds:>16,.0f}")
    print(f"{'job re-run (no changes)':34}{rerun:>10.2f}")
    print(f"job / floor = {job / floor:.2f}x (target <= 1.5x); ORM loop / job = {orm_total / job:.0f}x")


def _execute(sql: str, params: dict) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


if __name__ == "__main__":
    main()
