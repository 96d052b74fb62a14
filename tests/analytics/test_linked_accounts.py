"""linked_accounts: who shares a device or an IP address with a customer, two hops at most."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from analytics.models import LoginHistory
from analytics.selectors import LinkedAccount, linked_accounts
from customer_ops.models import Customer
from tests.factories import ActivityLogFactory, CustomerFactory, CustomerSessionFactory, LoginHistoryFactory

pytestmark = pytest.mark.django_db


def test_shared_device_links_two_accounts():
    a, b = CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=a, device_id="dev-1", ip_address="10.0.0.1")
    CustomerSessionFactory(customer=b, device_id="dev-1", ip_address="10.0.0.2")
    assert linked_accounts(a.pk) == [LinkedAccount(customer_id=b.pk, hops=1, device_ids=("dev-1",))]
    assert linked_accounts(b.pk) == [LinkedAccount(customer_id=a.pk, hops=1, device_ids=("dev-1",))]


def test_shared_ip_address_links_two_accounts():
    a, b = CustomerFactory(), CustomerFactory()
    ActivityLogFactory(customer=a, device_id="dev-a", ip_address="10.0.0.9")
    LoginHistoryFactory(customer=b, device_id="dev-b", ip_address="10.0.0.9")
    assert linked_accounts(a.pk) == [LinkedAccount(customer_id=b.pk, hops=1, ip_addresses=("10.0.0.9",))]


def test_two_hops_through_an_intermediate_account_and_no_further():
    a, b, c, d = (CustomerFactory() for _ in range(4))
    LoginHistoryFactory(customer=a, device_id="dev-ab", ip_address="10.0.0.1")
    LoginHistoryFactory(customer=b, device_id="dev-ab", ip_address="10.0.0.2")
    CustomerSessionFactory(customer=b, device_id="dev-b", ip_address="10.0.0.3")
    ActivityLogFactory(customer=c, device_id="dev-c", ip_address="10.0.0.3")  # shares an IP with b
    LoginHistoryFactory(customer=c, device_id="dev-cd", ip_address="10.0.0.4")
    LoginHistoryFactory(customer=d, device_id="dev-cd", ip_address="10.0.0.5")  # three hops from a
    assert linked_accounts(a.pk) == [
        LinkedAccount(customer_id=b.pk, hops=1, device_ids=("dev-ab",)),
        LinkedAccount(customer_id=c.pk, hops=2, via_customer_id=b.pk),
    ]
    assert [x.customer_id for x in linked_accounts(a.pk, max_hops=1)] == [b.pk]


def test_no_link_when_nothing_is_shared_and_empty_values_never_link():
    a, b = CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=a, device_id="", ip_address="")
    LoginHistoryFactory(customer=b, device_id="", ip_address="")
    CustomerSessionFactory(customer=a, device_id="dev-a", ip_address="10.0.0.1")
    CustomerSessionFactory(customer=b, device_id="dev-b", ip_address="10.0.0.2")
    assert linked_accounts(a.pk) == []


def test_a_direct_link_is_reported_at_one_hop_even_when_also_reachable_at_two():
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer in (a, b, c):
        LoginHistoryFactory(customer=customer, device_id="dev-ring", ip_address="10.0.0.7")
    result = linked_accounts(a.pk)
    assert [(x.customer_id, x.hops) for x in result] == [(b.pk, 1), (c.pk, 1)]
    assert result[0].device_ids == ("dev-ring",) and result[0].ip_addresses == ("10.0.0.7",)


def test_thousands_of_logins_stay_bounded_in_rows_queries_and_time(django_assert_num_queries):
    """3,000 logins from 3,000 IP addresses, each shared with another account: only the 10
    most recent signals are followed, the answer is one query, capped at ``limit``."""
    heavy = CustomerFactory()
    others = Customer.objects.bulk_create(
        Customer(full_name=f"Other {i}", email=f"other{i}@example.test") for i in range(3000)
    )
    now = timezone.now()
    rows = []
    for i, other in enumerate(others):
        at = now - dt.timedelta(minutes=i)  # i = 0 is the most recent
        ip = f"10.{i // 250}.{i % 250}.1"
        rows.append(LoginHistory(customer=heavy, login_method="OTP", login_success=True, ip_address=ip, created_at=at))
        rows.append(LoginHistory(customer=other, login_method="OTP", login_success=True, ip_address=ip, created_at=at))
    LoginHistory.objects.bulk_create(rows, batch_size=2000)

    started = time.monotonic()
    with django_assert_num_queries(1):
        result = linked_accounts(heavy.pk, max_hops=1, limit=100)
    elapsed = time.monotonic() - started
    assert {x.customer_id for x in result} == {o.pk for o in others[:10]}  # the 10 most recent IPs
    with django_assert_num_queries(1):
        assert len(linked_accounts(heavy.pk, signals_per_account=500, accounts_per_signal=5, limit=100)) == 100
    assert elapsed < 2.0  # generous: a few milliseconds on a laptop


def test_max_hops_is_one_or_two():
    with pytest.raises(ValueError):
        linked_accounts(1, max_hops=3)
