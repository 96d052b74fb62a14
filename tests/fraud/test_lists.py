"""Lists with a backtest (issue 25, item 3)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random

import pytest
from django.db import connection
from django.utils import timezone

from analytics.models import ActivityLog, LoginHistory
from customer_ops.errors import Invalid
from customer_ops.models import Customer
from customer_ops.roles import Role
from fraud import lists, services
from fraud.models import ListEntry, ListHit, SuspiciousActivity
from tests.assertions import assert_page_shows, explain, unchanged
from tests.factories import ActivityLogFactory, CustomerFactory, LoginHistoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_staff):
    return make_staff(Role.FRAUD, username="lists-analyst")


def _log(customer, *, days_ago=0.5, device="dev-ok", ip="198.51.100.9", activity=False):
    factory = ActivityLogFactory if activity else LoginHistoryFactory
    return factory(
        customer=customer, device_id=device, ip_address=ip, created_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def test_an_entry_raises_exactly_one_suspicious_activity_per_matching_customer(analyst):
    ring = [CustomerFactory() for _ in range(3)]
    bystander = CustomerFactory()
    entry = services.list_entry_add(kind="IP_RANGE", value="203.0.113.0/24", reason="Proxy farm", actor=analyst)
    ListEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    for i, customer in enumerate(ring):
        _log(customer, ip=f"203.0.113.{i + 1}")
        _log(customer, ip="203.0.113.200", activity=True)  # a second matching row: still one activity
    _log(bystander, ip="203.0.114.1")
    _log(bystander, ip="not-an-ip")  # a malformed address neither fails nor matches
    assert lists.raise_list_matches() == 3
    raised = SuspiciousActivity.objects.filter(evidence__list_entry_id=entry.pk)
    assert sorted(raised.values_list("customer_id", flat=True)) == sorted(c.pk for c in ring)
    assert lists.raise_list_matches() == 0  # idempotent
    _log(ring[0], ip="203.0.113.50")
    assert lists.raise_list_matches() == 0  # the customer was raised for this entry already
    assert ListHit.objects.count() == 3


def test_device_and_domain_entries_match_and_expired_ones_do_not(analyst):
    a = CustomerFactory(email="a@burner.example")
    b = CustomerFactory()
    for kind, value in [("DEVICE_ID", "dev-bad"), ("EMAIL_DOMAIN", "@Burner.Example")]:
        e = services.list_entry_add(kind=kind, value=value, reason="Ring", actor=analyst)
        ListEntry.objects.filter(pk=e.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    expired = services.list_entry_add(kind="DEVICE_ID", value="dev-old", reason="Old", actor=analyst)
    ListEntry.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - dt.timedelta(days=9), expires_at=timezone.now() - dt.timedelta(days=1)
    )
    _log(a)  # the domain
    _log(b, device="dev-bad", activity=True)
    _log(b, device="dev-old")
    assert lists.raise_list_matches() == 2
    assert set(ListHit.objects.values_list("customer_id", "entry__kind")) == {
        (a.pk, "EMAIL_DOMAIN"),
        (b.pk, "DEVICE_ID"),
    }


def test_the_backtest_counts_equal_a_plain_query():
    rng = random.Random(3)
    customers = [CustomerFactory(email=f"c{i}@{rng.choice(['x.test', 'y.test'])}") for i in range(12)]
    for _ in range(80):
        _log(
            rng.choice(customers),
            days_ago=rng.uniform(0, 45),
            device=rng.choice(["d1", "d2", "d3"]),
            ip=f"10.{rng.choice([1, 2])}.{rng.randint(0, 3)}.{rng.randint(1, 254)}",
            activity=rng.random() < 0.5,
        )
    since = timezone.now() - dt.timedelta(days=30)
    rows = [
        (r.customer_id, r.device_id, r.ip_address, Customer.objects.get(pk=r.customer_id).email)
        for model in (LoginHistory, ActivityLog)
        for r in model.objects.filter(created_at__gte=since)
    ]
    checks = {
        ("DEVICE_ID", "d2"): lambda r: r[1] == "d2",
        ("IP_RANGE", "10.1.2.0/23"): lambda r: ipaddress.ip_address(r[2]) in ipaddress.ip_network("10.1.2.0/23"),
        ("EMAIL_DOMAIN", "y.test"): lambda r: r[3].endswith("@y.test"),
    }
    for (kind, value), match in checks.items():
        matched = [r for r in rows if match(r)]
        result = lists.backtest(kind, value)
        assert (result.customers, result.rows) == (len({r[0] for r in matched}), len(matched)), kind
        assert result.rows > 0, kind


@pytest.mark.parametrize(
    ("kind", "condition"),
    [("IP_RANGE", "Index Cond: (fraud_inet(ip_address) <<= "), ("DEVICE_ID", "Index Cond: (device_id = ")],
)
def test_the_backtest_reads_through_the_indexes(kind, condition):
    """Every log partition is reached through its index (login/activity ``*_inet_idx``, GiST
    inet_ops; ``*_device_idx``), never read whole."""
    since = timezone.now() - dt.timedelta(days=30)
    value = "203.0.113.0/24" if kind == "IP_RANGE" else "dev-bad"
    with connection.cursor() as cursor:
        sql = cursor.mogrify(lists.backtest_sql(kind), {"value": value, "since": since, "cap": 100})
    plan = explain(sql, bitmap_only=True)
    assert not plan.whole and condition in plan.text, plan.text
    scans = [line for line in plan.text.splitlines() if "Index Scan on" in line]
    assert scans and all("inet" in line or "device" in line for line in scans), plan.text


def test_the_email_domain_backtest_reads_customers_through_the_domain_index():
    """The domain's customers are found through ``customers_email_domain_idx`` (the
    expression the condition compares), never by reading ``customers`` whole; each log
    partition is then read through an index: its ``(customer_id, created_at)`` index per
    customer, or its ``created_at`` index over the 30 days (PostgreSQL 18 prefers the latter
    on a test's near-empty tables), never whole."""
    since = timezone.now() - dt.timedelta(days=30)
    with connection.cursor() as cursor:
        sql = cursor.mogrify(
            lists.backtest_sql("EMAIL_DOMAIN"), {"value": "burner.example", "since": since, "cap": 100}
        )
    plan = explain(sql, bitmap_only=True)
    assert not plan.whole and "Seq Scan on customers" not in plan.text, plan.text
    assert plan.uses("customers") == {"customers_email_domain_idx"}, plan.text
    assert plan.keys["customers"] == {"lower(split_part(email::text, '@'::text, 2))"}, plan.text
    for log in lists.LOGS:
        assert plan.keys.get(log) in ({"customer_id"}, {"created_at"}), plan.text


def test_bad_entries_are_refused_and_write_nothing(analyst):
    for kind, value, message in [
        ("IP_RANGE", "300.1.1.1", "CIDR"),
        ("IP_RANGE", "10.0.0.0/4", "wider than a /8"),
        ("EMAIL_DOMAIN", "someone@x.test", "domain"),
    ]:
        with unchanged(ListEntry), pytest.raises(Invalid, match=message):
            services.list_entry_add(kind=kind, value=value, reason="r", actor=analyst)
    with unchanged(ListEntry), pytest.raises(Invalid, match="why"):
        services.list_entry_add(kind="DEVICE_ID", value="d", reason=" ", actor=analyst)


def test_the_add_page_shows_the_backtest_before_saving(client, analyst):
    customer = CustomerFactory()
    _log(customer, device="dev-ring")
    _log(customer, device="dev-ring", activity=True)
    client.force_login(analyst)
    data = {"kind": "DEVICE_ID", "value": "dev-ring", "reason": "Ring device"}
    with unchanged(ListEntry):
        page = client.post("/admin/fraud/listentry/add/", data)
    assert_page_shows(page, present=["would have matched", "1 customer in 2 login or activity rows", "Save entry"])
    response = client.post("/admin/fraud/listentry/add/", {**data, "confirmed": "True"})
    assert response.status_code == 302
    assert ListEntry.objects.get().added_by == analyst
    with unchanged(ListEntry):
        bad = client.post("/admin/fraud/listentry/add/", {**data, "kind": "IP_RANGE", "value": "nope"})
    assert_page_shows(bad, present=["CIDR"])


def test_a_broad_entry_s_backtest_stops_at_the_cap(monkeypatch):
    from fraud import conf

    customer = CustomerFactory()
    for _ in range(4):
        _log(customer, device="dev-shared")
    monkeypatch.setattr(conf, "BACKTEST_MAX_ROWS", 2)
    result = lists.backtest("DEVICE_ID", "dev-shared")
    assert (result.customers, result.rows, result.capped) == (1, 2, True)
    monkeypatch.setattr(conf, "BACKTEST_MAX_ROWS", 4)
    assert lists.backtest("DEVICE_ID", "dev-shared").capped is False
