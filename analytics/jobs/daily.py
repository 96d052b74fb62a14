"""``customer_daily_analytics``: every customer-day's orders, app opens and session time."""

from __future__ import annotations

from django.db import connection, transaction

from analytics.jobs.common import DayRange, JobResult

DAILY_METRICS = [
    "total_orders",
    "completed_orders",
    "cancelled_orders",
    "food_orders",
    "parcel_orders",
    "ride_orders",
    "total_spent",
    "total_saved",
    "tips_given",
    "avg_rating_given",
    "ratings_count",
    "app_opens",
    "time_spent_minutes",
]

# The three sources are aggregated per customer and UTC day, each through its own
# time index (orders_created_idx, activity_log_daily_idx, customer_sessions_started_idx),
# then stacked and summed: a customer-day exists when any of them has a row. ``{customers}``
# is empty (everyone) or _IN_CUSTOMERS (some customers only: the demo seeder's).
DAILY_SOURCE_SQL = """
    SELECT customer_id, d,
           sum(total_orders)::int AS total_orders,
           sum(completed_orders)::int AS completed_orders,
           sum(cancelled_orders)::int AS cancelled_orders,
           sum(food_orders)::int AS food_orders,
           sum(parcel_orders)::int AS parcel_orders,
           sum(ride_orders)::int AS ride_orders,
           sum(total_spent) AS total_spent,
           sum(total_saved) AS total_saved,
           sum(tips_given) AS tips_given,
           round(sum(rating_sum)::numeric / nullif(sum(ratings_count), 0), 2) AS avg_rating_given,
           sum(ratings_count)::int AS ratings_count,
           sum(app_opens)::int AS app_opens,
           sum(time_spent_minutes)::int AS time_spent_minutes
    FROM (
        SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date AS d,
               count(*) AS total_orders,
               count(*) FILTER (WHERE status = 'COMPLETED') AS completed_orders,
               count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled_orders,
               count(*) FILTER (WHERE service_type = 'FOOD') AS food_orders,
               count(*) FILTER (WHERE service_type = 'PARCEL') AS parcel_orders,
               count(*) FILTER (WHERE service_type = 'RIDE') AS ride_orders,
               coalesce(sum(order_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS total_spent,
               coalesce(sum(discount_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS total_saved,
               coalesce(sum(tip_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS tips_given,
               coalesce(sum(customer_rating), 0) AS rating_sum,
               count(customer_rating) AS ratings_count,
               0 AS app_opens, 0 AS time_spent_minutes
        FROM orders
        WHERE created_at >= %(start)s AND created_at < %(end)s {customers}
        GROUP BY 1, 2
        UNION ALL
        -- any activity row makes the customer-day exist; only APP_OPEN rows are app opens
        SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               count(*) FILTER (WHERE activity_type = 'APP_OPEN'), 0
        FROM customer_activity_log
        WHERE created_at >= %(start)s AND created_at < %(end)s {customers}
        GROUP BY 1, 2
        UNION ALL
        SELECT customer_id, (started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               -- whole minutes of each finished session; a session still open counts 0
               coalesce(sum(floor(extract(epoch FROM ended_at - started_at) / 60))
                        FILTER (WHERE ended_at IS NOT NULL), 0)
        FROM customer_sessions
        WHERE started_at >= %(start)s AND started_at < %(end)s {customers}
        GROUP BY 1, 2
    ) per_source
    GROUP BY customer_id, d
"""


_IN_CUSTOMERS = "AND customer_id = ANY(%(customers)s)"


def _daily_statements(customers: bool) -> list[str]:
    """The daily analytics job's statements: everyone's customer-days, or (``customers``)
    only those of the customers in %(customers)s.

    The computed rows go to a temporary table, merged into the table, then the range's rows
    without sources are deleted. A MERGE rather than INSERT ... ON CONFLICT DO UPDATE: on a
    filled table an upsert locks (writes) every conflicting row even when nothing changed,
    which made a re-run over 90 days at 100,000 customers (seed_demo's) take minutes; MERGE
    joins the range once and touches only new and changed rows. The job runs one copy at a
    time (JobCommand), so MERGE's lack of ON CONFLICT handling for concurrent inserts is moot.
    """
    scope = _IN_CUSTOMERS if customers else ""
    metrics = ", ".join(DAILY_METRICS)
    return [
        f"CREATE TEMPORARY TABLE daily_computed AS {DAILY_SOURCE_SQL.format(customers=scope)}",
        "ANALYZE daily_computed",
        f"""
        MERGE INTO customer_daily_analytics t
        USING daily_computed c
           -- every computed day is in the range: the range bound lets the join read the range only
           ON t.customer_id = c.customer_id AND t.analytics_date = c.d
          AND t.analytics_date BETWEEN %(first)s AND %(last)s
        WHEN MATCHED AND ({", ".join(f"t.{m}" for m in DAILY_METRICS)})
                         IS DISTINCT FROM ({", ".join(f"c.{m}" for m in DAILY_METRICS)}) THEN
            UPDATE SET {", ".join(f"{m} = c.{m}" for m in DAILY_METRICS)}
        WHEN NOT MATCHED THEN
            INSERT (customer_id, analytics_date, {metrics}, created_at, updated_at)
            VALUES (c.customer_id, c.d, {", ".join(f"c.{m}" for m in DAILY_METRICS)}, now(), now())
        """,
        # "A daily row exists ... for no one else": a row in the range whose sources are gone
        # (e.g. an erased activity log) is removed. Rows with sources are never deleted.
        f"""
        DELETE FROM customer_daily_analytics t
        WHERE t.analytics_date BETWEEN %(first)s AND %(last)s {scope.replace("customer_id", "t.customer_id")}
          AND NOT EXISTS (SELECT 1 FROM daily_computed c WHERE c.customer_id = t.customer_id AND c.d = t.analytics_date)
        """,
        "DROP TABLE daily_computed",  # a second run in the same transaction makes it again
    ]


DAILY_STATEMENTS = _daily_statements(customers=False)
DAILY_STATEMENTS_FOR_CUSTOMERS = _daily_statements(customers=True)


def _daily_rebuild(customers: bool) -> tuple[str, str]:
    """A range without rows yet (a first run, a rebuild): whether it is empty, and the one
    INSERT ... SELECT that fills it -- nothing to compare or remove, no temporary table."""
    scope = _IN_CUSTOMERS if customers else ""
    metrics = ", ".join(DAILY_METRICS)
    empty = f"""
        SELECT NOT EXISTS (SELECT 1 FROM customer_daily_analytics
                           WHERE analytics_date BETWEEN %(first)s AND %(last)s {scope})
    """
    insert = f"""
        INSERT INTO customer_daily_analytics (customer_id, analytics_date, {metrics}, created_at, updated_at)
        SELECT customer_id, d, {metrics}, now(), now() FROM ({DAILY_SOURCE_SQL.format(customers=scope)}) c
    """
    return empty, insert


DAILY_REBUILD = _daily_rebuild(customers=False)
DAILY_REBUILD_FOR_CUSTOMERS = _daily_rebuild(customers=True)


def run_daily_analytics(days: DayRange, customers: list[int] | None = None) -> JobResult:
    """Upsert ``customer_daily_analytics`` for every customer-day of ``days`` (of the
    ``customers`` only, when given)."""
    statements = DAILY_STATEMENTS if customers is None else DAILY_STATEMENTS_FOR_CUSTOMERS
    empty, insert = DAILY_REBUILD if customers is None else DAILY_REBUILD_FOR_CUSTOMERS
    params = {**days.params(), "customers": customers}
    counts = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(empty, params)
        if cursor.fetchone()[0]:
            cursor.execute(insert, params)
            return JobResult("daily analytics", cursor.rowcount, cursor.rowcount)
        for sql in statements:
            cursor.execute(sql, params)
            counts.append(cursor.rowcount)
    rows, _, written, deleted, _ = counts
    return JobResult("daily analytics", rows, written, deleted)
