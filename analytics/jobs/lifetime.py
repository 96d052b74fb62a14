"""``customer_service_analytics`` and ``customer_orders_summary``: each customer's lifetime
metrics per service, recomputed for the customers who ordered in the range (or everyone)."""

from __future__ import annotations

from django.db import connection, transaction

from analytics.jobs.common import DayRange, JobResult
from customer_ops.db import upsert_set

# Lifetime metrics per customer and service. ``{scope}`` limits the recomputation to the
# customers who placed an order in the range (or is empty for everyone); their whole
# history is re-aggregated, through orders_customer_created_idx.
SERVICE_SOURCE_SQL = """
    WITH scoped AS (
        SELECT o.customer_id, o.service_type, o.status, o.order_amount, o.customer_rating,
               o.merchant_id, o.created_at
        FROM orders o
        {scope}
    ),
    merchants AS (
        SELECT customer_id, service_type, merchant_id, count(*) AS n
        FROM scoped
        WHERE status = 'COMPLETED' AND merchant_id IS NOT NULL
        GROUP BY 1, 2, 3
    ),
    favourites AS (
        SELECT customer_id, service_type, (array_agg(merchant_id ORDER BY n DESC, merchant_id))[1:3] AS top3
        FROM merchants
        GROUP BY 1, 2
    ),
    totals AS (
        SELECT customer_id, service_type,
               count(*)::int AS total_orders,
               count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed_orders,
               count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled_orders,
               coalesce(sum(order_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS total_spent,
               min(created_at) AS first_order_at,
               max(created_at) AS last_order_at,
               round(avg(customer_rating), 2) AS avg_rating_given,
               count(customer_rating)::int AS ratings_given_count
        FROM scoped
        GROUP BY 1, 2
    )
    SELECT t.*,
           round(100.0 * t.cancelled_orders / t.total_orders, 2) AS cancellation_rate,
           round(t.total_spent / nullif(t.completed_orders, 0), 2) AS average_order_value,
           CASE WHEN t.total_orders > 1 THEN
                round(extract(epoch FROM t.last_order_at - t.first_order_at) / (86400 * (t.total_orders - 1)), 2)
           END AS avg_days_between_orders,
           coalesce(f.top3, '{{}}') AS favorite_merchant_ids
    FROM totals t
    LEFT JOIN favourites f USING (customer_id, service_type)
"""

_SCOPE_RANGE = """
        WHERE o.customer_id IN (
            SELECT customer_id FROM orders WHERE created_at >= %(start)s AND created_at < %(end)s
        )
"""
# Or some customers only (the demo seeder's), through orders_customer_created_idx.
_SCOPE_CUSTOMERS = "WHERE o.customer_id = ANY(%(customers)s)"

SERVICE_METRICS = [
    "total_orders",
    "completed_orders",
    "cancelled_orders",
    "cancellation_rate",
    "total_spent",
    "average_order_value",
    "first_order_at",
    "last_order_at",
    "avg_days_between_orders",
    "avg_rating_given",
    "ratings_given_count",
    "favorite_merchant_ids",
]

SERVICE_UPSERT_SQL = """
    INSERT INTO customer_service_analytics
        (customer_id, service_type, {cols}, created_at, last_updated_at)
    SELECT customer_id, service_type, {cols}, now(), now() FROM ({source}) s
    ON CONFLICT (customer_id, service_type) DO UPDATE SET {set}
"""

SUMMARY_METRICS = ["total_orders", "total_spent", "average_order_value", "last_order_at", "favorite_merchant_id"]

SUMMARY_UPSERT_SQL = """
    INSERT INTO customer_orders_summary
        (customer_id, service_type, {cols}, created_at, updated_at)
    SELECT customer_id, service_type, total_orders, total_spent, average_order_value, last_order_at,
           favorite_merchant_ids[1], now(), now()
    FROM ({source}) s
    ON CONFLICT (customer_id, service_type) DO UPDATE SET {set}
"""


def _scoped_source(days: DayRange | None, customers: list[int] | None = None) -> str:
    if customers is not None:
        return SERVICE_SOURCE_SQL.format(scope=_SCOPE_CUSTOMERS)
    return SERVICE_SOURCE_SQL.format(scope=_SCOPE_RANGE if days else "")


def _run_upsert(sql: str, days: DayRange | None, customers: list[int] | None = None) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {**(days.params() if days else {}), "customers": customers})
        return cursor.rowcount


def run_service_analytics(days: DayRange | None = None, customers: list[int] | None = None) -> JobResult:
    """Upsert ``customer_service_analytics`` for the customers who ordered in ``days``
    (every customer when ``days`` is ``None``; the ``customers`` given, when given)."""
    sql = SERVICE_UPSERT_SQL.format(
        cols=", ".join(SERVICE_METRICS),
        source=_scoped_source(days, customers),
        set=upsert_set("customer_service_analytics", SERVICE_METRICS),
    )
    written = _run_upsert(sql, days, customers)
    return JobResult("service analytics", written, written)


def run_orders_summary(days: DayRange | None = None, customers: list[int] | None = None) -> JobResult:
    """Upsert ``customer_orders_summary`` for the customers who ordered in ``days``
    (every customer when ``days`` is ``None``; the ``customers`` given, when given)."""
    sql = SUMMARY_UPSERT_SQL.format(
        cols=", ".join(SUMMARY_METRICS),
        source=_scoped_source(days, customers),
        set=upsert_set("customer_orders_summary", SUMMARY_METRICS),
    )
    written = _run_upsert(sql, days, customers)
    return JobResult("orders summary", written, written)
