"""Scheduled, set-based computations of the pre-aggregated tables and the referral lifecycle.

Every metric follows ARCHITECTURE.md, "Metric definitions" (UTC calendar days; an order
belongs to the day and service of its ``created_at`` and ``service_type``). Each job is
one ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` (or a few statements),
never a Python loop over customers, and is safe to re-run:

* a re-run keeps each row's ``id`` and ``created_at`` (rows are upserted, never deleted
  and re-inserted);
* a row whose values did not change is not written at all (``DO UPDATE ... WHERE ... IS
  DISTINCT FROM``), so a re-run changes nothing, ``updated_at`` included;
* running for overlapping ranges gives the same rows as one run over their union.

``manage.py run_daily_jobs`` runs them all; :func:`run_all` is what it calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from analytics.choices import ReferralStatus
from analytics.filters import MAX_DAYS
from analytics.models import ALL_SERVICES, COHORT_WEEKS, Referral, RewardHold
from analytics.selectors import shared_signals
from customer_ops.audit import audit
from customer_ops.db import upsert_set

UTC = dt.UTC


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of UTC calendar days, as the half-open timestamp range the SQL uses."""

    first: dt.date
    last: dt.date

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(f"Empty day range: {self.first} is after {self.last}.")

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, tzinfo=UTC)

    def params(self) -> dict:
        return {"first": self.first, "last": self.last, "start": self.start, "end": self.end}


def day_range(first: dt.date, last: dt.date | None = None) -> DayRange:
    return DayRange(first, last or first)


# --- customer_daily_analytics ---------------------------------------------------------------

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


@dataclass(frozen=True)
class JobResult:
    job: str
    rows: int  # rows the computation produced
    written: int  # rows inserted or changed
    deleted: int = 0

    def __str__(self) -> str:
        text = f"{self.job}: {self.rows} rows computed, {self.written} written"
        return text + (f", {self.deleted} stale removed" if self.deleted else "")


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


# --- customer_service_analytics and customer_orders_summary ------------------------------

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


# --- referral lifecycle --------------------------------------------------------------------

# Progress of the PENDING referrals: the referred customer's completed orders placed since
# the referral was made and completed by its deadline. The referral completes at the moment
# its ``required_orders``-th such order completed; it expires once the deadline has passed
# short of that. COMPLETED and EXPIRED referrals are final and never revisited.
REFERRAL_PROGRESS_SQL = """
    WITH progress AS (
        SELECT r.id, r.referral_status AS old_status, r.referred_customer_id,
               count(o.id)::int AS n,
               (array_agg(coalesce(o.completed_at, o.created_at) ORDER BY coalesce(o.completed_at, o.created_at), o.id)
                  FILTER (WHERE o.id IS NOT NULL))[r.required_orders] AS reached_at,
               r.required_orders, r.completion_deadline
        FROM customer_referrals r
        LEFT JOIN orders o
               ON o.customer_id = r.referred_customer_id
              AND o.status = 'COMPLETED'
              AND o.created_at >= r.created_at
              AND coalesce(o.completed_at, o.created_at) <= %(as_of)s
              AND (r.completion_deadline IS NULL OR coalesce(o.completed_at, o.created_at) <= r.completion_deadline)
        WHERE r.referral_status = 'PENDING'
        GROUP BY r.id
    ),
    decided AS (
        SELECT id, old_status, referred_customer_id, n,
               CASE WHEN n >= required_orders THEN 'COMPLETED'
                    WHEN completion_deadline < %(as_of)s THEN 'EXPIRED'
                    ELSE 'PENDING' END AS new_status,
               CASE WHEN n >= required_orders THEN reached_at END AS completed_at
        FROM progress
    )
    UPDATE customer_referrals r
       SET completed_orders = d.n, referral_status = d.new_status, completed_at = d.completed_at
      FROM decided d
     WHERE r.id = d.id
       AND (r.completed_orders, r.referral_status, r.completed_at) IS DISTINCT FROM (d.n, d.new_status, d.completed_at)
    RETURNING r.id, d.referred_customer_id, d.old_status, d.new_status
"""

# One reward per side of each completed referral, never two (the unique constraint
# customer_referral_rewards_one_per_side is the backstop); a side without a reward
# configured gets none.
REWARD_CREATE_SQL = """
    INSERT INTO customer_referral_rewards
        (referral_id, customer_id, reward_type, reward_amount, reward_status, coupon_code, created_at)
    SELECT r.id, side.customer_id, side.reward_type, side.reward_amount, 'PENDING', '', now()
    FROM customer_referrals r
    CROSS JOIN LATERAL (VALUES
        (r.referrer_customer_id, r.referrer_reward_type, r.referrer_reward_amount),
        (r.referred_customer_id, r.referred_reward_type, r.referred_reward_amount)
    ) AS side (customer_id, reward_type, reward_amount)
    WHERE r.referral_status = 'COMPLETED'
      AND side.reward_type IS NOT NULL AND side.reward_amount IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM customer_referral_rewards x WHERE x.referral_id = r.id AND x.customer_id = side.customer_id
      )
    ON CONFLICT (referral_id, customer_id) DO NOTHING
    RETURNING id, referral_id, customer_id
"""

# PENDING rewards with no undecided hold go to the reward system.
REWARD_START_SQL = """
    UPDATE customer_referral_rewards w SET reward_status = 'PROCESSING'
    WHERE w.reward_status = 'PENDING'
      AND NOT EXISTS (SELECT 1 FROM analytics_reward_hold h WHERE h.reward_id = w.id AND h.status <> 'RELEASED')
    RETURNING w.id
"""


@dataclass(frozen=True)
class ReferralResult:
    completed: int
    expired: int
    progressed: int
    rewards_created: int
    rewards_held: int
    rewards_processing: int

    def __str__(self) -> str:
        return (
            f"referrals: {self.completed} completed, {self.expired} expired, {self.progressed} progressed; "
            f"rewards: {self.rewards_created} created, {self.rewards_held} held for fraud review, "
            f"{self.rewards_processing} sent to processing"
        )


def run_referrals(*, as_of: dt.datetime | None = None) -> ReferralResult:
    """Advance the referral lifecycle as of ``as_of`` (now by default).

    1. PENDING referrals: ``completed_orders``, and COMPLETED (with ``completed_at``) or EXPIRED;
    2. a PENDING reward per side of each newly completed referral;
    3. a reward whose referrer and referred customer share a device id or an IP address is
       held (:class:`analytics.models.RewardHold`) for the fraud team, with the shared signal;
       only a fraud analyst releases or fails it (:mod:`analytics.services`);
    4. PENDING rewards not held move to PROCESSING, for the reward system to complete or fail.
    """
    as_of = as_of or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(REFERRAL_PROGRESS_SQL, {"as_of": as_of})
        changes = cursor.fetchall()
        for _referral_id, customer_id, old, new in changes:
            if old != new:  # one audit entry per status change, not per progress tick
                audit(
                    customer_id=customer_id,
                    action_type="STATUS_CHANGE",
                    action_field="referral_status",
                    old_value=old,
                    new_value=new,
                    reason="Referral job",
                )
        cursor.execute(REWARD_CREATE_SQL)
        created = cursor.fetchall()
        held = _hold_linked_rewards(created)
        cursor.execute(REWARD_START_SQL)
        processing = cursor.rowcount
    return ReferralResult(
        completed=sum(1 for c in changes if c[3] == ReferralStatus.COMPLETED),
        expired=sum(1 for c in changes if c[3] == ReferralStatus.EXPIRED),
        progressed=len(changes),
        rewards_created=len(created),
        rewards_held=held,
        rewards_processing=processing,
    )


def _hold_linked_rewards(created: list[tuple[int, int, int]]) -> int:
    """Hold the new rewards of referrals whose two customers share a device or an IP.

    One :func:`shared_signals` look-up per newly completed referral (a handful a day), not
    per customer.
    """
    referral_ids = sorted({referral_id for _, referral_id, _ in created})
    if not referral_ids:
        return 0
    pairs = Referral.objects.filter(pk__in=referral_ids).values_list(
        "pk", "referrer_customer_id", "referred_customer_id"
    )
    holds = []
    for referral_id, referrer_id, referred_id in pairs:
        signals = shared_signals(referrer_id, referred_id)
        if not any(signals.values()):
            continue
        for reward_id, r_id, customer_id in created:
            if r_id == referral_id:
                holds.append(RewardHold(reward_id=reward_id, shared_signals=signals))
                audit(
                    customer_id=customer_id,
                    action_type="STATUS_CHANGE",
                    action_field="reward_hold",
                    old_value=None,
                    new_value=RewardHold.Status.HELD,
                    reason=f"Referrer and referred customer share {_describe(signals)}",
                )
    RewardHold.objects.bulk_create(holds)
    return len(holds)


def _describe(signals: dict[str, list[str]]) -> str:
    parts = [f"{kind.replace('_', ' ')} {', '.join(values)}" for kind, values in signals.items() if values]
    return "; ".join(parts)


# --- analytics_platform_daily ----------------------------------------------------------------

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


# --- analytics_cohort_daily and analytics_cohort_activity (the dashboard's cohorts) -----------

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


def service_orders(service: str, day: str = "d") -> str:
    """SQL: the orders of the service named by the SQL expression ``service`` (a service
    type, or ``ALL_SERVICES`` for every service) on the customer_daily_analytics row ``day``."""
    return f"""CASE {service} WHEN 'FOOD' THEN {day}.food_orders WHEN 'PARCEL' THEN {day}.parcel_orders
                              WHEN 'RIDE' THEN {day}.ride_orders ELSE {day}.total_orders END"""


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


# --- analytics_ordering_customers ------------------------------------------------------------

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
