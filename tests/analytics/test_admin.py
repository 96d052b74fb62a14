"""Analytics admin pages: the dashboard (permissions, filters, bounded queries, indexes),
list pages, exports, the customer panel and the reward-hold decision."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import jobs
from analytics.models import DailyAnalytics, OrdersSummary, Referral, ReferralReward, RewardHold, ServiceAnalytics
from customer_ops import registry
from customer_ops.roles import Role
from tests.analytics import reference
from tests.assertions import assert_page_shows, explain, unchanged
from tests.factories import (
    FACTORIES,
    FraudAlertFactory,
    OrderFactory,
    ReferralFactory,
    RefundRequestFactory,
    TicketFactory,
)

UTC = dt.UTC
DASHBOARD = "/admin/analytics/dashboard/"
RANGE = {"date_from": "2024-12-25", "date_to": "2025-02-05"}
LOG_TABLES = {
    "customer_activity_log",
    "customer_login_history",
    "customer_audit_log",
    "customer_verification_history",
    "customer_consent_log",
}


@pytest.fixture
def analytics_data(db):
    reference.make_random_data(11, customers=30)
    order = OrderFactory(created_at=dt.datetime(2025, 1, 2, 9, tzinfo=UTC), service_type="RIDE", merchant_id=None)
    TicketFactory(customer=order.customer, service_type="RIDE", created_at=dt.datetime(2025, 1, 2, 10, tzinfo=UTC))
    RefundRequestFactory(order=order, customer=order.customer, created_at=dt.datetime(2025, 1, 3, tzinfo=UTC))
    FraudAlertFactory(customer=order.customer, order=order, created_at=dt.datetime(2025, 1, 3, tzinfo=UTC))
    ReferralFactory(referred_customer=order.customer)
    jobs.run_daily_analytics(jobs.day_range(dt.date(2024, 2, 28), dt.date(2025, 2, 2)))
    jobs.run_platform_daily(jobs.day_range(dt.date(2024, 2, 28), dt.date(2025, 2, 2)))
    jobs.run_service_analytics()
    jobs.run_orders_summary()
    jobs.run_cohorts(jobs.day_range(dt.date(2024, 2, 28), dt.date(2025, 2, 2)))
    for job in registry.daily_jobs.ordered():  # the other apps' figures (support), as run_daily_jobs does
        if not job.run.__module__.startswith("analytics."):  # analytics' own ran above
            job.run(jobs.day_range(dt.date(2024, 2, 28), dt.date(2025, 2, 2)))


@pytest.fixture
def analyst_client(client, make_staff):
    client.force_login(make_staff(Role.ANALYST))
    return client


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LEAD])
def test_dashboard_opens_for_analysts_and_leads(client, make_staff, analytics_data, role):
    client.force_login(make_staff(role))
    response = client.get(DASHBOARD, RANGE)
    assert response.status_code == 200
    data = response.context["chart_data"]
    assert {"orders_per_service", "cancellation_rate", "tickets_per_day", "median_resolution"} <= data.keys()
    assert {"refund_amounts", "fraud_alerts"} <= data.keys()
    # Chart data travels as a JSON data block, never as executable script.
    html = response.content.decode()
    assert '<script id="dashboard-chart-data" type="application/json">' in html
    assert "<script>" not in html and "onclick" not in html and 'style="' not in html
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html


@pytest.mark.parametrize("role", [Role.AGENT, Role.FRAUD, Role.LEGAL, Role.COMPLIANCE])
def test_dashboard_is_forbidden_to_other_roles(client, make_staff, role):
    client.force_login(make_staff(role))
    assert client.get(DASHBOARD).status_code == 403


def test_dashboard_figures_follow_the_filters(analyst_client, analytics_data):
    response = analyst_client.get(DASHBOARD, {**RANGE, "service_type": "RIDE"})
    data = response.context["chart_data"]
    assert [d["label"] for d in data["orders_per_service"]["data"]["datasets"]] == ["Ride"]
    f = response.context["f"]
    from customer_ops.models import Order

    rides = Order.objects.filter(service_type="RIDE", created_at__gte=f["start"], created_at__lt=f["end"])
    assert response.context["kpis"]["orders"] == rides.count()
    assert sum(data["orders_per_service"]["data"]["datasets"][0]["data"]) == rides.count()
    alerts = data["fraud_alerts"]["data"]
    assert sum(sum(ds["data"]) for ds in alerts["datasets"]) == 1
    assert sum(data["refund_amounts"]["data"]["datasets"][0]["data"]) == float(Decimal("25.00"))


def test_bad_filter_input_shows_an_error_and_falls_back_to_defaults(analyst_client):
    response = analyst_client.get(DASHBOARD, {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()
    response = analyst_client.get(DASHBOARD, {"date_from": "not-a-date", "service_type": "BOAT"})
    assert response.status_code == 200
    assert response.context["f"]["service_type"] == ""


def test_cohort_matrix_leaves_unfinished_weeks_empty(analyst_client, analytics_data):
    response = analyst_client.get(DASHBOARD, RANGE)
    cohorts = response.context["cohorts"]
    assert cohorts["rows"]
    last = response.context["f"]["last"]
    for row in cohorts["rows"]:
        for k, cell in zip(cohorts["weeks"], row["cells"], strict=True):
            finished = row["cohort"] + dt.timedelta(days=7 * k + 6) <= last
            assert (cell is not None) == finished
            assert cell is None or 0 <= cell <= 100
    groups = {g["label"]: g for g in response.context["comparison"]}
    assert groups["Referred"]["customers"] >= 1
    assert groups["Referred"]["fraud_alert_rate"] == 100.0


def test_cohort_retention_counts_a_customer_ordering_again(analyst_client):
    monday = dt.datetime(2025, 3, 3, 12, tzinfo=UTC)
    first = OrderFactory(created_at=monday)
    OrderFactory(customer=first.customer, created_at=monday + dt.timedelta(days=8))
    OrderFactory(created_at=monday + dt.timedelta(days=1))  # never again
    jobs.run_daily_analytics(jobs.day_range(dt.date(2025, 3, 3), dt.date(2025, 3, 31)))
    jobs.run_service_analytics()
    jobs.run_cohorts(jobs.day_range(dt.date(2025, 3, 3), dt.date(2025, 3, 31)))
    response = analyst_client.get(DASHBOARD, {"date_from": "2025-03-03", "date_to": "2025-03-23"})
    (row,) = response.context["cohorts"]["rows"]
    assert (row["cohort"], row["size"]) == (dt.date(2025, 3, 3), 2)
    assert row["cells"][:3] == [50.0, 0.0, None]


def test_dashboard_runs_a_bounded_number_of_queries(analyst_client, analytics_data, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        analyst_client.get(DASHBOARD, {"date_from": "2024-03-01", "date_to": "2025-02-28"})


def test_dashboard_queries_use_indexes_for_a_week(analyst_client, analytics_data):
    """EXPLAIN every dashboard query for a one-week range with sequential scans priced out:
    a Seq Scan that remains, or an index read from end to end, has no index that serves the
    condition. None may read a log table or the big tables the dashboard reads that way."""
    with CaptureQueriesContext(connection) as captured:
        analyst_client.get(DASHBOARD, {"date_from": "2025-01-01", "date_to": "2025-01-07"})
    watched = LOG_TABLES | {"orders", "customer_daily_analytics", "customer_service_analytics"}
    watched |= {"customer_fraud_alerts", "customer_refund_requests"}
    watched |= {"analytics_cohort_daily", "analytics_cohort_activity"}
    checked = 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")) or "django_session" in sql:
            continue
        plan = explain(sql)
        # Neither a Seq Scan nor a full scan of an index: each watched table is searched by an index.
        assert not (plan.whole & watched), f"{plan.whole & watched} read whole in:\n{plan.text}"
        checked += 1
    assert checked >= 8


# --- list pages, exports -------------------------------------------------------------------


@pytest.mark.parametrize("model", [DailyAnalytics, ServiceAnalytics, OrdersSummary, Referral, ReferralReward])
def test_analytics_list_pages_run_bounded_queries_at_100_rows(analyst_client, model, django_assert_max_num_queries):
    # 100 rows, each with customers of its own: a query per row (N+1) would add 50 or more.
    FACTORIES[model].create_batch(100)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with django_assert_max_num_queries(12):
        response = analyst_client.get(url)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert len(changelist.result_list) == changelist.list_per_page == 50


def test_export_respects_the_list_filters(analyst_client, analytics_data):
    url = "/admin/analytics/serviceanalytics/export/?service_type__exact=PARCEL"
    response = analyst_client.post(url, {"format": "0", "resource": "0", **_all_fields(analyst_client, url)})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().strip().splitlines()  # streamed CSV
    header, rows = lines[0].split(","), lines[1:]
    assert len(rows) == ServiceAnalytics.objects.filter(service_type="PARCEL").count() > 0
    column = header.index("service_type")
    assert {row.split(",")[column] for row in rows} == {"PARCEL"}


def _all_fields(client, url) -> dict:
    form = client.get(url).context["form"]
    return {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}


def test_export_needs_view_permission(client, make_staff, analytics_data):
    client.force_login(make_staff(Role.LEGAL))
    assert client.get("/admin/analytics/dailyanalytics/export/").status_code == 403


ANALYTICS_PANEL_TABLES = re.compile(r'FROM "(customer_service_analytics|customer_daily_analytics|customer_referrals)"')


def test_customer_page_shows_the_analytics_panel(analyst_client, analytics_data):
    busy = ServiceAnalytics.objects.values("customer_id").annotate(n=Count("id")).order_by("-n", "customer_id").first()
    assert busy["n"] >= 2
    services = ServiceAnalytics.objects.filter(customer_id=busy["customer_id"])
    with CaptureQueriesContext(connection) as page:
        response = analyst_client.get(reverse("admin:customer_ops_customer_change", args=[busy["customer_id"]]))
    assert_page_shows(
        response,
        present=['id="panel-analytics"', *(f"<td>{s.get_service_type_display()}</td>" for s in services)],
        absent=["No service analytics yet"],
    )
    # The panel's four queries (services, last 30 days, referred by, referrals made), not one per row.
    panel = [q["sql"] for q in page.captured_queries if ANALYTICS_PANEL_TABLES.search(q["sql"])]
    assert len(panel) == 4, panel


# --- reward holds ---------------------------------------------------------------------------


@pytest.fixture
def hold(db):
    from tests.analytics.test_referrals import _linked_referral

    _linked_referral()
    jobs.run_referrals(as_of=dt.datetime(2025, 3, 3, tzinfo=UTC))
    return RewardHold.objects.first()


def test_fraud_analyst_releases_a_hold_in_the_admin(client, make_staff, hold):
    client.force_login(make_staff(Role.FRAUD))
    url = reverse("admin:analytics_rewardhold_decide", args=[hold.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"decision": "release", "reason": "Checked: family phone"})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.status == "RELEASED"


def test_a_decision_without_a_reason_is_a_form_error_and_writes_nothing(client, make_staff, hold):
    client.force_login(make_staff(Role.FRAUD))
    with unchanged(hold, hold.reward):
        response = client.post(reverse("admin:analytics_rewardhold_decide", args=[hold.pk]), {"decision": "fail"})
    assert response.status_code == 200 and response.context["form"].errors


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LEAD, Role.AGENT])
def test_other_roles_get_403_on_the_decision(client, make_staff, hold, role):
    client.force_login(make_staff(role))
    url = reverse("admin:analytics_rewardhold_decide", args=[hold.pk])
    with unchanged(hold, hold.reward):
        assert client.post(url, {"decision": "release", "reason": "x"}).status_code == 403
