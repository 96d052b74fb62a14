"""Scale: partitioned logs, searches and filters that indexes serve, estimated counts.

Timings live in bench/admin_pages.py; these tests pin the behaviour behind them.
"""

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection, connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import ActivityLog, LoginHistory
from compliance.models import AuditLog
from customer_ops.admin_base import EstimatedCountPaginator
from customer_ops.datagen import Generator
from customer_ops.models import Customer, Order
from customer_ops.partitions import is_partitioned, partition_name, partitions
from fraud import scoring
from fraud.models import TrustScore
from tests.assertions import explain
from tests.factories import (
    ActivityLogFactory,
    CustomerFactory,
    LoginHistoryFactory,
    OrderFactory,
    RefundRequestFactory,
    TrustScoreFactory,
)

PARTITIONED = [ActivityLog, LoginHistory, AuditLog]


def _sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def _invalid_indexes(table: str) -> list:
    return _sql(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid AND indrelid IN "
        "(SELECT %s::regclass UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
        [table, table],
    )


# --- partitioned logs ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", PARTITIONED, ids=lambda m: m._meta.db_table)
def test_logs_are_monthly_partitions_under_the_spec_name(model):
    table = model._meta.db_table
    assert is_partitioned(table)
    this_month = timezone.now().date().replace(day=1)
    assert partition_name(table, this_month) in partitions(table)
    assert f"{table}_default" in partitions(table)
    assert _invalid_indexes(table) == []
    # The primary key includes the partition key; Django still addresses rows by id.
    assert _sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    ) == [("PRIMARY KEY (id, created_at)",)]
    assert model._meta.pk.name == "id"


@pytest.mark.django_db
def test_a_new_row_lands_in_its_month_and_is_found_by_id():
    row = ActivityLogFactory()
    table = ActivityLog._meta.db_table
    month = row.created_at.astimezone(dt.UTC).date().replace(day=1)
    assert _sql(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [row.pk]) == [
        (partition_name(table, month),)
    ]
    assert ActivityLog.objects.get(pk=row.pk) == row


@pytest.mark.django_db(databases=["default", "owner"])
def test_bulk_load_rebuilds_the_partitioned_indexes_valid():
    # pg_get_indexdef() of a partitioned index says "ON ONLY": rebuilt as is, the index
    # would be invalid and absent from every partition. The loader is DDL, run as the
    # owner: in an owner transaction rolled back at the end.
    generator = Generator(customers=1, days=1)
    owner = connections["owner"]
    with transaction.atomic(using="owner"):
        for table in ("customer_activity_log", "customer_login_history"):
            definitions = generator._drop_secondary_indexes(table)
            assert definitions and not any(" ON ONLY " in d for d in definitions)
            with owner.cursor() as cursor:
                for definition in definitions:
                    cursor.execute(definition)
                cursor.execute(
                    "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid AND indrelid IN "
                    "(SELECT %s::regclass UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
                    [table, table],
                )
                assert cursor.fetchall() == []
        transaction.set_rollback(True, using="owner")


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "owner"])
def test_estimated_count_of_a_partitioned_log_sums_its_partitions():
    LoginHistoryFactory.create_batch(3)
    # Autovacuum analyses the partitions, never the parent (ANALYZE needs the owner role).
    with connections["owner"].cursor() as cursor:
        for partition in partitions("customer_login_history"):
            cursor.execute(f"ANALYZE {partition}")
    stale = _sql("SELECT reltuples FROM pg_class WHERE oid = 'customer_login_history'::regclass")[0][0]
    assert stale != 3  # the parent's own estimate is stale (-1: never analysed)
    paginator = EstimatedCountPaginator(LoginHistory.objects.all(), 100)
    assert paginator._table_estimate(LoginHistory.objects.all()) == 3


# --- search and filters served by indexes ----------------------------------------------------


def _searched_columns(model) -> dict[str, set[str]]:
    """Per table, the columns the model's admin search compares (``=customer__email``: the
    customer's email, then this table's customer_id)."""
    columns: dict[str, set[str]] = {}
    for spec in admin.site._registry[model].search_fields:
        name, _, rest = spec.lstrip("=^@").partition("__")
        field = model._meta.get_field(name)
        columns.setdefault(model._meta.db_table, set()).add(field.column)
        if rest and rest not in ("id", "pk"):
            related = field.related_model
            columns.setdefault(related._meta.db_table, set()).add(related._meta.get_field(rest).column)
    return columns


def _covers(keys: dict[str, set[str]], columns: dict[str, set[str]]) -> bool:
    """Every searched column is the first key of an index the plan reads (tiny test tables
    may add others)."""
    return all(wanted <= keys.get(table, set()) for table, wanted in columns.items())


def _search(model, term, superuser):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/", {"q": term})
    request.user = superuser
    qs, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), term)
    return qs


@pytest.mark.django_db
def test_exact_key_search_compares_the_column_itself_not_upper_text(superuser):
    row = ActivityLogFactory(device_id="dev-AB12", ip_address="10.1.2.3")
    ActivityLogFactory()
    qs = _search(ActivityLog, str(row.customer_id), superuser)
    sql = str(qs.query)
    assert "UPPER" not in sql
    assert list(qs) == [row]
    # Each searched column by its own index (a full scan of the ordering index would do without).
    plan = explain(qs, bitmap_only=True)
    assert not plan.whole, plan.text
    searched = _searched_columns(ActivityLog)["customer_activity_log"]
    assert searched - {"customer_id"} <= plan.keys["customer_activity_log"], plan.text
    # The customer id by its own index or, on tiny partitions, the daily index that holds it.
    assert plan.uses("customer_activity_log") & {"activity_log_customer_idx", "activity_log_daily_idx"}, plan.text
    # Text keys match as typed or in either case; a non-number skips the id field.
    assert list(_search(ActivityLog, "DEV-ab12", superuser)) == []
    assert list(_search(ActivityLog, "dev-ab12", superuser)) == []
    assert list(_search(ActivityLog, "dev-AB12", superuser)) == [row]
    assert list(_search(ActivityLog, "10.1.2.3", superuser)) == [row]


@pytest.mark.django_db
def test_order_number_search_uses_its_unique_index(superuser):
    order = OrderFactory()
    OrderFactory()
    qs = _search(Order, order.order_number.lower(), superuser)
    assert list(qs) == [order]
    assert "UPPER" not in str(qs.query)
    plan = explain(qs, bitmap_only=True)
    assert not plan.whole and plan.keys == {"orders": {"order_number"}}, plan.text  # a text term skips "=id"


@pytest.mark.django_db
def test_search_through_a_relation_stays_on_this_tables_indexes(superuser):
    """A refund request found by its id, its order's number or its customer's email: the
    related rows are looked up first, so the OR is over refund-request indexes, not across
    a join (which scans both tables)."""
    from tickets.models import RefundRequest

    refund, other = RefundRequestFactory(), RefundRequestFactory()
    for term in (refund.refund_request_id.lower(), refund.order.order_number, refund.customer.email.upper()):
        qs = _search(RefundRequest, term, superuser)
        assert list(qs) == [refund], term
        sql = str(qs.query)
        assert "JOIN" not in sql.split("WHERE")[1] and "= ANY(" in sql
        plan = explain(qs, bitmap_only=True)
        assert not plan.whole and _covers(plan.keys, _searched_columns(RefundRequest)), plan.text
    assert list(_search(RefundRequest, f"{refund.refund_request_id} {other.customer.email}", superuser)) == []


@pytest.mark.django_db
def test_search_with_a_huge_number_is_no_error(superuser, client):
    customer = CustomerFactory()
    client.force_login(superuser)
    response = client.get(reverse("admin:analytics_activitylog_changelist"), {"q": "99999999999999999999999"})
    assert response.status_code == 200
    assert list(_search(Customer, str(customer.pk), superuser)) == [customer]


@pytest.mark.django_db
def test_free_text_filter_collects_choices_without_distinct_over_the_log(superuser, client):
    LoginHistoryFactory(device_type="ANDROID")
    LoginHistoryFactory(device_type="IOS")
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:analytics_loginhistory_changelist"))
    assert response.status_code == 200
    distinct = [q["sql"] for q in captured if "DISTINCT" in q["sql"] and "customer_login_history" in q["sql"]]
    assert distinct and all("LIMIT" in sql for sql in distinct)  # over the newest rows only
    content = response.content.decode()
    assert "device_type=ANDROID" in content and "device_type=IOS" in content
    response = client.get(reverse("admin:analytics_loginhistory_changelist"), {"device_type": "IOS"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "table, index",
    [
        ("customer_ticket_messages", "ticket_messages_created_idx"),
        ("customer_daily_analytics", "daily_analytics_ordering_idx"),
    ],
)
def test_default_orderings_have_an_index(table, index):
    assert _sql("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s", [table, index]) == [(1,)]


# --- a trust score written by a bulk load ----------------------------------------------------


@pytest.mark.django_db
def test_trust_score_page_without_history_renders(superuser, client):
    assert scoring.movements([]) == []
    # A score with no history row (bulk_create records none; history itself is append-only).
    score = TrustScore.objects.bulk_create([TrustScoreFactory.build(customer=CustomerFactory())])[0]
    assert not score.history.exists()
    client.force_login(superuser)
    assert client.get(reverse("admin:fraud_trustscore_change", args=[score.pk])).status_code == 200
