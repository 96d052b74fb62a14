"""SLA computation (customer_ops.deadlines) agrees between Python and SQL; panels; macros."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from customer_ops.deadlines import DueState, ticket_sla
from customer_ops.panels import render_panels
from tests.factories import RefundRequestFactory, TicketFactory, TicketMessageFactory
from tickets import macros, selectors
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_ticket_sla_states():
    now = timezone.now()
    sla = ticket_sla(priority="HIGH", created_at=now - dt.timedelta(hours=2))
    assert sla.first_response.due_at == now - dt.timedelta(hours=1)
    assert sla.first_response.state(now) == DueState.BREACHED
    assert sla.resolution.state(now) == DueState.OK
    assert sla.breached(now)
    answered = ticket_sla(
        priority="HIGH",
        created_at=now - dt.timedelta(hours=2),
        first_response_at=now - dt.timedelta(hours=1, minutes=30),
    )
    assert answered.first_response.state(now) == DueState.MET
    assert answered.next_due() == answered.resolution


def test_queue_sla_due_matches_python(agent):
    now = timezone.now()
    unanswered = TicketFactory(priority="URGENT", created_at=now - dt.timedelta(minutes=10))
    answered = TicketFactory(priority="LOW", created_at=now - dt.timedelta(hours=3))
    TicketMessageFactory(ticket=answered, sender_type="AGENT")
    rows = {t.pk: t for t in selectors.ticket_queue()}
    for ticket in (unanswered, answered):
        ticket = Ticket.objects.get(pk=ticket.pk)
        expected = selectors.sla_for(ticket).next_due().due_at
        assert rows[ticket.pk].sla_due_at == expected


def test_refundable_amount_counts_approved_and_pending_not_rejected(order):
    RefundRequestFactory(order=order, customer=order.customer, requested_amount="10.00", refund_status="PENDING")
    RefundRequestFactory(
        order=order,
        customer=order.customer,
        requested_amount="20.00",
        approved_amount="5.00",
        refund_status="APPROVED",
    )
    RefundRequestFactory(order=order, customer=order.customer, requested_amount="25.00", refund_status="REJECTED")
    order.refresh_from_db()
    assert selectors.refundable_amount(order) == Decimal("25.00")


def test_panels_render_with_links(agent, ticket, django_assert_max_num_queries):
    RefundRequestFactory(customer=ticket.customer, order=ticket.order, requested_amount="3.00")
    request = RequestFactory().get("/")
    request.user = agent
    with django_assert_max_num_queries(8):
        panels = {p["key"]: p["html"] for p in render_panels(ticket.customer, request, only=["tickets", "refunds"])}
    assert ticket.ticket_id in panels["tickets"] and "/admin/tickets/ticket/" in panels["tickets"]
    assert "3.00" in panels["refunds"] and "/admin/tickets/refundrequest/" in panels["refunds"]


def test_panels_hidden_without_view_permission(make_staff, ticket):
    request = RequestFactory().get("/")
    request.user = make_staff(None)
    assert render_panels(ticket.customer, request, only=["tickets", "refunds"]) == []


def test_macro_placeholders(ticket, agent):
    values = macros.values_for(ticket, agent)
    text = macros.render("Hi {{customer_first_name}}, {{ order_number }} / {{ unknown }}", values)
    assert text == f"Hi {ticket.customer.first_name}, {ticket.order.order_number} / {{{{ unknown }}}}"
    with pytest.raises(ValidationError):
        macros.check_placeholders("{{ secret }}")


@pytest.mark.django_db
def test_disputes_panel_lists_disputes_without_legal_fields(rf, make_staff):
    from customer_ops.roles import Role
    from tests.factories import DisputeFactory

    dispute = DisputeFactory(legal_case_number="LC-SECRET-1", legal_notes="privileged note")
    request = rf.get("/")
    request.user = make_staff(Role.AGENT)
    panels = {p["key"]: p["html"] for p in render_panels(dispute.customer, request, only=["disputes"])}
    assert dispute.dispute_id in panels["disputes"]
    assert "LC-SECRET-1" not in panels["disputes"] and "privileged" not in panels["disputes"]
