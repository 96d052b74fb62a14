"""The dashboard's cohort figures (the retention matrix, referred versus organic) against
plain-Python computations of their definitions (tests/analytics/reference.py) on random data."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.http import QueryDict

from analytics import dashboard, jobs
from analytics.models import CohortActivity, CohortDaily, ServiceAnalytics
from customer_ops.models import Order
from tests.analytics import reference
from tests.factories import CustomerFactory, FraudAlertFactory, OrderFactory, RefundRequestFactory

UTC = dt.UTC

DATA = jobs.day_range(reference.COHORT_DAYS[0], reference.COHORT_DAYS[-1])

# (first, last, service): the data's first day (a Wednesday); a range starting mid-week
# across the year's end, with and without a service; Monday to Sunday; five days (no week
# over yet) across a month's end; most of a year; a range that leaves out the customers
# who first ordered before it.
CASES = [
    (dt.date(2024, 11, 20), dt.date(2025, 2, 17), ""),
    (dt.date(2024, 12, 4), dt.date(2025, 2, 10), ""),
    (dt.date(2024, 12, 4), dt.date(2025, 2, 10), "FOOD"),
    (dt.date(2024, 12, 30), dt.date(2025, 3, 9), "PARCEL"),
    (dt.date(2025, 1, 29), dt.date(2025, 2, 2), "RIDE"),
    (dt.date(2024, 11, 1), dt.date(2025, 10, 30), ""),
    (dt.date(2025, 1, 15), dt.date(2025, 3, 10), "RIDE"),
]


def _filters(first: dt.date, last: dt.date, service: str) -> dict:
    from analytics.filters import dashboard_filters

    query = QueryDict(mutable=True)
    query.update({"date_from": first.isoformat(), "date_to": last.isoformat(), "service_type": service})
    return dashboard_filters(query)[1]


def _run_jobs() -> None:
    jobs.run_daily_analytics(DATA)
    jobs.run_service_analytics()
    jobs.run_cohorts(DATA)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cohort_figures_match_their_definitions(seed):
    reference.make_cohort_data(seed)
    _run_jobs()
    cells = []
    for first, last, service in CASES:
        f = _filters(first, last, service)
        assert (f["first"], f["last"], f["service_type"]) == (first, last, service)
        expected = reference.expected_cohort_retention(first, last, service)
        assert dashboard.cohort_retention(f) == expected, (first, last, service)
        groups = reference.expected_referred_vs_organic(first, last, service)
        assert dashboard.referred_vs_organic(f) == groups, (first, last, service)
        cells += [cell for row in expected["rows"] for cell in row["cells"]]
    # The comparison means something: empty and partial cells, and every figure of both groups.
    assert None in cells and any(cell not in (None, 0.0, 100.0) for cell in cells)
    whole = reference.expected_referred_vs_organic(*CASES[0])
    assert all(g["customers"] and g["retention"] and g["refund_rate"] and g["fraud_alert_rate"] for g in whole)


@pytest.mark.django_db
def test_cohort_data_has_the_edge_cases():
    reference.make_cohort_data(1)
    _run_jobs()
    first = CASES[1][0]
    firsts = {}
    for row in ServiceAnalytics.objects.all():
        firsts.setdefault(row.customer_id, []).append(row.first_order_at.date())
    assert any(len(days) > 1 for days in firsts.values()), "a customer of several services"
    before = {c for c, days in firsts.items() if min(days) < first}
    assert Order.objects.filter(customer_id__in=before, created_at__date__gte=first).exists(), (
        "a customer who first ordered before the range and orders in it"
    )
    assert any(min(days) < first <= max(days) for days in firsts.values()), (
        "a first order of one service before the range and of another in it"
    )


def _tables() -> tuple[list, list]:
    daily = CohortDaily.objects.values_list("first_order_day", "service_type", "k", "customers")
    activity = CohortActivity.objects.values_list(
        "service_type", "referred", "first_order_day", "day", "previous_alert_day", *jobs.ACTIVITY_METRICS
    )
    return sorted(daily), sorted(activity, key=str)


def _rebuilt() -> tuple[list, list]:
    """The tables computed from scratch over every day, from the current data."""
    CohortDaily.objects.all().delete()
    CohortActivity.objects.all().delete()
    jobs.run_cohorts(jobs.day_range(dt.date(2023, 12, 1), DATA.last + dt.timedelta(days=10)))
    return _tables()


@pytest.mark.django_db
def test_cohorts_job_is_idempotent_and_drops_stale_rows():
    reference.make_cohort_data(4)
    _run_jobs()
    before = _tables()
    assert all(before)
    again = jobs.run_cohorts(DATA)
    assert again.rows > 0 and again.written == 0 and again.deleted == 0
    assert _tables() == before
    # Rows in the run's scope that the data does not support go; rows outside it stay.
    CohortDaily.objects.create(first_order_day=DATA.last, service_type="FOOD", k=3, customers=7)
    for first_order_day in [DATA.first, DATA.first - dt.timedelta(days=30)]:  # either day in the scope
        CohortActivity.objects.create(
            service_type="ALL", referred=True, first_order_day=first_order_day, day=DATA.last, orders=5
        )
    outside = CohortDaily.objects.create(first_order_day=dt.date(2030, 1, 1), service_type="ALL", k=0, customers=1)
    result = jobs.run_cohorts(DATA)
    assert result.deleted == 3 and result.written == 0
    assert CohortDaily.objects.filter(pk=outside.pk).exists()
    outside.delete()
    assert _tables() == before


@pytest.mark.django_db
def test_cohorts_job_over_pieces_of_a_range_equals_one_run_over_it():
    reference.make_cohort_data(5)
    jobs.run_daily_analytics(DATA)
    jobs.run_service_analytics()
    rng = random.Random(5)
    day = DATA.first
    while day <= DATA.last + dt.timedelta(days=10):
        last = day + dt.timedelta(days=rng.choice([0, 0, 2, 6, 20]))
        jobs.run_cohorts(jobs.day_range(day, last))
        day = last + dt.timedelta(days=1)
    pieces = _tables()
    assert pieces == _rebuilt()


@pytest.mark.django_db
def test_daily_run_updates_what_a_new_day_changes():
    """The cron's run over one new day gives the tables a rebuild gives."""
    reference.make_cohort_data(6)
    new_day = dt.date(2025, 3, 16)  # a Sunday: the end of the 8th week after Monday 2025-01-13
    assert new_day.weekday() == 6 and new_day > DATA.last

    def order(customer, day, service="RIDE"):
        at = dt.datetime.combine(day, dt.time(23, 59), tzinfo=UTC)
        return OrderFactory(customer=customer, service_type=service, created_at=at)

    eighth_week, back, long_ago, other_service, alerted = CustomerFactory.create_batch(5)
    order(eighth_week, dt.date(2025, 1, 13))  # 62 days before: its k = 8 cell changes
    order(back, dt.date(2024, 12, 2))  # comes back for the first time on the new day
    order(long_ago, dt.date(2024, 1, 2))  # more than a range's length before
    order(long_ago, dt.date(2024, 12, 24))
    order(other_service, dt.date(2024, 12, 24))  # rides, then a first parcel on the new day
    order(alerted, dt.date(2025, 2, 3))
    FraudAlertFactory(customer=alerted, created_at=dt.datetime(2025, 2, 5, tzinfo=UTC))
    so_far = jobs.day_range(dt.date(2024, 1, 1), DATA.last)
    jobs.run_daily_analytics(so_far)
    jobs.run_service_analytics()
    jobs.run_cohorts(so_far)

    at = dt.datetime.combine(new_day, dt.time(12), tzinfo=UTC)
    for customer in [eighth_week, back, long_ago, alerted]:
        order(customer, new_day)
    parcel = order(other_service, new_day, "PARCEL")
    RefundRequestFactory(customer=other_service, order=parcel, created_at=at)
    FraudAlertFactory(customer=alerted, created_at=at)
    order(CustomerFactory(), new_day, "FOOD")  # a new customer
    days = jobs.day_range(new_day)
    jobs.run_daily_analytics(days)
    jobs.run_service_analytics(days)
    assert jobs.run_cohorts(days).written > 0
    daily = _tables()
    assert daily == _rebuilt()
    assert CohortDaily.objects.filter(first_order_day=dt.date(2025, 1, 13), service_type="RIDE", k=8).exists()
