"""Statements kept per process (customer_ops.statements.kept_rows / kept_value): every one
compiles and runs (found from the registry, so a new one is covered), and the customer
panels' answers equal the plain querysets they replaced, on customers with more rows than a
panel shows, rows a panel leaves out, and none at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from customer_ops import panels as customer_panels
from customer_ops.statements import KEPT, STAND_IN, kept_value
from fraud import panels as fraud_panels
from fraud.models import Block, TrustScore
from fraud.selectors import in_force_q
from tests.factories import (
    BlockFactory,
    CustomerFactory,
    DisputeFactory,
    OrderFactory,
    RefundRequestFactory,
    TicketFactory,
    TrustScoreFactory,
)
from tickets import conf, selectors
from tickets import panels as ticket_panels
from tickets.choices import RefundStatus, TicketStatus
from tickets.models import Dispute, RefundRequest, Ticket

pytestmark = pytest.mark.django_db

apps.get_app_configs()  # every app's panels module is imported by now (the registry's autodiscovery)


@pytest.mark.parametrize("kept", KEPT, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_kept_statement_compiles_and_runs(kept):
    values = {"pk": CustomerFactory().pk, "at": timezone.now(), "ids": [1, 2], "key": "no-such-session-key"}
    kept(**{name: values[name] for name in kept.stand_ins})


def test_the_registry_holds_the_panels_statements():
    names = {f.__name__ for f in KEPT}
    assert {"_latest_tickets", "_latest_refunds", "_latest_disputes", "_latest_orders", "_score"} <= names
    assert {"_blocks_in_force", "_open_tickets", "_refunds_total_since"} <= names


def test_a_kept_value_whose_stand_ins_do_not_all_reach_it_is_refused():
    @kept_value(Ticket, "pk", "at")
    def _count():
        return Ticket.objects.filter(customer_id=STAND_IN).values("customer_id")

    try:
        with pytest.raises(ImproperlyConfigured):
            _count(pk=1, at=timezone.now())
    finally:
        KEPT.remove(_count)


@pytest.fixture
def customers():
    """A customer with more of everything than a panel shows, one with nothing, and a neighbour."""
    busy, empty, other = CustomerFactory(), CustomerFactory(), CustomerFactory()
    now = timezone.now()
    for customer in (busy, other):
        for i in range(conf.PANEL_ROWS + 3):
            status = TicketStatus.CLOSED if i % 3 == 0 else TicketStatus.OPEN
            ticket = TicketFactory(customer=customer, created_at=now - dt.timedelta(hours=i), status=status)
            DisputeFactory(customer=customer)
            order = OrderFactory(customer=customer)
            RefundRequestFactory(customer=customer, order=order, requested_amount=Decimal("2.50"))
            ticket.refresh_from_db(fields=["status"])
        TrustScoreFactory(customer=customer)
    RefundRequestFactory(customer=busy, refund_status=RefundStatus.REJECTED, requested_amount=Decimal("99.00"))
    old = now - dt.timedelta(days=conf.REFUND_RECENT_DAYS + 1)
    RefundRequestFactory(customer=busy, requested_amount=Decimal("20.00"), created_at=old)
    BlockFactory(customer=busy)
    BlockFactory(customer=busy, is_unblocked=True)
    day_ago, hour_ago = now - dt.timedelta(days=1), now - dt.timedelta(hours=1)
    BlockFactory(customer=busy, blocked_at=day_ago, blocked_until=hour_ago, auto_unblock=True)  # over
    BlockFactory(customer=busy, blocked_at=day_ago, blocked_until=hour_ago, auto_unblock=False)  # due for review
    return [busy, empty, other]


def _pks(rows) -> list[int]:
    return [row.pk for row in rows]


def test_the_panels_statements_answer_as_the_querysets(customers):
    now = timezone.now()
    latest = ("-created_at", "-id")
    for customer in customers:
        pk = customer.pk
        assert _pks(ticket_panels._latest_tickets(pk=pk)) == _pks(
            Ticket.objects.filter(customer=customer).order_by(*latest)[: conf.PANEL_ROWS]
        )
        refunds = ticket_panels._latest_refunds(pk=pk)
        assert _pks(refunds) == _pks(
            RefundRequest.objects.filter(customer=customer).order_by(*latest)[: conf.PANEL_ROWS]
        )
        assert all(r.order.order_number == RefundRequest.objects.get(pk=r.pk).order.order_number for r in refunds)
        assert _pks(ticket_panels._latest_disputes(pk=pk)) == _pks(
            Dispute.objects.filter(customer=customer).order_by(*latest)[: conf.PANEL_ROWS]
        )
        assert _pks(customer_panels._latest_orders(pk=pk)) == _pks(customer.orders.order_by(*latest)[:10])
        assert _pks(fraud_panels._score(pk=pk)) == _pks(TrustScore.objects.filter(customer=customer)[:1])
        assert _pks(fraud_panels._blocks_in_force(pk=pk, at=now)) == _pks(
            Block.objects.filter(in_force_q(now), customer=customer).order_by("-blocked_at", "-id")[:20]
        )
        assert (fraud_panels._any_block(pk=pk) is not None) == Block.objects.filter(customer=customer).exists()
        assert (
            selectors.open_ticket_count(pk)
            == Ticket.objects.filter(customer=customer, status__in=selectors.OPEN_STATUSES).count()
        )
        since = now - dt.timedelta(days=conf.REFUND_RECENT_DAYS)
        recent = RefundRequest.objects.filter(Q(customer=customer, created_at__gte=since)).exclude(
            refund_status=RefundStatus.REJECTED
        )
        expected = sum((r.approved_amount or r.requested_amount for r in recent), Decimal("0.00"))
        assert selectors.recent_refunds_total(pk, days=conf.REFUND_RECENT_DAYS) == expected
    busy, empty, _ = customers
    assert len(fraud_panels._blocks_in_force(pk=busy.pk, at=now)) == 2  # in force, and due for review
    assert selectors.recent_refunds_total(empty.pk, days=30) == Decimal("0.00")
    assert selectors.open_ticket_count(empty.pk) == 0
    assert 0 < selectors.open_ticket_count(busy.pk) < Ticket.objects.filter(customer=busy).count()


def test_the_blocks_panel_links_to_lifted_and_past_blocks_when_none_is_in_force():
    request = SimpleNamespace(user=SimpleNamespace(has_perm=lambda perm: False))
    in_force, lifted_only, past_only, never = (CustomerFactory() for _ in range(4))
    BlockFactory(customer=in_force)
    BlockFactory(customer=lifted_only, is_unblocked=True)
    day_ago, hour_ago = timezone.now() - dt.timedelta(days=1), timezone.now() - dt.timedelta(hours=1)
    BlockFactory(customer=past_only, blocked_at=day_ago, blocked_until=hour_ago, auto_unblock=True)
    shown = {c: fraud_panels._blocks(c, request) for c in (in_force, lifted_only, past_only, never)}
    assert [len(shown[c]["blocks"]) for c in (in_force, lifted_only, past_only, never)] == [1, 0, 0, 0]
    assert [shown[c]["any_blocks"] for c in (in_force, lifted_only, past_only, never)] == [True, True, True, False]
