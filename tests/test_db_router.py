import pytest
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from customer_ops.models import Customer
from customer_ops.replica import read_replica
from customer_ops.roles import Role
from tests.factories import CustomerFactory, ServiceAnalyticsFactory


@override_settings(READ_REPLICA_ENABLED=True)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True, serialized_rollback=True)
def test_reads_go_to_the_replica_only_inside_read_replica():
    customer = CustomerFactory()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        with read_replica():
            assert Customer.objects.get(pk=customer.pk).email == customer.email
        Customer.objects.get(pk=customer.pk)  # outside: the primary
    assert len(on_replica.captured_queries) == 1


@override_settings(READ_REPLICA_ENABLED=True)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True, serialized_rollback=True)
def test_writes_always_go_to_the_primary():
    with CaptureQueriesContext(connections["replica"]) as on_replica, read_replica():
        CustomerFactory()
    assert on_replica.captured_queries == []


@pytest.mark.django_db
def test_disabled_replica_reads_the_primary(django_assert_num_queries):
    with read_replica(), django_assert_num_queries(1):
        Customer.objects.exists()


def _sql(queries) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries)


@override_settings(READ_REPLICA_ENABLED=True)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True, serialized_rollback=True)
def test_the_dashboard_reads_the_replica_raw_sql_included(client, make_staff):
    client.force_login(make_staff(Role.ANALYST))
    with CaptureQueriesContext(connections["replica"]) as on_replica, CaptureQueriesContext(connection) as on_primary:
        assert client.get("/admin/analytics/dashboard/").status_code == 200
    # Raw SQL (analytics/dashboard.py, tickets/charts.py) as well as the ORM's charts (fraud/charts.py).
    tables = [
        "analytics_platform_daily",
        "analytics_cohort_daily",
        "support_ticket_daily",
        "support_ticket_hourly",
        "support_category_resolved",
        "fraud_alert_daily",
    ]
    for table in tables:
        assert table in _sql(on_replica), table
        assert table not in _sql(on_primary), table  # the primary: session and permissions only


@override_settings(READ_REPLICA_ENABLED=True)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True, serialized_rollback=True)
def test_an_analytics_export_streams_from_the_replica(client, make_staff):
    ServiceAnalyticsFactory()
    client.force_login(make_staff(Role.ANALYST))
    url = "/admin/analytics/serviceanalytics/export/"
    form = client.get(url).context["form"]
    fields = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
    with CaptureQueriesContext(connections["replica"]) as on_replica, CaptureQueriesContext(connection) as on_primary:
        response = client.post(url, {"format": "0", "resource": "0", **fields})
        lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(lines) == 2  # the header and the row, streamed after the view returned
    assert "customer_service_analytics" in _sql(on_replica)
    assert "customer_service_analytics" not in _sql(on_primary)
