"""The dashboard's cohort figures (the retention matrix, referred versus organic) against
plain-Python computations of their definitions (tests/analytics/reference.py) on random data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict

from analytics import dashboard, jobs
from analytics.models import ServiceAnalytics
from customer_ops.models import Order
from tests.analytics import reference

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
