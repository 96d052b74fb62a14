"""generate_data: realistic volumes in proportion, and rows that reference real rows.

The loader connects as the owner role (it rebuilds indexes): transactional tests, so that
the runtime connection reads what it committed.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from customer_ops.datagen import per_customer

# Per 100,000 customers, as stated in the README: written here, not read from the generator.
STATED_PER_100K = {
    "orders": 2_000_000,
    "customer_activity_log": 10_000_000,
    "customer_login_history": 1_000_000,
    "customer_tickets": 300_000,
    "customer_ticket_messages": 1_500_000,
}


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def _orphans(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "owner"])
def test_generate_data_fills_every_table_in_proportion_with_consistent_references():
    out = StringIO()
    call_command("generate_data", customers=200, days=10, skip_aggregates=True, stdout=out)
    assert _count("customers") == 200
    # The volumes the project states (README "Benchmarks and data at scale"), scaled to 200 customers.
    assert {table: _count(table) for table in STATED_PER_100K} == {
        table: n * 200 // 100_000 for table, n in STATED_PER_100K.items()
    }
    assert [table for table in per_customer() if _count(table) == 0] == []  # every other table is filled too
    assert _count("customer_trust_score") == 200
    # FK triggers are skipped during the load for speed: prove the generator kept them true.
    checks = {
        "orders": "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL",
        "messages": "SELECT count(*) FROM customer_ticket_messages m LEFT JOIN customer_tickets t "
        "ON t.id = m.ticket_id WHERE t.id IS NULL",
        "logins": "SELECT count(*) FROM customer_login_history l LEFT JOIN customer_sessions s ON s.id = l.session_id "
        "WHERE l.session_id IS NOT NULL AND s.id IS NULL",
        "refunds": "SELECT count(*) FROM customer_refund_requests r JOIN orders o ON o.id = r.order_id "
        "WHERE o.customer_id <> r.customer_id OR r.approved_amount > r.requested_amount",
        "activity": "SELECT count(*) FROM customer_activity_log a LEFT JOIN customers c ON c.id = a.customer_id "
        "WHERE c.id IS NULL",
    }
    assert {name: _orphans(sql) for name, sql in checks.items()} == dict.fromkeys(checks, 0)
    assert _orphans("SELECT count(*) FROM customer_tickets WHERE ticket_id NOT LIKE 'TKT-%'") == 0
    # The audit rows it loaded are in the audit hash chain, whether its triggers ran or not.
    verified = StringIO()
    call_command("verify_audit_chain", stdout=verified)
    assert verified.getvalue().startswith(f"OK: {_count('customer_audit_log')} rows checked"), verified.getvalue()
    # A desk's queue: the open tickets are the last hours' (their resolution runs past the
    # data's end) plus a few stale ones, not a share of every day's; the resolved have times.
    open_share = _orphans("SELECT avg((status IN ('OPEN', 'IN_PROGRESS'))::int) * 100 FROM customer_tickets")
    assert 1 <= open_share <= 15, open_share
    assert (
        _orphans(
            "SELECT count(*) FROM customer_tickets WHERE (status IN ('RESOLVED', 'CLOSED')) "
            "<> (resolved_at IS NOT NULL AND resolution_time_minutes IS NOT NULL)"
        )
        == 0
    )
    # The side table a trigger keeps (skipped by the load) holds each ticket's first agent reply.
    assert (
        _orphans(
            "SELECT count(*) FROM (SELECT ticket_id, min(created_at) FROM customer_ticket_messages "
            "WHERE sender_type = 'AGENT' GROUP BY ticket_id) m FULL JOIN tickets_first_response f USING (ticket_id) "
            "WHERE f.first_response_at IS DISTINCT FROM m.min"
        )
        == 0
    )
    assert _count("tickets_first_response") > 0
    assert "rows/s" in out.getvalue()


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "owner"])
def test_generate_data_appends_after_existing_rows():
    call_command("generate_data", customers=20, days=3, skip_aggregates=True, stdout=StringIO())
    call_command("generate_data", customers=20, days=3, seed=2, skip_aggregates=True, stdout=StringIO())
    assert _count("customers") == 40
    from customer_ops.models import Customer

    Customer.objects.create(full_name="After", email="after@example.test")  # the sequence moved on


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "owner"])
def test_generate_data_then_computes_the_analytics_tables():
    call_command("generate_data", customers=30, days=3, stdout=StringIO())
    assert _count("customer_daily_analytics") > 0
    assert _count("customer_orders_summary") > 0


def test_each_app_generates_its_own_tables():
    """Each step of generate_data (customer_ops.registry.register_scale_data, in
    ``<app>/datagen.py``) fills only its own app's tables, and every table with a share
    per customer is some app's."""
    from django.apps import apps

    from customer_ops import registry

    owner = {model._meta.db_table: model._meta.app_label for model in apps.get_models()}
    steps = registry.scale_data.ordered()
    assert {apps.get_containing_app_config(step.generate.__module__).label for step in steps} >= {
        "customer_ops",
        "tickets",
        "fraud",
        "analytics",
        "compliance",
    }
    for step in steps:
        app = apps.get_containing_app_config(step.generate.__module__).label
        assert step.per_customer, step.key
        assert {owner.get(table) for table in [*step.per_customer, *step.keep_indexes]} == {app}, step.key
