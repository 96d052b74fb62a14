"""The auth and app systems' batches into the login history and the activity log: every
rule, all or nothing (the tables re-read after a refusal), every bad item named, the monthly
partitions, and who may send them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from analytics import services
from analytics.models import ActivityLog, LoginHistory
from analytics.services import LogInvalid
from customer_ops import partitions
from customer_ops.context import CallingSystem
from customer_ops.errors import Invalid, NotAllowed
from customer_ops.roles import Role
from customer_ops.scopes import API_SCOPES, LOGS_WRITE
from tests.assertions import unchanged
from tests.factories import CustomerFactory, CustomerSessionFactory, OrderFactory

pytestmark = pytest.mark.django_db

AUTH = CallingSystem(name="auth", client_id=3, scopes=frozenset({LOGS_WRITE}))
TABLES = (LoginHistory, ActivityLog)


@pytest.fixture
def customer():
    return CustomerFactory()


def _login(customer, **extra) -> dict:
    return {"customer_id": customer.pk, "login_method": "OTP", "login_success": True, **extra}


def _activity(customer, **extra) -> dict:
    return {"customer_id": customer.pk, "activity_type": "APP_OPEN", **extra}


def _refused(call, **kwargs) -> list[dict]:
    with unchanged(*TABLES), pytest.raises(LogInvalid) as refused:
        call(**kwargs)
    assert isinstance(refused.value, Invalid) and "nothing was written" in refused.value.message
    return refused.value.errors


def _partition_of(model, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


# --- login history -----------------------------------------------------------------------------


def test_login_attempts_are_appended_with_every_field(customer):
    session = CustomerSessionFactory(customer=customer)
    at = timezone.now() - dt.timedelta(minutes=30)
    written = services.login_history_append(
        items=[
            _login(
                customer,
                session_id=session.pk,
                device_id="d-1",
                device_type="ANDROID",
                device_model="Pixel 9",
                ip_address="203.0.113.9",
                ip_location="Dhaka, BD",
                user_agent="App/5.1",
                created_at=at.isoformat().replace("+00:00", "Z"),
            ),
            _login(customer, login_method="PASSWORD", login_success=False, failure_reason="Wrong password"),
        ],
        actor=AUTH,
    )
    assert written == 2
    first, second = LoginHistory.objects.filter(customer=customer).order_by("id")
    assert (first.session, first.device_model, first.ip_address, first.created_at) == (
        session,
        "Pixel 9",
        "203.0.113.9",
        at,
    )
    assert (second.login_success, second.failure_reason, second.session) == (False, "Wrong password", None)
    assert _partition_of(LoginHistory, first.pk) == partitions.partition_name("customer_login_history", at.date())


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"login_method": "SMS"}, "login_method"),
        ({"login_success": None}, "login_success"),  # required
        ({"login_success": 1}, "login_success"),
        ({"ip_address": "300.1.1.1"}, "ip_address"),
        ({"user_agent": "x" * 1001}, "user_agent"),
        ({"device_id": 42}, "device_id"),
        ({"created_at": (timezone.now() + dt.timedelta(minutes=10)).isoformat()}, "created_at"),
        ({"created_at": "2026-12-05T10:00:00"}, "created_at"),
        ({"session_id": -1}, "session_id"),
        ({"order_id": 1}, "order_id"),  # not a field of this table
    ],
)
def test_each_login_rule(customer, extra, field):
    errors = _refused(services.login_history_append, items=[_login(customer), _login(customer, **extra)], actor=AUTH)
    assert [(e["index"], e["field"]) for e in errors] == [(1, field)]


def test_sessions_must_exist_and_be_the_customers(customer):
    others = CustomerSessionFactory()
    items = [_login(customer, session_id=others.pk), _login(customer, session_id=10**10), _login(customer)]
    errors = _refused(services.login_history_append, items=items, actor=AUTH)
    assert [(e["index"], e["field"]) for e in errors] == [(0, "session_id"), (1, "session_id")]
    assert f"is not customer {customer.pk}'s" in errors[0]["message"]
    assert "does not exist" in errors[1]["message"]


def test_one_bad_login_in_five_thousand_writes_nothing_and_is_named(customer):
    items = [_login(customer) for _ in range(services.MAX_LOG_ROWS)]
    items[17] = _login(customer, customer_id=10**11)
    items[4999] = _login(customer, login_method="PIN")
    errors = _refused(services.login_history_append, items=items, actor=AUTH)
    assert [(e["index"], e["field"]) for e in errors] == [(17, "customer_id"), (4999, "login_method")]
    with pytest.raises(LogInvalid, match="At most 5,000 login attempts"):
        services.login_history_append(items=items + [_login(customer)], actor=AUTH)
    items[17], items[4999] = _login(customer), _login(customer)
    assert services.login_history_append(items=items, actor=AUTH) == 5000
    assert LoginHistory.objects.filter(customer=customer).count() == 5000


def test_a_late_row_of_a_month_without_a_partition_waits_in_the_default_partition(customer):
    """Late rows are accepted (never a 500): PostgreSQL puts a month without a partition in
    the default partition, and roll_partitions moves it into its month, as for any late row."""
    at = timezone.now() - dt.timedelta(days=75)
    table = "customer_login_history"
    month = partitions.partition_name(table, at.date())
    assert month not in partitions.partitions(table)  # the test database's months start this month
    services.login_history_append(items=[_login(customer, created_at=at)], actor=AUTH)
    row = LoginHistory.objects.get(customer=customer)
    assert _partition_of(LoginHistory, row.pk) == f"{table}_default"
    with connection.cursor() as cursor:  # the job runs in its own transaction: no check pending
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert month in partitions.roll(table)
    assert _partition_of(LoginHistory, row.pk) == month
    assert LoginHistory.objects.get(customer=customer).created_at == at


def test_an_erased_customer_gets_no_new_log_rows():
    erased = CustomerFactory(status="ANONYMISED")
    errors = _refused(services.login_history_append, items=[_login(erased, ip_address="198.51.100.7")], actor=AUTH)
    assert errors == [
        {
            "index": 0,
            "field": "customer_id",
            "message": f"customer {erased.pk} was erased; nothing is recorded about them",
        }
    ]


# --- activity log ------------------------------------------------------------------------------


def test_activities_are_appended(customer):
    order = OrderFactory(customer=customer, service_type="FOOD")
    written = services.activity_log_append(
        items=[
            _activity(
                customer,
                activity_type="ORDER_PLACED",
                service_type="FOOD",
                order_id=order.pk,
                location_lat=23.8103,
                location_lon="90.4125",
                activity_metadata={"items": 3, "coupon": None},
                ip_address="::ffff:192.0.2.1",
            ),
            _activity(customer, activity_type="WALLET_TOPPED_UP"),  # the spec's list ends in "etc."
        ],
        actor=AUTH,
    )
    assert written == 2
    placed, topped = ActivityLog.objects.filter(customer=customer).order_by("id")
    assert (placed.order, placed.service_type, placed.activity_metadata) == (
        order,
        "FOOD",
        {"items": 3, "coupon": None},
    )
    assert (placed.location_lat, placed.location_lon) == (Decimal("23.810300"), Decimal("90.412500"))
    assert placed.ip_address == "::ffff:c000:201"
    assert (topped.activity_type, topped.activity_metadata, topped.service_type) == ("WALLET_TOPPED_UP", {}, None)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"activity_type": "order placed"}, "activity_type"),
        ({"activity_type": "X" * 65}, "activity_type"),
        ({"service_type": "GROCERY"}, "service_type"),
        ({"location_lat": 90.5}, "location_lat"),
        ({"location_lon": -180.01}, "location_lon"),
        ({"location_lon": "east"}, "location_lon"),
        ({"activity_metadata": "{}"}, "activity_metadata"),
        ({"activity_metadata": {"blob": "x" * 70_000}}, "activity_metadata"),
        ({"order_id": 10**12}, "order_id"),
        ({"login_method": "OTP"}, "login_method"),
    ],
)
def test_each_activity_rule(customer, extra, field):
    errors = _refused(services.activity_log_append, items=[_activity(customer, **extra)], actor=AUTH)
    assert [(e["index"], e["field"]) for e in errors] == [(0, field)]


def test_an_order_must_be_the_customers(customer):
    errors = _refused(services.activity_log_append, items=[_activity(customer, order_id=OrderFactory().pk)], actor=AUTH)
    assert [(e["index"], e["field"]) for e in errors] == [(0, "order_id")]


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["login_history_append", "activity_log_append"])
def test_the_logs_are_the_systems_alone(superuser, make_staff, customer, service):
    call = getattr(services, service)
    item = _login(customer) if service == "login_history_append" else _activity(customer)
    others = CallingSystem(name="pipeline", scopes=frozenset(API_SCOPES) - {LOGS_WRITE})
    for actor in (superuser, make_staff(Role.ANALYST), make_staff(Role.FRAUD), others):
        with unchanged(*TABLES), pytest.raises(NotAllowed):
            call(items=[item], actor=actor)
    assert call(items=[item], actor=AUTH) == 1
    assert call.scope == LOGS_WRITE and call.permissions == ()
