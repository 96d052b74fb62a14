"""``analytics_platform_daily``: the platform's orders per UTC day and service."""

from __future__ import annotations

from django.db import connection, transaction

from analytics.jobs.common import DayRange, JobResult
from customer_ops.db import upsert_set

PLATFORM_METRICS = ["total_orders", "completed_orders", "cancelled_orders", "total_spent"]

# The platform's orders per UTC day and service, through orders_created_idx. Also what the
# dashboard runs over the days the job has not covered yet (today).
PLATFORM_SOURCE_SQL = """
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, service_type,
           count(*)::int AS total_orders,
           count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed_orders,
           count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled_orders,
           coalesce(sum(order_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS total_spent
    FROM orders
    WHERE created_at >= %(start)s AND created_at < %(end)s
    GROUP BY 1, 2
"""

PLATFORM_UPSERT_SQL = f"""
    WITH computed AS MATERIALIZED ({PLATFORM_SOURCE_SQL}),
    upserted AS (
        INSERT INTO analytics_platform_daily (day, service_type, {", ".join(PLATFORM_METRICS)}, updated_at)
        SELECT day, service_type, {", ".join(PLATFORM_METRICS)}, now() FROM computed
        ON CONFLICT (day, service_type) DO UPDATE
        SET updated_at = now(), {upsert_set("analytics_platform_daily", PLATFORM_METRICS)}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM analytics_platform_daily t
        WHERE t.day BETWEEN %(first)s AND %(last)s
          AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.day = t.day AND c.service_type = t.service_type)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""


def run_platform_daily(days: DayRange) -> JobResult:
    """Upsert ``analytics_platform_daily`` for every day and service of ``days``."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PLATFORM_UPSERT_SQL, days.params())
        rows, written, deleted = cursor.fetchone()
    return JobResult("platform daily", rows, written, deleted)
