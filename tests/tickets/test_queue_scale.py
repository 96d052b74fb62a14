"""The queue at scale: its first-reply side table stays exact, and its plans use indexes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from customer_ops.admin_base import EstimatedCountPaginator
from tests.assertions import explain
from tests.factories import TicketFactory, TicketMessageFactory
from tickets import selectors
from tickets.admin.tickets import TicketAdmin
from tickets.models import Ticket, TicketFirstResponse, TicketMessage

pytestmark = pytest.mark.django_db


def test_first_reply_side_table_follows_agent_messages():
    now = timezone.now()
    ticket = TicketFactory(created_at=now - dt.timedelta(hours=5))
    TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    assert not TicketFirstResponse.objects.filter(ticket=ticket).exists()
    later = TicketMessageFactory(ticket=ticket, sender_type="AGENT", created_at=now - dt.timedelta(hours=1))
    assert TicketFirstResponse.objects.get(ticket=ticket).first_response_at == later.created_at
    earlier = TicketMessageFactory(ticket=ticket, sender_type="AGENT", created_at=now - dt.timedelta(hours=3))
    assert TicketFirstResponse.objects.get(ticket=ticket).first_response_at == earlier.created_at
    TicketMessage.objects.filter(pk=earlier.pk).delete()  # not a workflow; the side table recomputes anyway
    assert TicketFirstResponse.objects.get(ticket=ticket).first_response_at == later.created_at


# The open views start from tickets_queue_order (one row per open ticket, tests/tickets/
# test_queue_order.py checks its ordered read) and reach each ticket by its primary key.
QUEUE_INDEXES = {"tickets_queue_order_pkey", "tickets_queue_order_idx", "tickets_queue_unassigned_idx"}


@pytest.mark.parametrize("view", ["open", "breached", "unassigned"])
def test_open_views_plan_uses_an_index_not_a_seq_scan(agent, view):
    TicketFactory.create_batch(3)
    qs = selectors.queue_view(selectors.ticket_queue(), view, user=agent).order_by(*selectors.queue_ordering())
    plan = explain(qs[:100], bitmap_only=True)
    assert "customer_tickets" not in plan.whole, plan.text
    assert plan.uses("customer_tickets") == {"customer_tickets_pkey"}, plan.text
    if view == "open":
        # tickets_queue_order is the open queue itself (a row per open ticket): the open view
        # reads it all, in its index's order under the page's LIMIT (test_queue_order.py).
        return
    assert "tickets_queue_order" not in plan.whole, plan.text
    assert plan.uses("tickets_queue_order") and plan.uses("tickets_queue_order") <= QUEUE_INDEXES, plan.text


def test_queue_search_matches_ticket_id_subject_and_customer(client, agent):
    client.force_login(agent)
    by_customer = TicketFactory(customer__full_name="Zelda Quartermaine", subject="Late parcel")
    by_subject = TicketFactory(subject="Quartermaine asked twice")
    TicketFactory(subject="Nothing to see")

    def found(term):
        response = client.get(reverse("admin:tickets_ticket_changelist"), {"q": term})
        assert response.status_code == 200
        return {t.pk for t in response.context["cl"].result_list}

    assert found("quartermaine") == {by_customer.pk, by_subject.pk}
    assert found("zelda quartermaine") == {by_customer.pk}  # terms ANDed
    assert found(by_customer.customer.email.upper()) == {by_customer.pk}
    assert found(by_subject.ticket_id.lower()) == {by_subject.pk}
    assert found("nobody-matches-this") == set()


def test_queue_search_plan_uses_indexes(agent):
    TicketFactory.create_batch(3)
    request = RequestFactory().get("/")
    request.user = agent
    ma = TicketAdmin(Ticket, admin.site)
    qs, _ = ma.get_search_results(request, selectors.ticket_queue(), "smith")
    plan = explain(qs.order_by(*selectors.queue_ordering())[:100], bitmap_only=True)
    assert not {"customer_tickets", "customers"} & plan.whole, plan.text
    # Ticket id, subject or customer: each arm of the OR on its own index (see IndexedSearchMixin).
    used = plan.uses("customer_tickets")
    assert {"customer_tickets_subject_trgm", "customer_tickets_customer_idx"} < used, plan.text
    assert len(used) == 3 and any(i.startswith("customer_tickets_ticket_id_") for i in used), plan.text  # either
    # The customer's email, phone and name by their trigram indexes. The rows shown are joined
    # to their customer by id: through the primary key, or (a tie on a tiny table, which the
    # statistics earlier tests leave behind can break either way) the status index, whose
    # second key is the id. Never a whole-table read (asserted above).
    trigram = {"customers_email_trgm", "customers_phone_trgm", "customers_name_trgm"}
    assert trigram <= plan.uses("customers"), plan.text
    assert plan.uses("customers") - trigram <= {"customers_pkey", "customers_status_idx"}, plan.text


def test_queue_pages_read_open_tickets_first_in_the_same_order(client, lead, monkeypatch):
    """Pages past the last open ticket continue with the resolved ones, as the plain order."""
    now = timezone.now()
    for i in range(7):
        TicketFactory(
            priority=["LOW", "HIGH", "CRITICAL"][i % 3],
            status=["OPEN", "IN_PROGRESS", "RESOLVED"][i % 3],
            resolved_at=now if i % 3 == 2 else None,
            created_at=now - dt.timedelta(hours=i),
        )
    expected = list(selectors.ticket_queue().order_by(*selectors.queue_ordering()).values_list("pk", flat=True))
    # The queue's page count comes from the planner's estimate, which this test is not about:
    # an exact count here (an ANALYZE would need the owner role and would leave statistics
    # that change the plans the other tests of this module check).
    monkeypatch.setattr(EstimatedCountPaginator, "_table_estimate", lambda self, qs: qs.count())
    monkeypatch.setattr(TicketAdmin, "list_per_page", 3)
    client.force_login(lead)
    shown = []
    for page in (1, 2, 3):
        response = client.get(reverse("admin:tickets_ticket_changelist"), {"p": page})
        shown += [t.pk for t in response.context["cl"].result_list]
    assert shown == expected
