"""``analytics_cohort_daily`` and ``analytics_cohort_activity``: the dashboard's cohorts."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from analytics.filters import MAX_DAYS
from analytics.jobs.common import DayRange, JobResult, day_range, service_orders
from analytics.models import ALL_SERVICES, COHORT_WEEKS
from customer_ops.db import upsert_set

# Each customer's first-order day per service and over every service (ALL_SERVICES: the
# earliest of their first orders), for the customers that ``{customers}`` selects.
COHORTS_SQL = f"""
    SELECT customer_id, service_type, (first_order_at AT TIME ZONE 'UTC')::date AS first_day
    FROM customer_service_analytics
    WHERE customer_id IN ({{customers}})
    UNION ALL
    SELECT customer_id, '{ALL_SERVICES}', (min(first_order_at) AT TIME ZONE 'UTC')::date
    FROM customer_service_analytics
    WHERE customer_id IN ({{customers}})
    GROUP BY customer_id
"""


# Orders on day D fall in the k-th week (k <= COHORT_WEEKS) after the week of first-order
# days down to D - COHORT_LOOKBACK_DAYS: the first-order days a run over D recomputes.
COHORT_LOOKBACK_DAYS = 7 * (COHORT_WEEKS + 1)

_IN_RANGE_FIRST_ORDERS = (
    "SELECT customer_id FROM customer_service_analytics WHERE first_order_at >= %(start)s AND first_order_at < %(end)s"
)

# Whole rows: every customer whose first order (of a service, or overall) was on a day of
# the range, and the weeks after it in which they ordered that service again.
COHORT_DAILY_SOURCE_SQL = f"""
    WITH cohorts AS MATERIALIZED (
        SELECT c.*, date_trunc('week', c.first_day)::date AS week
        FROM ({COHORTS_SQL.format(customers=_IN_RANGE_FIRST_ORDERS)}) c
        WHERE c.first_day BETWEEN %(first)s AND %(last)s
    ),
    came_back AS (
        SELECT DISTINCT c.first_day, c.service_type, (d.analytics_date - c.week) / 7 AS k, c.customer_id
        FROM cohorts c
        JOIN customer_daily_analytics d
          ON d.customer_id = c.customer_id
         AND d.analytics_date BETWEEN c.week + 7 AND c.week + {7 * (COHORT_WEEKS + 1) - 1}
        WHERE {service_orders("c.service_type")} > 0
    )
    SELECT first_day, service_type, 0 AS k, count(*)::int AS customers FROM cohorts GROUP BY 1, 2
    UNION ALL
    SELECT first_day, service_type, k, count(*)::int FROM came_back GROUP BY 1, 2, 3
"""

COHORT_DAILY_UPSERT_SQL = f"""
    WITH computed AS MATERIALIZED ({COHORT_DAILY_SOURCE_SQL}),
    upserted AS (
        INSERT INTO analytics_cohort_daily (first_order_day, service_type, k, customers, updated_at)
        SELECT first_day, service_type, k, customers, now() FROM computed
        ON CONFLICT (service_type, first_order_day, k) DO UPDATE
        SET updated_at = now(), {upsert_set("analytics_cohort_daily", ["customers"])}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM analytics_cohort_daily t
        WHERE t.first_order_day BETWEEN %(first)s AND %(last)s
          AND NOT EXISTS (
              SELECT 1 FROM computed c
              WHERE (c.first_day, c.service_type, c.k) = (t.first_order_day, t.service_type, t.k)
          )
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""

ACTIVITY_METRICS = ["customers", "returned", "orders", "refunds", "alerted"]
_ACTIVITY_COLUMNS = ", ".join(ACTIVITY_METRICS)

# A range holds at most MAX_DAYS days: activity further than that from the first order never
# meets it in one range.
COHORT_HORIZON_DAYS = MAX_DAYS - 1

# The rows a run over some days recomputes are those whose first-order day or day is one of
# them. They are summed over every customer with something on such a day (a first order, an
# order, a refund request, a fraud alert): all of the customer's days near their first
# order when that is in the range ([lo, hi]), only the range's days otherwise.
COHORT_ACTIVITY_SOURCE_SQL = f"""
    WITH touched AS (
        {_IN_RANGE_FIRST_ORDERS}
        UNION
        SELECT customer_id FROM customer_daily_analytics
        WHERE analytics_date BETWEEN %(first)s AND %(last)s AND total_orders > 0
        UNION
        SELECT customer_id FROM customer_refund_requests WHERE created_at >= %(start)s AND created_at < %(end)s
        UNION
        SELECT customer_id FROM customer_fraud_alerts WHERE created_at >= %(start)s AND created_at < %(end)s
    ),
    cohorts AS MATERIALIZED (
        SELECT c.*, date_trunc('week', c.first_day)::date AS week,
               EXISTS (SELECT 1 FROM customer_referrals r WHERE r.referred_customer_id = c.customer_id) AS referred,
               CASE WHEN c.first_day BETWEEN %(first)s AND %(last)s THEN c.first_day - {COHORT_HORIZON_DAYS}
                    ELSE greatest(c.first_day - {COHORT_HORIZON_DAYS}, %(first)s) END AS lo,
               CASE WHEN c.first_day BETWEEN %(first)s AND %(last)s THEN c.first_day + {COHORT_HORIZON_DAYS}
                    ELSE least(c.first_day + {COHORT_HORIZON_DAYS}, %(last)s) END AS hi
        FROM ({COHORTS_SQL.format(customers="SELECT customer_id FROM touched")}) c
    ),
    -- each customer's distinct alert days, with the one before
    alert_days AS (
        SELECT customer_id, day, lag(day) OVER (PARTITION BY customer_id ORDER BY day) AS previous_day
        FROM (
            SELECT DISTINCT customer_id, (created_at AT TIME ZONE 'UTC')::date AS day
            FROM customer_fraud_alerts WHERE customer_id IN (SELECT customer_id FROM touched)
        ) a
    ),
    -- each cohort's customer-days with orders, in its window
    order_days AS (
        SELECT c.customer_id, c.service_type, c.referred, c.first_day, c.week, c.lo, d.analytics_date AS day,
               d.total_orders, {service_orders("c.service_type")} > 0 AS ordered_service
        FROM cohorts c
        JOIN customer_daily_analytics d ON d.customer_id = c.customer_id AND d.analytics_date BETWEEN c.lo AND c.hi
        WHERE d.total_orders > 0
    ),
    -- the first order of the service in a week after the first order's week: the window's
    -- first one, when the window starts by then or no such order came before it
    returns AS (
        SELECT o.service_type, o.referred, o.first_day, min(o.day) AS day
        FROM order_days o
        WHERE o.ordered_service AND o.day >= o.week + 7
        GROUP BY o.customer_id, o.service_type, o.referred, o.first_day, o.week, o.lo
        HAVING o.lo <= o.week + 7 OR NOT EXISTS (
            SELECT 1 FROM customer_daily_analytics d
            WHERE d.customer_id = o.customer_id AND d.analytics_date >= o.week + 7 AND d.analytics_date < o.lo
              AND {service_orders("o.service_type")} > 0
        )
    ),
    points AS (
        SELECT service_type, referred, first_day, first_day AS day, NULL::date AS previous_alert_day,
               1 AS customers, 0 AS returned, 0 AS orders, 0 AS refunds, 0 AS alerted
        FROM cohorts
        WHERE first_day BETWEEN lo AND hi
        UNION ALL
        SELECT service_type, referred, first_day, day, NULL, 0, 1, 0, 0, 0 FROM returns
        UNION ALL
        SELECT service_type, referred, first_day, day, NULL, 0, 0, sum(total_orders), 0, 0
        FROM order_days
        GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT c.service_type, c.referred, c.first_day, q.day, NULL, 0, 0, 0, 1, 0
        FROM cohorts c
        JOIN (SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date AS day FROM customer_refund_requests) q
          ON q.customer_id = c.customer_id AND q.day BETWEEN c.lo AND c.hi
        UNION ALL
        SELECT c.service_type, c.referred, c.first_day, a.day, a.previous_day, 0, 0, 0, 0, 1
        FROM cohorts c
        JOIN alert_days a ON a.customer_id = c.customer_id AND a.day BETWEEN c.lo AND c.hi
    )
    SELECT service_type, referred, first_day, day, previous_alert_day,
           {", ".join(f"sum({m})::int AS {m}" for m in ACTIVITY_METRICS)}
    FROM points
    GROUP BY 1, 2, 3, 4, 5
"""

COHORT_ACTIVITY_UPSERT_SQL = f"""
    WITH computed AS MATERIALIZED ({COHORT_ACTIVITY_SOURCE_SQL}),
    upserted AS (
        INSERT INTO analytics_cohort_activity
            (service_type, referred, first_order_day, day, previous_alert_day, {_ACTIVITY_COLUMNS}, updated_at)
        SELECT service_type, referred, first_day, day, previous_alert_day, {_ACTIVITY_COLUMNS}, now()
        FROM computed
        ON CONFLICT (service_type, first_order_day, day, referred, previous_alert_day) DO UPDATE
        SET updated_at = now(), {upsert_set("analytics_cohort_activity", ACTIVITY_METRICS)}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM analytics_cohort_activity t
        WHERE (t.first_order_day BETWEEN %(first)s AND %(last)s OR t.day BETWEEN %(first)s AND %(last)s)
          AND NOT EXISTS (
              SELECT 1 FROM computed c
              WHERE (c.service_type, c.first_day, c.day, c.referred)
                    = (t.service_type, t.first_order_day, t.day, t.referred)
                AND c.previous_alert_day IS NOT DISTINCT FROM t.previous_alert_day
          )
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""


# A run over many days needs most of the customer-days it reads anyway: hash joins over them
# beat an index probe per customer and service, which the planner prefers (100k customers,
# 90 days: 27 s instead of 150 s). A daily run touches fewer customers and keeps the probes.
BULK_DAYS = 14


def run_cohorts(days: DayRange) -> JobResult:
    """Upsert the dashboard's cohort tables for what the customer-days of ``days`` change:
    ``analytics_cohort_daily`` for the first-order days from COHORT_LOOKBACK_DAYS before
    ``days`` to their end, ``analytics_cohort_activity`` for the rows with either day in
    ``days``. Reads ``customer_service_analytics`` and ``customer_daily_analytics`` (run it
    after :func:`run_daily_analytics` and :func:`run_service_analytics`), referrals, refund
    requests and fraud alerts."""
    weeks = day_range(days.first - dt.timedelta(days=COHORT_LOOKBACK_DAYS), days.last)
    with transaction.atomic(), connection.cursor() as cursor:
        if (days.last - days.first).days >= BULK_DAYS:
            cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(COHORT_DAILY_UPSERT_SQL, weeks.params())
        daily = cursor.fetchone()
        cursor.execute(COHORT_ACTIVITY_UPSERT_SQL, days.params())
        activity = cursor.fetchone()
    rows, written, deleted = (a + b for a, b in zip(daily, activity, strict=True))
    return JobResult("cohorts", rows, written, deleted)
