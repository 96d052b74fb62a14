"""analytics_platform_hourly, kept by triggers on orders, against a plain-Python count of the
orders after random inserts, status/amount/service/time changes, deletes and erasure-shaped
updates; the dashboard's live days read from it, through its unique index, never from orders."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import dashboard, jobs
from analytics.filters import dashboard_filters
from analytics.models import PlatformHourly
from analytics.platform_hourly import rebuild_platform_hourly
from customer_ops.dates import split_range
from customer_ops.models import Customer, Order
from tests.analytics import reference
from tests.assertions import explain

UTC = dt.UTC
FIELDS = ("total_orders", "completed_orders", "cancelled_orders", "total_spent")


def _expected() -> dict:
    """Per (UTC hour, service), from ARCHITECTURE.md's definitions, in plain Python."""
    rows = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for order in Order.objects.all():
        at = order.created_at.astimezone(UTC)
        row = rows[(at.replace(minute=0, second=0, microsecond=0), order.service_type)]
        row["total_orders"] += 1
        row["completed_orders"] += order.status == "COMPLETED"
        row["cancelled_orders"] += order.status == "CANCELLED"
        if order.status == "COMPLETED":
            row["total_spent"] += order.order_amount
    return {key: {**row, "total_spent": Decimal(row["total_spent"])} for key, row in rows.items()}


def _table() -> dict:
    return {
        (r["hour"].astimezone(UTC), r["service_type"]): {f: r[f] for f in FIELDS}
        for r in PlatformHourly.objects.values("hour", "service_type", *FIELDS)
    }


def _churn(rng: random.Random, seed: int) -> None:
    """Single-row and multi-row writes of every kind that moves a figure, and some that don't."""
    customer = Customer.objects.first()
    extra = Order.objects.bulk_create(
        Order(
            order_number=f"X{seed}-{i}",
            customer=customer,
            service_type=rng.choice(["FOOD", "PARCEL", "RIDE"]),
            status=rng.choice(["COMPLETED", "CANCELLED", "PLACED"]),
            order_amount=Decimal(rng.randint(100, 9000)) / 100,
            created_at=dt.datetime(2025, 1, 1, rng.randrange(24), rng.randrange(60), tzinfo=UTC),
        )
        for i in range(30)
    )
    ids = list(Order.objects.values_list("id", flat=True))
    for order_id in rng.sample(ids, 15):  # one row per statement
        change = rng.choice(["status", "amount", "service", "moved"])
        qs = Order.objects.filter(id=order_id)
        if change == "status":
            qs.update(status=rng.choice(["COMPLETED", "CANCELLED", "PLACED", "IN_PROGRESS"]))
        elif change == "amount":
            qs.update(order_amount=Decimal(rng.randint(100, 9000)) / 100)
        elif change == "service":
            qs.update(service_type=rng.choice(["FOOD", "PARCEL", "RIDE"]))
        else:
            qs.update(created_at=dt.datetime(2025, 2, 1, rng.randrange(24), tzinfo=UTC))
    # Many rows in one statement: hours gain and lose in the same statement.
    Order.objects.filter(id__in=rng.sample(ids, 20)).update(status="CANCELLED")
    Order.objects.filter(service_type="RIDE", status="PLACED").update(status="COMPLETED")
    # Erasure-shaped: personal columns only, no figure moves.
    Order.objects.filter(id__in=rng.sample(ids, 10)).update(delivery_address="[erased]", customer_rating=None)
    # Deletes, some emptying an hour.
    Order.objects.filter(id__in=[o.id for o in rng.sample(extra, 20)]).delete()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hourly_figures_equal_the_orders_after_random_writes(seed):
    reference.make_random_data(seed)
    assert _table() == _expected() != {}
    _churn(random.Random(seed), seed)
    assert _table() == _expected()
    # No row left at zero (an hour whose orders all went has no row).
    assert not PlatformHourly.objects.filter(total_orders=0).exists()


@pytest.mark.django_db
def test_hours_are_utc_whatever_the_session_time_zone():
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")  # +05:30: a local hour straddles two UTC hours
        reference.make_random_data(4)
        Order.objects.filter(status="PLACED").update(status="COMPLETED")
        cursor.execute("SET TIME ZONE 'UTC'")
    assert _table() == _expected()


@pytest.mark.django_db
def test_figures_an_update_does_not_move_write_nothing():
    reference.make_random_data(5)
    before = {r.pk: r for r in PlatformHourly.objects.all()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM analytics_platform_hourly")
        versions = dict(cursor.fetchall())
        Order.objects.update(delivery_address="[erased]")
        cursor.execute("SELECT id, xmin::text FROM analytics_platform_hourly")
        assert dict(cursor.fetchall()) == versions  # not even rewritten
    assert {r.pk: r for r in PlatformHourly.objects.all()} == before


@pytest.mark.django_db
def test_rebuild_recomputes_every_hour():
    reference.make_random_data(6)
    PlatformHourly.objects.update(total_orders=99)
    PlatformHourly.objects.create(hour=dt.datetime(2020, 1, 1, tzinfo=UTC), service_type="FOOD", total_orders=1)
    rebuild_platform_hourly()
    assert _table() == _expected()


@pytest.mark.django_db
def test_dashboard_live_days_equal_the_orders_and_read_only_the_hours():
    now = timezone.now().astimezone(UTC)
    today = now.date()
    rng = random.Random(7)
    customer = Customer.objects.create(full_name="Live Days", email="live@example.test")
    Order.objects.bulk_create(
        Order(
            order_number=f"L{i}",
            customer=customer,
            service_type=rng.choice(["FOOD", "PARCEL", "RIDE"]),
            status=rng.choice(["COMPLETED", "CANCELLED", "PLACED"]),
            order_amount=Decimal(rng.randint(100, 9000)) / 100,
            created_at=dt.datetime.combine(today - dt.timedelta(days=rng.randrange(2)), dt.time(), tzinfo=UTC)
            + dt.timedelta(minutes=rng.randrange(min(24 * 60, int((now - now.replace(hour=0)).seconds / 60) + 1))),
        )
        for i in range(60)
    )
    Order.objects.filter(id__in=Order.objects.values("id")[:20]).update(status="CANCELLED")
    expected = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for (hour, service), row in _expected().items():
        for field in FIELDS:
            expected[(hour.date(), service)][field] += row[field]
    _, f = dashboard_filters(QueryDict(""))
    assert dashboard.platform_days(f) == dict(expected) != {}

    # The live part names the hours' unique index and never reads orders.
    sql = dashboard._PLATFORM_SQL.split("UNION ALL")[1]
    plan = explain(connection.ops.compose_sql(sql, split_range(f)), bitmap_only=True)
    assert not plan.whole and set(plan.indexes) == {"analytics_platform_hourly"}, plan.text
    assert plan.uses("analytics_platform_hourly") == {"platform_hourly_unique"}, plan.text


@pytest.mark.django_db
def test_dashboard_365_days_query_count_is_flat():
    reference.make_random_data(8)
    jobs.run_platform_daily(jobs.day_range(dt.date(2024, 1, 1), timezone.now().date()))
    _, f = dashboard_filters(QueryDict(f"date_from={(timezone.now().date() - dt.timedelta(days=364)).isoformat()}"))
    with CaptureQueriesContext(connection) as queries:
        dashboard.platform_days(f)
    assert len(queries) == 1
    assert "FROM orders" not in queries[0]["sql"]
