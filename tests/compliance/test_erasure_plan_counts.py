"""The erasure plan's counts come from one statement compiled once per process; they must
equal a row-by-row count of what the run selects (``Step.rows``) and holds (``held_rows``)."""

from __future__ import annotations

from collections import Counter

import pytest

from compliance import erasure
from compliance.erasure import steps
from compliance.holds import held_rows
from customer_ops.personal_data import Scope
from tests import factories as f

pytestmark = pytest.mark.django_db


def _row_by_row(customer_id: int) -> dict[str, Counter]:
    """Per step: the customer's rows by the reasons of their holds (None: not held)."""
    counts = {}
    for step in steps():
        held = held_rows(step.base, customer_id)
        ids = step.rows(customer_id).values_list(step.id_field, flat=True)
        counts[step.key] = Counter(held.get(i) for i in ids)
    return counts


def _from_statement(customer_id: int) -> dict[str, Counter]:
    found = erasure._plan_counts(customer_id)
    return {step.key: found.get(number, Counter()) for number, step in enumerate(steps())}


@pytest.fixture
def held_customer(rich_customer):
    """The rich customer with every kind of hold, one order held twice over, and a second
    customer whose open holds must not count."""
    customer, orders = rich_customer.customer, rich_customer.orders
    f.DisputeFactory(customer=customer, order=orders[1], ticket=rich_customer.ticket)
    f.FraudAlertFactory(customer=customer, order=orders[1], is_resolved=False)
    f.RefundRequestFactory(customer=customer, order=orders[0], refund_status="PENDING")
    other = f.CustomerFactory()
    f.DisputeFactory(customer=other, order=f.OrderFactory(customer=other))
    return rich_customer


def test_plan_counts_equal_a_row_by_row_count(held_customer):
    customer_id = held_customer.customer.pk
    expected = _row_by_row(customer_id)
    assert _from_statement(customer_id) == expected
    # The fixture reaches what the statement has to get right.
    order_reasons = expected["customer_ops.order"]
    assert any(reason and "; " in reason for reason in order_reasons)  # two holds on one row
    assert sum(n for reason, n in expected["tickets.historicaldispute"].items() if reason) >= 1  # a history step
    assert len([step for step, rows in expected.items() if rows]) > 20  # most steps have rows


def test_a_customer_without_rows_counts_nothing(rich_customer):
    assert not any(_from_statement(f.CustomerFactory().pk + 10_000).values())


def test_plan_is_one_query_whatever_the_steps(held_customer, django_assert_num_queries):
    customer_id = held_customer.customer.pk
    erasure._plan_statement()  # compiled once per process
    with django_assert_num_queries(1):
        plan = erasure.build_plan(customer_id=customer_id, scopes=[Scope.ALL], identifiers={})
    assert len(plan["tables"]) == len(steps())
