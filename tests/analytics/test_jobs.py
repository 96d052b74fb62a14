"""The analytics jobs against an independent plain-Python computation (tests/analytics/
reference.py) on random data, and their idempotency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction

from analytics import jobs
from analytics.models import CohortDaily, DailyAnalytics, OrdersSummary, ServiceAnalytics
from customer_ops.models import Order
from tests.analytics import reference
from tests.assertions import unchanged
from tests.factories import ActivityLogFactory, CustomerFactory, CustomerSessionFactory, OrderFactory

UTC = dt.UTC
FIRST, LAST = dt.date(2024, 2, 28), dt.date(2025, 2, 2)  # every edge day of the generator
DAILY_FIELDS = [*jobs.DAILY_METRICS]


def _daily_rows() -> dict:
    return {
        (r["customer_id"], r["analytics_date"]): {f: r[f] for f in DAILY_FIELDS}
        for r in DailyAnalytics.objects.values("customer_id", "analytics_date", *DAILY_FIELDS)
    }


def _keyed(model, fields) -> dict:
    return {
        (r["customer_id"], r["service_type"]): {f: r[f] for f in fields}
        for r in model.objects.values("customer_id", "service_type", *fields)
    }


def _snapshot(model) -> list[tuple]:
    return sorted(model.objects.values_list(), key=lambda row: row[0])


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_daily_job_matches_plain_python(seed):
    reference.make_random_data(seed)
    result = jobs.run_daily_analytics(jobs.day_range(FIRST, LAST))
    expected = reference.expected_daily(FIRST, LAST)
    assert _daily_rows() == expected
    assert result.rows == len(expected)


@pytest.mark.django_db
def test_daily_job_for_one_day_touches_that_day_only():
    reference.make_random_data(4)
    day = dt.date(2025, 1, 1)
    jobs.run_daily_analytics(jobs.day_range(day))
    assert _daily_rows() == reference.expected_daily(day, day)
    assert set(DailyAnalytics.objects.values_list("analytics_date", flat=True)) == {day}


@pytest.mark.django_db
def test_order_just_before_and_after_utc_midnight_land_on_their_own_days():
    customer = CustomerFactory()
    OrderFactory(customer=customer, created_at=dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    OrderFactory(customer=customer, created_at=dt.datetime(2025, 1, 1, 0, 0, tzinfo=UTC), status="CANCELLED")
    jobs.run_daily_analytics(jobs.day_range(dt.date(2024, 12, 31), dt.date(2025, 1, 1)))
    rows = {r.analytics_date: r for r in DailyAnalytics.objects.filter(customer=customer)}
    assert rows[dt.date(2024, 12, 31)].completed_orders == 1
    assert rows[dt.date(2024, 12, 31)].total_spent == Decimal("25.00")
    assert rows[dt.date(2025, 1, 1)].cancelled_orders == 1
    assert rows[dt.date(2025, 1, 1)].total_spent == 0


@pytest.mark.django_db
def test_customer_with_only_activity_or_an_open_session_gets_a_row_with_no_orders():
    opener, browser, nobody = CustomerFactory(), CustomerFactory(), CustomerFactory()
    at = dt.datetime(2025, 3, 3, 12, tzinfo=UTC)
    ActivityLogFactory(customer=opener, activity_type="APP_OPEN", created_at=at)
    ActivityLogFactory(customer=opener, activity_type="LOGIN", created_at=at)
    CustomerSessionFactory(customer=browser, started_at=at, ended_at=None)
    jobs.run_daily_analytics(jobs.day_range(at.date()))
    rows = {r.customer_id: r for r in DailyAnalytics.objects.all()}
    assert set(rows) == {opener.pk, browser.pk}
    assert (rows[opener.pk].app_opens, rows[opener.pk].total_orders) == (1, 0)
    assert (rows[browser.pk].time_spent_minutes, rows[browser.pk].avg_rating_given) == (0, None)
    assert nobody.pk not in rows


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [5, 6])
def test_service_analytics_and_orders_summary_match_plain_python(seed):
    reference.make_random_data(seed)
    jobs.run_service_analytics()
    jobs.run_orders_summary()
    assert _keyed(ServiceAnalytics, jobs.SERVICE_METRICS) == reference.expected_service()
    assert _keyed(OrdersSummary, jobs.SUMMARY_METRICS) == reference.expected_summary()


@pytest.mark.django_db
def test_favourite_merchants_break_ties_by_lower_id_and_count_completed_orders_only():
    customer = CustomerFactory()
    for merchant, status in [(30, "COMPLETED"), (20, "COMPLETED"), (10, "COMPLETED"), (5, "CANCELLED")]:
        OrderFactory(customer=customer, merchant_id=merchant, status=status)
    OrderFactory(customer=customer, merchant_id=40, status="COMPLETED")
    OrderFactory(customer=customer, merchant_id=40, status="COMPLETED")
    jobs.run_service_analytics()
    jobs.run_orders_summary()
    assert ServiceAnalytics.objects.get(customer=customer).favorite_merchant_ids == [40, 10, 20]
    assert OrdersSummary.objects.get(customer=customer).favorite_merchant_id == 40


@pytest.mark.django_db
def test_service_job_for_a_range_recomputes_the_whole_history_of_who_ordered_then():
    reference.make_random_data(7)
    day = dt.date(2025, 1, 31)
    jobs.run_service_analytics(jobs.day_range(day))
    jobs.run_orders_summary(jobs.day_range(day))
    who = set(Order.objects.filter(created_at__date=day).values_list("customer_id", flat=True))
    assert who
    assert _keyed(ServiceAnalytics, jobs.SERVICE_METRICS) == reference.expected_service(who)
    assert _keyed(OrdersSummary, jobs.SUMMARY_METRICS) == reference.expected_summary(who)


@pytest.mark.django_db
def test_jobs_for_some_customers_compute_theirs_only_and_leave_the_others_rows_alone():
    """seed_demo on a big database aggregates its own customers only (analytics/demo.py)."""
    reference.make_random_data(10)
    days = jobs.day_range(FIRST, LAST)
    some = sorted(Order.objects.values_list("customer_id", flat=True).distinct())[:5]
    other = Order.objects.exclude(customer_id__in=some).values_list("customer_id", flat=True).first()
    # Another customer's row with no sources in the range: a run for everyone would remove it.
    foreign = DailyAnalytics.objects.create(customer_id=other, analytics_date=dt.date(2024, 6, 1), total_orders=9)

    result = jobs.run_daily_analytics(days, customers=some)
    jobs.run_service_analytics(customers=some)
    jobs.run_orders_summary(customers=some)

    expected = {key: row for key, row in reference.expected_daily(FIRST, LAST).items() if key[0] in some}
    assert {key: row for key, row in _daily_rows().items() if key[0] != other} == expected
    assert result.rows == len(expected) and result.written == len(expected)
    assert DailyAnalytics.objects.filter(customer_id=other).get() == foreign
    assert _keyed(ServiceAnalytics, jobs.SERVICE_METRICS) == reference.expected_service(set(some))
    assert _keyed(OrdersSummary, jobs.SUMMARY_METRICS) == reference.expected_summary(set(some))


@pytest.mark.django_db
def test_a_run_within_a_transaction_can_run_again_in_it():
    """The computed rows' temporary table is dropped after each run, not at commit."""
    reference.make_random_data(11)
    days = jobs.day_range(FIRST, LAST)
    with transaction.atomic():
        first = jobs.run_daily_analytics(days)
        again = jobs.run_daily_analytics(days)
    assert (first.written, again.written, again.rows) == (first.rows, 0, first.rows)


# --- idempotency --------------------------------------------------------------------------


@pytest.mark.django_db
def test_rerunning_every_job_changes_nothing_not_even_updated_at():
    reference.make_random_data(8)
    days = jobs.day_range(FIRST, LAST)
    jobs.run_daily_analytics(days)
    jobs.run_service_analytics()
    jobs.run_orders_summary()
    before = [_snapshot(m) for m in (DailyAnalytics, ServiceAnalytics, OrdersSummary)]

    again = [jobs.run_daily_analytics(days), jobs.run_service_analytics(), jobs.run_orders_summary()]

    assert [_snapshot(m) for m in (DailyAnalytics, ServiceAnalytics, OrdersSummary)] == before
    assert [r.written for r in again] == [0, 0, 0]


@pytest.mark.django_db
def test_overlapping_ranges_give_the_same_rows_as_one_run():
    reference.make_random_data(9)
    jobs.run_daily_analytics(jobs.day_range(dt.date(2024, 12, 31), dt.date(2025, 1, 31)))
    jobs.run_daily_analytics(jobs.day_range(dt.date(2025, 1, 1), dt.date(2025, 2, 1)))
    jobs.run_service_analytics(jobs.day_range(dt.date(2024, 12, 31), dt.date(2025, 1, 31)))
    jobs.run_service_analytics(jobs.day_range(dt.date(2025, 1, 1), dt.date(2025, 2, 1)))
    pieces = (_daily_rows(), _keyed(ServiceAnalytics, jobs.SERVICE_METRICS))

    DailyAnalytics.objects.all().delete()
    ServiceAnalytics.objects.all().delete()
    jobs.run_daily_analytics(jobs.day_range(dt.date(2024, 12, 31), dt.date(2025, 2, 1)))
    jobs.run_service_analytics(jobs.day_range(dt.date(2024, 12, 31), dt.date(2025, 2, 1)))

    assert (_daily_rows(), _keyed(ServiceAnalytics, jobs.SERVICE_METRICS)) == pieces


@pytest.mark.django_db
def test_rerun_after_a_change_updates_in_place_keeping_id_and_created_at():
    order = OrderFactory(status="PLACED", created_at=dt.datetime(2025, 5, 5, 10, tzinfo=UTC))
    days = jobs.day_range(dt.date(2025, 5, 5))
    jobs.run_daily_analytics(days)
    jobs.run_service_analytics(days)
    daily, service = DailyAnalytics.objects.get(), ServiceAnalytics.objects.get()
    assert daily.completed_orders == 0

    Order.objects.filter(pk=order.pk).update(status="COMPLETED")
    jobs.run_daily_analytics(days)
    jobs.run_service_analytics(days)

    daily2, service2 = DailyAnalytics.objects.get(), ServiceAnalytics.objects.get()
    assert (daily2.pk, daily2.created_at) == (daily.pk, daily.created_at)
    assert (service2.pk, service2.created_at) == (service.pk, service.created_at)
    assert daily2.completed_orders == 1 and daily2.updated_at > daily.updated_at
    assert service2.total_spent == Decimal("25.00")


@pytest.mark.django_db
def test_a_daily_row_whose_sources_are_gone_is_removed():
    customer = CustomerFactory()
    DailyAnalytics.objects.create(customer=customer, analytics_date=dt.date(2025, 6, 1), total_orders=3)
    kept = DailyAnalytics.objects.create(customer=customer, analytics_date=dt.date(2025, 6, 2), total_orders=3)
    result = jobs.run_daily_analytics(jobs.day_range(dt.date(2025, 6, 1)))
    assert result.deleted == 1
    assert list(DailyAnalytics.objects.all()) == [kept]  # outside the range: untouched


# --- the command ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_runs_every_job_for_a_range_with_progress():
    OrderFactory(created_at=dt.datetime(2025, 1, 1, 8, tzinfo=UTC))
    out = StringIO()
    call_command("run_daily_jobs", "--from", "2024-12-31", "--to", "2025-01-01", stdout=out)
    text = out.getvalue()
    for label in ("daily analytics", "service analytics", "orders summary", "cohorts", "referrals", "done in"):
        assert label in text
    assert DailyAnalytics.objects.count() == 1 and ServiceAnalytics.objects.count() == 1
    # the cohort tables read the two above, so they run after them
    assert CohortDaily.objects.filter(first_order_day=dt.date(2025, 1, 1), k=0).count() == 2  # FOOD and ALL


@pytest.mark.django_db
def test_command_runs_one_date():
    OrderFactory(created_at=dt.datetime(2025, 1, 1, 8, tzinfo=UTC))
    call_command("run_daily_jobs", "--date", "2025-01-01", stdout=StringIO())
    assert DailyAnalytics.objects.get().analytics_date == dt.date(2025, 1, 1)


@pytest.mark.django_db  # a scheduled job takes its advisory lock before it reads its arguments
@pytest.mark.parametrize(
    "args",
    [
        ["--date", "2025-13-01"],
        ["--date", "2025-01-01", "--from", "2025-01-01", "--to", "2025-01-02"],
        ["--from", "2025-01-01"],
        ["--from", "2025-01-03", "--to", "2025-01-01"],
    ],
)
def test_command_refuses_bad_dates(args, db):
    with unchanged(*apps.get_app_config("analytics").get_models()), pytest.raises(CommandError):
        call_command("run_daily_jobs", *args, stdout=StringIO())


@pytest.mark.django_db
def test_all_customers_recomputes_the_lifetime_metrics_of_customers_idle_in_the_range():
    idle = OrderFactory(created_at=dt.datetime(2024, 6, 1, 8, tzinfo=UTC)).customer
    active = OrderFactory(created_at=dt.datetime(2025, 1, 1, 8, tzinfo=UTC)).customer
    call_command("run_daily_jobs", "--date", "2025-01-01", stdout=StringIO())
    assert set(ServiceAnalytics.objects.values_list("customer_id", flat=True)) == {active.pk}
    call_command("run_daily_jobs", "--date", "2025-01-01", "--all-customers", stdout=StringIO())
    assert set(ServiceAnalytics.objects.values_list("customer_id", flat=True)) == {active.pk, idle.pk}
    # the day-based tables stay the range's
    assert set(DailyAnalytics.objects.values_list("analytics_date", flat=True)) == {dt.date(2025, 1, 1)}


def test_analytics_jobs_are_registered_before_the_jobs_that_read_their_tables():
    from customer_ops import registry

    keys = [job.key for job in registry.daily_jobs.ordered()]
    # the cohorts and ordering customers read the daily analytics; the cohorts the lifetime metrics too
    for before, after in [
        ("daily_analytics", "ordering_customers"),
        ("daily_analytics", "cohorts"),
        ("service_analytics", "cohorts"),
        ("orders_summary", "cohorts"),
    ]:
        assert keys.index(before) < keys.index(after), keys
    assert {job.key for job in registry.daily_jobs.ordered() if job.per_customer} == {
        "service_analytics",
        "orders_summary",
    }
