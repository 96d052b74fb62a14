"""analytics_ordering_customers and the dashboard's "customers who ordered" figure against
a plain-Python count of distinct customers over the orders, on random data (several
services, orders either side of UTC midnight, month/year boundaries), for ranges that
start and end anywhere, with the job run over everything, over a later part only, or not
at all, and with today's orders (which no job has covered) in the range."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from analytics import dashboard, jobs
from analytics.filters import dashboard_filters
from analytics.models import ALL_SERVICES, OrderingCustomers
from customer_ops.models import Order
from tests.analytics import reference
from tests.assertions import unchanged
from tests.factories import CustomerFactory, OrderFactory

UTC = dt.UTC
FIRST, LAST = dt.date(2024, 2, 28), dt.date(2025, 2, 2)
SERVICES = ["", "FOOD", "PARCEL", "RIDE"]


def _expected(first: dt.date, last: dt.date, service: str) -> int:
    return len(
        {
            o.customer_id
            for o in Order.objects.all()
            if first <= o.created_at.astimezone(UTC).date() <= last and service in ("", o.service_type)
        }
    )


def _from_table(first: dt.date, last: dt.date, service: str) -> int:
    """The dashboard's formula over the table alone (the days the job covers)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(customers), 0) FROM analytics_ordering_customers "
            "WHERE service_type = %s AND day BETWEEN %s AND %s AND (previous_day IS NULL OR previous_day < %s)",
            [service or ALL_SERVICES, first, last, first],
        )
        return cursor.fetchone()[0]


def _run(first: dt.date, last: dt.date):
    days = jobs.day_range(first, last)
    jobs.run_daily_analytics(days)
    return jobs.run_ordering_customers(days)


def _ranges():
    edges = sorted({*reference.EDGE_DAYS, FIRST, LAST})
    return [(a, b) for a, b in itertools.combinations_with_replacement(edges, 2)]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_table_counts_distinct_customers_of_any_range(seed):
    reference.make_random_data(seed, customers=40)
    _run(FIRST, LAST)
    for (first, last), service in itertools.product(_ranges(), SERVICES):
        assert _from_table(first, last, service) == _expected(first, last, service), (first, last, service)


@pytest.mark.django_db
def test_a_later_run_recomputes_the_days_after_a_change():
    reference.make_random_data(3, customers=40)
    _run(FIRST, LAST)
    # A first FOOD order for an existing customer on an early day: the previous order day of
    # that customer's later order days changes, and only a run from that day on sees it.
    customer = Order.objects.filter(service_type="FOOD").order_by("created_at").last().customer
    early = dt.date(2024, 3, 1)
    OrderFactory(customer=customer, service_type="FOOD", created_at=dt.datetime.combine(early, dt.time(12), tzinfo=UTC))
    _run(early, early)
    for (first, last), service in itertools.product(_ranges(), SERVICES):
        assert _from_table(first, last, service) == _expected(first, last, service), (first, last, service)


@pytest.mark.django_db
def test_rerun_writes_nothing_and_stale_rows_go():
    reference.make_random_data(4, customers=30)
    _run(FIRST, LAST)
    rows = OrderingCustomers.objects.order_by("day", "service_type", "previous_day")
    before = list(rows.values_list("day", "service_type", "previous_day", "customers"))
    assert before
    again = _run(FIRST, LAST)
    assert again.written == 0 and again.deleted == 0
    OrderingCustomers.objects.create(day=LAST, service_type="RIDE", previous_day=None, customers=99)
    assert _run(FIRST, LAST).deleted == 1
    assert list(rows.values_list("day", "service_type", "previous_day", "customers")) == before


@pytest.mark.django_db
def test_the_database_refuses_a_bad_row():
    from django.db import IntegrityError, transaction

    for bad in (
        {"service_type": "BOAT", "previous_day": None},
        {"service_type": "FOOD", "previous_day": LAST},  # not before the day itself
    ):
        with unchanged(OrderingCustomers), pytest.raises(IntegrityError, match="analytics_ordering_customers"):
            with transaction.atomic():
                OrderingCustomers.objects.create(day=LAST, customers=1, **bad)


@pytest.mark.django_db
@pytest.mark.parametrize("covered", ["all but today", "up to five days ago", "nothing"])
@pytest.mark.parametrize("service", SERVICES)
def test_dashboard_figure_is_exact_with_todays_orders(covered, service):
    """Today's orders are read from the orders themselves (minus customers the covered days
    already count); the days the job has not reached yet too."""
    today = timezone.now().astimezone(UTC).date()
    customers = [CustomerFactory() for _ in range(8)]
    pattern = {0: [0, 3, 12], 1: [3], 2: [0], 3: [12, 40], 4: [1, 2], 5: [29, 0], 6: [30], 7: []}
    for i, days_ago in pattern.items():
        for n, ago in enumerate(days_ago):
            OrderFactory(
                customer=customers[i],
                service_type=["FOOD", "PARCEL", "RIDE"][(i + n) % 3],
                created_at=timezone.now() - dt.timedelta(days=ago, minutes=1),
            )
    earliest = today - dt.timedelta(days=45)
    if covered == "all but today":
        _run(earliest, today - dt.timedelta(days=1))
    elif covered == "up to five days ago":
        _run(earliest, today - dt.timedelta(days=5))
    for days in (1, 7, 30, 31):
        first = today - dt.timedelta(days=days - 1)
        query = QueryDict(mutable=True)
        query.update({"date_from": first.isoformat(), "date_to": today.isoformat(), "service_type": service})
        _, f = dashboard_filters(query)
        assert (f["first"], f["service_type"]) == (first, service)
        assert dashboard.ordering_customers(f) == _expected(first, today, service), (days, service)
