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


def _open_holds_rule_by_rule(customer_id: int) -> list[str]:
    """What the request page listed before: per rule, its open source rows in model order."""
    from compliance.holds import HOLD_RULES, _open_sources

    return [
        f"{rule.reason} {label}"
        for rule in HOLD_RULES
        for label in _open_sources(rule, customer_id).values_list(rule.label_field, flat=True)
    ]


def test_open_holds_are_the_rules_open_sources_in_order(held_customer):
    from compliance.holds import open_holds

    customer = held_customer.customer
    f.DisputeFactory(customer=customer, order=held_customer.orders[0])  # two of one rule: their order counts
    f.FraudAlertFactory(customer=customer, is_resolved=True)  # closed: no hold
    expected = _open_holds_rule_by_rule(customer.pk)
    assert len(expected) >= 4 and any(name.startswith("unresolved fraud alert ") for name in expected)
    assert open_holds(customer.pk) == expected
    assert open_holds(f.CustomerFactory().pk) == []


def test_the_pending_request_page_reads_the_request_once(client, held_customer, make_staff):
    """The version, the request with its customer and handling row, the plan, the holds: a
    bounded number of queries, and the request itself read once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from compliance.models import DataDeletionRequest
    from customer_ops.roles import Role

    request = f.DataDeletionRequestFactory(customer=held_customer.customer)
    client.force_login(make_staff(Role.COMPLIANCE))
    url = reverse("admin:compliance_datadeletionrequest_change", args=[request.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200 and page.context["holds"] == _open_holds_rule_by_rule(request.customer_id)
    table = DataDeletionRequest._meta.db_table
    reads = [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{table}"."id"')]
    assert len(reads) == 1, reads
    assert len(queries) <= 14, [q["sql"][:80] for q in queries]


def _identifiers_column_by_column(customer_id: int, scopes: list[str]) -> dict[str, list[str]]:
    """What the erasure gathered before: one ORM query per identifier column."""
    from compliance import scrub

    raw: dict[str, set] = {}
    for step in steps():
        for column, kind in step.data.identifiers_in(scopes).items():
            rows = step.rows(customer_id)
            condition = step.data.only_where.get(column)
            if condition is not None:
                rows = rows.filter(condition)
            values = rows.order_by().exclude(**{column: ""}).values_list(column, flat=True).distinct()
            raw.setdefault(str(kind), set()).update(v for v in values if v)
    found = {kind: sorted(scrub.normalise(kind, values)) for kind, values in sorted(raw.items())}
    return {kind: values for kind, values in found.items() if values}


@pytest.mark.parametrize("scopes", [["ALL"], ["ACTIVITY_LOCATION"], ["PROFILE", "DEVICES_NETWORK"]])
def test_identifiers_in_one_statement_equal_a_query_per_column(held_customer, scopes):
    customer_id = held_customer.customer.pk
    expected = _identifiers_column_by_column(customer_id, scopes)
    assert erasure.gather_identifiers(customer_id, scopes) == expected
    if scopes == ["ALL"]:  # every kind of column, an address among them (inet reads back without a netmask)
        assert len(expected) >= 4, expected
        assert any("." in value and "/" not in value for values in expected.values() for value in values)
