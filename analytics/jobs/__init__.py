"""Scheduled, set-based computations of the pre-aggregated tables and the referral lifecycle.

One module per table family:

* :mod:`~analytics.jobs.daily`: ``customer_daily_analytics``;
* :mod:`~analytics.jobs.lifetime`: ``customer_service_analytics`` and ``customer_orders_summary``;
* :mod:`~analytics.jobs.platform_daily`: ``analytics_platform_daily``;
* :mod:`~analytics.jobs.ordering_customers`: ``analytics_ordering_customers``;
* :mod:`~analytics.jobs.cohorts`: ``analytics_cohort_daily`` and ``analytics_cohort_activity``;
* :mod:`~analytics.jobs.referrals`: the referral lifecycle (referrals, rewards, reward holds).

Every metric follows ARCHITECTURE.md, "Metric definitions" (UTC calendar days; an order
belongs to the day and service of its ``created_at`` and ``service_type``). Each job is
one ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` (or a few statements),
never a Python loop over customers, and is safe to re-run:

* a re-run keeps each row's ``id`` and ``created_at`` (rows are upserted, never deleted
  and re-inserted);
* a row whose values did not change is not written at all (``DO UPDATE ... WHERE ... IS
  DISTINCT FROM``), so a re-run changes nothing, ``updated_at`` included;
* running for overlapping ranges gives the same rows as one run over their union.

They are registered below like every app's daily jobs
(``customer_ops.registry.register_daily_job``), which ``manage.py run_daily_jobs`` runs in
their order; this module is discovered as ``<app>/jobs`` by ``customer_ops``.
"""

from __future__ import annotations

from analytics.jobs.cohorts import (
    ACTIVITY_METRICS,
    BULK_DAYS,
    COHORT_HORIZON_DAYS,
    COHORT_LOOKBACK_DAYS,
    run_cohorts,
)
from analytics.jobs.common import UTC, DayRange, JobResult, day_range, service_orders
from analytics.jobs.daily import (
    DAILY_METRICS,
    DAILY_REBUILD,
    DAILY_REBUILD_FOR_CUSTOMERS,
    DAILY_SOURCE_SQL,
    DAILY_STATEMENTS,
    DAILY_STATEMENTS_FOR_CUSTOMERS,
    run_daily_analytics,
)
from analytics.jobs.lifetime import (
    SERVICE_METRICS,
    SERVICE_SOURCE_SQL,
    SUMMARY_METRICS,
    run_orders_summary,
    run_service_analytics,
)
from analytics.jobs.ordering_customers import run_ordering_customers
from analytics.jobs.platform_daily import PLATFORM_METRICS, PLATFORM_SOURCE_SQL, run_platform_daily
from analytics.jobs.referrals import ReferralResult, run_referrals
from customer_ops.registry import register_daily_job

__all__ = [
    "ACTIVITY_METRICS",
    "BULK_DAYS",
    "COHORT_HORIZON_DAYS",
    "COHORT_LOOKBACK_DAYS",
    "DAILY_METRICS",
    "DAILY_REBUILD",
    "DAILY_REBUILD_FOR_CUSTOMERS",
    "DAILY_SOURCE_SQL",
    "DAILY_STATEMENTS",
    "DAILY_STATEMENTS_FOR_CUSTOMERS",
    "PLATFORM_METRICS",
    "PLATFORM_SOURCE_SQL",
    "SERVICE_METRICS",
    "SERVICE_SOURCE_SQL",
    "SUMMARY_METRICS",
    "UTC",
    "DayRange",
    "JobResult",
    "ReferralResult",
    "day_range",
    "run_cohorts",
    "run_daily_analytics",
    "run_ordering_customers",
    "run_orders_summary",
    "run_platform_daily",
    "run_referrals",
    "run_service_analytics",
    "service_orders",
]

# run_daily_jobs' order: the daily analytics first (the ordering customers and the cohorts
# read it), the lifetime metrics before the cohorts (which read them too), the referral
# lifecycle last; the other apps' jobs (support figures: 50) after.
register_daily_job(key="daily_analytics", label="daily analytics", run=run_daily_analytics, order=10)
register_daily_job(key="platform_daily", label="platform daily", run=run_platform_daily, order=11)
register_daily_job(key="ordering_customers", label="ordering customers", run=run_ordering_customers, order=12)
register_daily_job(
    key="service_analytics", label="service analytics", run=run_service_analytics, order=13, per_customer=True
)
register_daily_job(key="orders_summary", label="orders summary", run=run_orders_summary, order=14, per_customer=True)
register_daily_job(key="cohorts", label="cohorts", run=run_cohorts, order=15)
register_daily_job(key="referrals", label="referrals", run=lambda days: run_referrals(), order=16)
