"""analytics_platform_daily against a plain-Python computation over the orders, its
idempotency, and the dashboard reading it (older days) beside the raw orders (recent days)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone

from analytics import charts, dashboard, jobs
from analytics.filters import dashboard_filters
from analytics.models import PlatformDaily
from customer_ops.models import Order
from tests.analytics import reference
from tests.factories import OrderFactory

UTC = dt.UTC
FIRST, LAST = dt.date(2024, 2, 28), dt.date(2025, 2, 2)


def _expected(first: dt.date, last: dt.date) -> dict:
    rows = defaultdict(lambda: {"total_orders": 0, "completed_orders": 0, "cancelled_orders": 0, "total_spent": 0})
    for order in Order.objects.all():
        day = order.created_at.astimezone(UTC).date()
        if not first <= day <= last:
            continue
        row = rows[(day, order.service_type)]
        row["total_orders"] += 1
        row["completed_orders"] += order.status == "COMPLETED"
        row["cancelled_orders"] += order.status == "CANCELLED"
        if order.status == "COMPLETED":
            row["total_spent"] += order.order_amount
    return {key: {**row, "total_spent": Decimal(row["total_spent"])} for key, row in rows.items()}


def _table() -> dict:
    return {
        (r["day"], r["service_type"]): {f: r[f] for f in jobs.PLATFORM_METRICS}
        for r in PlatformDaily.objects.values("day", "service_type", *jobs.PLATFORM_METRICS)
    }


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_platform_daily_matches_plain_python(seed):
    reference.make_random_data(seed)
    result = jobs.run_platform_daily(jobs.day_range(FIRST, LAST))
    expected = _expected(FIRST, LAST)
    assert expected and _table() == expected
    assert result.rows == len(expected)


@pytest.mark.django_db
def test_platform_daily_is_idempotent_and_drops_stale_rows():
    reference.make_random_data(3)
    days = jobs.day_range(FIRST, LAST)
    jobs.run_platform_daily(days)
    before = sorted(PlatformDaily.objects.values_list())
    again = jobs.run_platform_daily(days)
    assert again.written == 0 and sorted(PlatformDaily.objects.values_list()) == before
    PlatformDaily.objects.create(day=FIRST, service_type="PARCEL", total_orders=99)
    jobs.run_platform_daily(days)
    assert _table() == _expected(FIRST, LAST)


@pytest.mark.django_db
def test_dashboard_reads_the_table_for_old_days_and_orders_for_recent_days():
    today = timezone.now().astimezone(UTC).date()
    old = today - dt.timedelta(days=5)
    for day, status in [(old, "COMPLETED"), (old, "CANCELLED"), (today, "COMPLETED")]:
        OrderFactory(
            created_at=dt.datetime.combine(day, dt.time(1), tzinfo=UTC),
            service_type="FOOD",
            status=status,
            order_amount=Decimal("10.00"),
        )
    _, f = dashboard_filters(QueryDict(""))
    jobs.run_platform_daily(jobs.day_range(old))
    kpis = dashboard.kpis(f)
    assert (kpis["orders"], kpis["completed"], kpis["spent"]) == (3, 2, Decimal("20.00"))
    food = charts.orders_per_service(f)["datasets"][0]
    assert food["data"][f["days"].index(old)] == 2 and food["data"][f["days"].index(today)] == 1
    # An old day the job has not covered is not read from the orders.
    PlatformDaily.objects.all().delete()
    assert dashboard.kpis(dashboard_filters(QueryDict(""))[1])["orders"] == 1
