"""The analytics dashboard's own figures: KPI tiles, the cohort retention matrix and
referred versus organic customers. The charts come from the registry (each app's
``charts.py``). Every function runs one query, whatever the size of the range.

Definitions shown on the page:

* a customer's **cohort** is the UTC week (Monday) of their first order, of the chosen
  service if one is chosen (``customer_service_analytics.first_order_at``); the cohorts
  shown are the customers whose first order falls in the chosen range;
* **retention** in week *k* is the share of a cohort that ordered in its *k*-th week after
  the first (``customer_daily_analytics``); a cell whose week is not over by the end of
  the range is left empty;
* **refund rate** is refund requests per 100 orders placed in the range; **fraud-alert
  rate** the share of customers with at least one fraud alert in the range.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from analytics.jobs import PLATFORM_METRICS, service_orders
from analytics.models import ALL_SERVICES, COHORT_WEEKS
from customer_ops.dates import split_range
from customer_ops.replica import read_connection

_PLATFORM_SQL = """
    SELECT day, service_type, total_orders, completed_orders, cancelled_orders, total_spent
    FROM analytics_platform_daily
    WHERE day BETWEEN %(first)s AND %(last)s AND day < %(raw_first)s
      AND (%(service)s = '' OR service_type = %(service)s)
    UNION ALL
    SELECT (hour AT TIME ZONE 'UTC')::date, service_type, sum(total_orders)::int, sum(completed_orders)::int,
           sum(cancelled_orders)::int, sum(total_spent)
    FROM analytics_platform_hourly
    WHERE hour >= %(raw_start)s AND hour < %(end)s
      AND (%(service)s = '' OR service_type = %(service)s)
    GROUP BY 1, 2
"""


def platform_days(f: dict) -> dict[tuple[dt.date, str], dict]:
    """The platform's orders per UTC day and service of the range (ARCHITECTURE.md's
    definitions): ``{(day, service_type): {"total_orders", "completed_orders",
    "cancelled_orders", "total_spent"}}``. One query."""
    if "_platform_days" in f:  # one query per request: the charts and the KPIs share it
        return f["_platform_days"]
    with read_connection().cursor() as cursor:  # the replica inside read_replica()
        cursor.execute(_PLATFORM_SQL, split_range(f))  # the last RAW_DAYS per hour (PlatformHourly)
        f["_platform_days"] = {
            (day, service): dict(zip(PLATFORM_METRICS, values, strict=True))
            for day, service, *values in cursor.fetchall()
        }
    return f["_platform_days"]


def kpis(f: dict) -> dict:
    totals = dict.fromkeys(PLATFORM_METRICS, 0)
    for row in platform_days(f).values():
        for key in PLATFORM_METRICS:
            totals[key] += row[key]
    total, done = totals["total_orders"], totals["completed_orders"]
    spent = Decimal(totals["total_spent"])
    return {
        "orders": total,
        "completed": done,
        "cancellation_rate": round(Decimal(100 * totals["cancelled_orders"]) / total, 2) if total else None,
        "spent": spent,
        "average_order_value": round(spent / done, 2) if done else None,
        "customers": ordering_customers(f),
    }


# Customers who ordered in the range: the days up to the last one the job has covered from
# analytics_ordering_customers (see its model), plus the customers of the later days'
# orders (today's, through orders_created_idx) who did not order on those days.
_ORDERING_CUSTOMERS_SQL = f"""
    WITH covered AS (  -- null when the job has not run: then every day comes from the orders
        SELECT CASE WHEN max(day) IS NOT NULL THEN least(%(last)s, %(today)s - 1, max(day)) END AS last
        FROM analytics_ordering_customers
    )
    SELECT
        (SELECT coalesce(sum(customers), 0) FROM analytics_ordering_customers, covered
         WHERE service_type = %(service)s AND day BETWEEN %(first)s AND covered.last
           AND (previous_day IS NULL OR previous_day < %(first)s))
        +
        (SELECT count(DISTINCT o.customer_id) FROM orders o, covered
         WHERE o.created_at >= greatest(
                   %(start)s, (coalesce(covered.last, %(first)s - 1) + 1)::timestamp AT TIME ZONE 'UTC'
               )
           AND o.created_at < %(end)s
           AND (%(service)s = '{ALL_SERVICES}' OR o.service_type = %(service)s)
           AND NOT EXISTS (
               SELECT 1 FROM customer_daily_analytics d
               WHERE d.customer_id = o.customer_id AND d.analytics_date BETWEEN %(first)s AND covered.last
                 AND {service_orders("%(service)s")} > 0
           ))
"""


def ordering_customers(f: dict) -> int:
    """How many customers ordered in the range (of the chosen service). One query."""
    today = timezone.now().astimezone(dt.UTC).date()
    with read_connection().cursor() as cursor:
        cursor.execute(_ORDERING_CUSTOMERS_SQL, _params(f) | {"start": f["start"], "end": f["end"], "today": today})
        return int(cursor.fetchone()[0])


# Both read tables that run_cohorts fills (analytics/models.py says what their rows count):
# the rows of the range's first-order days add up to the range's cohorts, whatever its size.


def _params(f: dict) -> dict:
    return {"first": f["first"], "last": f["last"], "service": f["service_type"] or ALL_SERVICES}


def cohort_retention(f: dict) -> dict:
    """``{"weeks": [1..N], "rows": [{"cohort", "size", "cells": [pct or None, ...]}]}``."""
    sql = """
        SELECT date_trunc('week', first_order_day)::date AS cohort, k, sum(customers)::int
        FROM analytics_cohort_daily
        WHERE service_type = %(service)s AND first_order_day BETWEEN %(first)s AND %(last)s
        GROUP BY 1, 2
    """
    with read_connection().cursor() as cursor:
        cursor.execute(sql, _params(f))
        counts = {(cohort, k): n for cohort, k, n in cursor.fetchall()}
    weeks = list(range(1, COHORT_WEEKS + 1))
    rows = []
    for cohort in sorted(cohort for cohort, k in counts if k == 0):
        size = counts[(cohort, 0)]
        cells = []
        for k in weeks:
            week_end = cohort + dt.timedelta(days=7 * k + 6)
            if week_end > f["last"]:
                cells.append(None)  # the week is not over: no figure yet
            else:
                cells.append(round(100 * counts.get((cohort, k), 0) / size, 1))
        rows.append({"cohort": cohort, "size": size, "cells": cells})
    return {"weeks": weeks, "rows": rows}


def referred_vs_organic(f: dict) -> list[dict]:
    """The customers whose first order falls in the range, referred and organic side by side:
    how many came back in a later week by the range's end, their refund requests per 100
    orders (any service) and the share with a fraud alert, within the range."""
    sql = """
        SELECT referred, sum(customers), sum(returned), sum(orders), sum(refunds),
               -- a customer alerted on several days of the range counts on the first of them
               sum(alerted) FILTER (WHERE previous_alert_day IS NULL OR previous_alert_day < %(first)s)
        FROM analytics_cohort_activity
        WHERE service_type = %(service)s
          AND first_order_day BETWEEN %(first)s AND %(last)s AND day BETWEEN %(first)s AND %(last)s
        GROUP BY referred
    """
    with read_connection().cursor() as cursor:
        cursor.execute(sql, _params(f))
        found = {row[0]: [n or 0 for n in row[1:]] for row in cursor.fetchall()}
    result = []
    for referred, label in [(True, "Referred"), (False, "Organic")]:
        customers, returned, orders, refunds, alerted = found.get(referred, (0, 0, 0, 0, 0))
        result.append(
            {
                "label": label,
                "customers": customers,
                "retention": round(100 * returned / customers, 1) if customers else None,
                "refund_rate": round(Decimal(100 * refunds) / orders, 1) if orders else None,
                "fraud_alert_rate": round(100 * alerted / customers, 1) if customers else None,
            }
        )
    return result
