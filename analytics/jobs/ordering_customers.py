"""``analytics_ordering_customers``: customers ordering per day, with their previous order day."""

from __future__ import annotations

from django.db import connection, transaction

from analytics.jobs.common import DayRange, JobResult, service_orders
from analytics.models import ALL_SERVICES
from customer_ops.db import upsert_set

# Each customer-day with orders (of each service, and of any: ALL_SERVICES), with the customer's
# previous order day: the window's previous row, or for the first row of the window the
# last such day before it (customer_daily_analytics_unique, read backwards).
ORDERING_CUSTOMERS_SOURCE_SQL = f"""
    WITH ordered AS (
        SELECT d.customer_id, d.analytics_date AS day, s.service_type,
               lag(d.analytics_date) OVER (PARTITION BY d.customer_id, s.service_type ORDER BY d.analytics_date)
                   AS previous_day
        FROM customer_daily_analytics d
        CROSS JOIN (VALUES ('{ALL_SERVICES}'), ('FOOD'), ('PARCEL'), ('RIDE')) s (service_type)
        WHERE d.analytics_date >= %(first)s AND {service_orders("s.service_type")} > 0
    )
    SELECT o.day, o.service_type,
           coalesce(o.previous_day, (
               SELECT max(e.analytics_date) FROM customer_daily_analytics e
               WHERE e.customer_id = o.customer_id AND e.analytics_date < %(first)s
                 AND {service_orders("o.service_type", day="e")} > 0
           )) AS previous_day,
           count(*)::int AS customers
    FROM ordered o
    GROUP BY 1, 2, 3
"""

ORDERING_CUSTOMERS_UPSERT_SQL = f"""
    WITH computed AS MATERIALIZED ({ORDERING_CUSTOMERS_SOURCE_SQL}),
    upserted AS (
        INSERT INTO analytics_ordering_customers (day, service_type, previous_day, customers, updated_at)
        SELECT day, service_type, previous_day, customers, now() FROM computed
        ON CONFLICT (day, service_type, previous_day) DO UPDATE
        SET updated_at = now(), {upsert_set("analytics_ordering_customers", ["customers"])}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM analytics_ordering_customers t
        WHERE t.day >= %(first)s
          AND NOT EXISTS (
              SELECT 1 FROM computed c
              WHERE c.day = t.day AND c.service_type = t.service_type
                AND c.previous_day IS NOT DISTINCT FROM t.previous_day
          )
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""


def run_ordering_customers(days: DayRange) -> JobResult:
    """Recompute ``analytics_ordering_customers`` from the first day of ``days`` on.

    Every later day is recomputed too: a change on one day (an order now counted) moves the
    previous order day of the customer's next order day. Runs after the daily analytics.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ORDERING_CUSTOMERS_UPSERT_SQL, days.params())
        rows, written, deleted = cursor.fetchone()
    return JobResult("ordering customers", rows, written, deleted)
