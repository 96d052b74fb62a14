"""fraud_alert_daily, kept by triggers on customer_fraud_alerts, against a plain-Python count
of the alerts after random inserts, severity and order changes, decisions, deletes and
erasure-shaped scrubs, in the ORM and in raw SQL; the dashboard's chart reads it through its
unique index, never the alerts."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db import connection, connections
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.filters import dashboard_filters
from customer_ops.models import Customer, Order
from fraud.charts import alerts_per_day
from fraud.models import FraudAlert
from fraud.models_daily import AlertDaily, rebuild_alert_daily
from tests.assertions import explain
from tests.factories import CustomerFactory, OrderFactory

UTC = dt.UTC
SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def _expected() -> Counter:
    """Per (UTC day, service of the alert's order or None, severity), in plain Python."""
    counts: Counter = Counter()
    for alert in FraudAlert.objects.select_related("order"):
        service = alert.order.service_type if alert.order else None
        counts[(alert.created_at.astimezone(UTC).date(), service, alert.alert_severity)] += 1
    return counts


def _table() -> Counter:
    return Counter(
        {(r.day, r.service_type, r.alert_severity): r.alerts for r in AlertDaily.objects.all()},
    )


def _alerts(rng: random.Random, customers: list[Customer], orders: list[Order], n: int) -> list[FraudAlert]:
    return FraudAlert.objects.bulk_create(
        FraudAlert(
            customer=rng.choice(customers),
            order=rng.choice([None, *orders]),
            alert_type="PAYMENT_FRAUD",
            alert_severity=rng.choice(SEVERITIES),
            created_at=dt.datetime(2026, 3, rng.randint(1, 5), rng.randrange(24), tzinfo=UTC),
        )
        for _ in range(n)
    )


def _data(seed: int) -> tuple[random.Random, list[Customer], list[Order]]:
    rng = random.Random(seed)
    customers = CustomerFactory.create_batch(4)
    orders = [OrderFactory(customer=rng.choice(customers), service_type=s) for s in ["FOOD", "PARCEL", "RIDE"] * 2]
    return rng, customers, orders


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_daily_figures_equal_the_alerts_after_random_writes(seed):
    rng, customers, orders = _data(seed)
    alerts = _alerts(rng, customers, orders, 60)
    for alert in rng.sample(alerts, 15):  # one row per statement
        change = rng.choice(["severity", "order", "decision"])
        qs = FraudAlert.objects.filter(pk=alert.pk)
        if change == "severity":
            qs.update(alert_severity=rng.choice(SEVERITIES))
        elif change == "order":
            qs.update(order=rng.choice([None, *orders]))
        else:
            qs.update(is_resolved=True, action_taken="Reviewed", resolved_at=timezone.now())
    # Many rows in one statement: days and severities gain and lose in the same statement.
    FraudAlert.objects.filter(pk__in=[a.pk for a in rng.sample(alerts, 20)]).update(alert_severity="CRITICAL")
    FraudAlert.objects.filter(alert_severity="LOW").update(alert_severity="MEDIUM")
    # Deletes, some emptying a day.
    FraudAlert.objects.filter(pk__in=[a.pk for a in rng.sample(alerts, 25)]).delete()
    _alerts(rng, customers, orders, 10)
    assert _table() == _expected() != Counter()
    assert not AlertDaily.objects.filter(alerts=0).exists()  # an emptied day has no row


@pytest.mark.django_db
def test_raw_sql_writes_keep_the_figures_in_a_non_utc_session():
    rng, customers, orders = _data(4)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")  # +05:30: a local day straddles two UTC days
        cursor.execute(
            "INSERT INTO customer_fraud_alerts (customer_id, order_id, alert_type, alert_severity, created_at)"
            " SELECT %s, %s, 'DEVICE_MISMATCH', s, timestamptz '2026-03-01 20:00+00' + g * interval '1 hour'"
            " FROM generate_series(0, 9) g, unnest(%s::text[]) s",
            [customers[0].pk, orders[0].pk, SEVERITIES],
        )
        cursor.execute("UPDATE customer_fraud_alerts SET order_id = %s WHERE alert_severity = 'LOW'", [orders[2].pk])
        cursor.execute("DELETE FROM customer_fraud_alerts WHERE alert_severity = 'HIGH'")
        cursor.execute("SET TIME ZONE 'UTC'")
    assert _table() == _expected() != Counter()


@pytest.mark.django_db
def test_an_update_that_moves_no_figure_writes_nothing():
    rng, customers, orders = _data(5)
    _alerts(rng, customers, orders, 30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text FROM fraud_alert_daily")
        versions = dict(cursor.fetchall())
        FraudAlert.objects.update(is_resolved=True, resolution_notes="[erased]", alert_description="[erased]")
        cursor.execute("SELECT id, xmin::text FROM fraud_alert_daily")
        assert dict(cursor.fetchall()) == versions  # not even rewritten


@pytest.mark.django_db
def test_rebuild_recomputes_every_day():
    rng, customers, orders = _data(6)
    _alerts(rng, customers, orders, 30)
    AlertDaily.objects.update(alerts=99)
    AlertDaily.objects.create(day=dt.date(2020, 1, 1), service_type="FOOD", alert_severity="LOW", alerts=1)
    rebuild_alert_daily()
    assert _table() == _expected()


@pytest.mark.django_db(databases=["default", "owner"])
def test_a_truncate_of_the_alerts_empties_the_figures():
    # Only the owner may TRUNCATE (customer_ops.db_roles); its own connection and transaction.
    with connections["owner"].cursor() as cursor:
        cursor.execute("INSERT INTO customers (full_name, email) VALUES ('T', 't@example.test') RETURNING id")
        (customer_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO customer_fraud_alerts (customer_id, alert_type, alert_severity)"
            " VALUES (%s, 'PAYMENT_FRAUD', 'LOW')",
            [customer_id],
        )
        cursor.execute("SELECT sum(alerts) FROM fraud_alert_daily")
        assert cursor.fetchone() == (1,)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's deferred foreign keys checked first
        cursor.execute("TRUNCATE customer_fraud_alerts CASCADE")
        cursor.execute("SELECT count(*) FROM fraud_alert_daily")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
@pytest.mark.parametrize("service", ["", "FOOD", "RIDE"])
def test_the_chart_equals_the_alerts_and_reads_only_the_daily_rows(service):
    rng, customers, orders = _data(8)
    today = timezone.now().astimezone(UTC).date()
    FraudAlert.objects.bulk_create(
        FraudAlert(
            customer=rng.choice(customers),
            order=rng.choice([None, *orders]),
            alert_type="PAYMENT_FRAUD",
            alert_severity=rng.choice(SEVERITIES),
            created_at=timezone.now() - dt.timedelta(hours=rng.randrange(24 * 40)),
        )
        for _ in range(80)
    )
    _, f = dashboard_filters(QueryDict(f"service_type={service}"))
    with CaptureQueriesContext(connection) as queries:
        chart = alerts_per_day(f)
    assert len(queries) == 1 and "customer_fraud_alerts" not in queries[0]["sql"]

    expected: Counter = Counter()
    for (day, day_service, severity), n in _expected().items():
        if f["first"] <= day <= f["last"] and (not service or day_service == service):
            expected[(day.isoformat(), severity)] += n
    got = Counter(
        {
            (label, severity): n
            for dataset, severity in zip(chart["datasets"], SEVERITIES, strict=True)
            for label, n in zip(chart["labels"], dataset["data"], strict=True)
            if n
        }
    )
    assert got == expected != Counter()
    assert chart["labels"][-1] == today.isoformat()

    plan = explain(queries[0]["sql"], bitmap_only=True)
    assert plan.uses("fraud_alert_daily") == {"fraud_alert_daily_unique"}, plan.text
