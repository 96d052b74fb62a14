"""Bulk work from the queue: each ticket through its own service, a per-ticket result."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from compliance.models import AuditLog
from tests.assertions import assert_page_shows, unchanged
from tests.factories import TicketFactory
from tests.tickets.conftest import fresh
from tests.tickets.factories import MacroFactory
from tickets.models import InternalNote
from tickets.services import tickets as svc
from tickets.services.bulk import ticket_bulk

pytestmark = pytest.mark.django_db
QUEUE = "admin:tickets_ticket_changelist"


def _post(client, action, tickets, **data):
    return client.post(
        reverse(QUEUE),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tickets], "apply": "1", **data},
    )


def _last_audit_id() -> int:
    return AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _audited(since: int, field: str) -> list[tuple]:
    """(customer, new value, actor) of each audit entry on ``field`` written after ``since``:
    one per ticket the single service changed (each ticket here has its own customer)."""
    rows = AuditLog.objects.filter(id__gt=since, action_field=field)
    return sorted(rows.values_list("customer_id", "new_value", "actor_id"))


@pytest.fixture
def mix(agent, agent2):
    mine = TicketFactory(priority="LOW")
    svc.ticket_assign(ticket=mine, agent=agent, actor=agent)
    theirs = TicketFactory(priority="LOW")
    svc.ticket_assign(ticket=theirs, agent=agent2, actor=agent2)
    free = TicketFactory(priority="LOW")  # unassigned, OPEN
    return mine, theirs, free


def test_bulk_priority_mixes_done_and_refused(client, agent, mix):
    mine, theirs, free = mix
    client.force_login(agent)
    with unchanged(theirs, theirs.history.all(), audit=False):
        response = _post(client, "bulk_priority", [mine, theirs, free], priority="HIGH")
    html = assert_page_shows(response, present=["2 of 3 tickets done", theirs.ticket_id, "assigned to Sam Okafor"])
    assert "Refused:" in html
    assert fresh(mine).priority == fresh(free).priority == "HIGH" and fresh(theirs).priority == "LOW"
    # audited per ticket, through the single service
    assert AuditLog.objects.filter(action_field="customer_tickets.priority", new_value="HIGH").count() == 2


def test_bulk_resolve_uses_the_canned_reply_and_refuses_open_tickets(client, agent, mix):
    mine, theirs, free = mix
    macro = MacroFactory(name="Refunded", body="Hi {{ customer_first_name }}, we refunded you.")
    client.force_login(agent)
    last = _last_audit_id()
    with unchanged(free, theirs, audit=False):
        response = _post(client, "bulk_resolve", [mine, theirs, free], macro=macro.pk)
    assert_page_shows(response, present=["1 of 3 tickets done", "assign it first"])
    mine = fresh(mine)
    assert mine.status == "RESOLVED" and mine.resolution.startswith("Hi ") and "we refunded you" in mine.resolution
    # audited for the resolved ticket only, through the single service, with its history row
    assert _audited(last, "customer_tickets.status") == [(mine.customer_id, "RESOLVED", agent.pk)]
    assert mine.history.latest("history_date", "history_id").history_change_reason == "Resolved"


def test_bulk_note_on_each_ticket(client, lead, mix):
    client.force_login(lead)
    response = _post(client, "bulk_note", mix, body="Outage at the restaurant")
    assert_page_shows(response, present=["3 of 3 tickets done"])
    # A note's record is its own row (never edited, with its author), as for a single note:
    # one per ticket, by the lead (ticket_add_note writes no customer_audit_log entry).
    notes = InternalNote.objects.filter(body="Outage at the restaurant")
    assert sorted(notes.values_list("ticket_id", "author_id", "author_name")) == sorted(
        (t.pk, lead.pk, "Lee Lead") for t in mix
    )


def test_bulk_assign_is_a_leads(client, agent, agent2, lead, mix):
    mine, theirs, free = mix
    client.force_login(agent)
    with unchanged(*mix):
        response = _post(client, "bulk_assign", [free], agent=agent2.pk)
    assert response.status_code in (200, 302)  # the admin does not offer the action to an agent
    with unchanged(*mix):  # the service refuses it too, ticket by ticket
        [outcome] = ticket_bulk(tickets=[free], operation="assign", values={"agent": agent2}, actor=agent)
    assert not outcome.done and "Only a lead" in outcome.message
    client.force_login(lead)
    last = _last_audit_id()
    response = _post(client, "bulk_assign", [mine, free], agent=agent2.pk)
    assert_page_shows(response, present=["2 of 2 tickets done"])
    assert fresh(free).assigned_to_agent_id == fresh(mine).assigned_to_agent_id == agent2.pk
    # audited per ticket: the assignment on each, and the OPEN one's move to IN_PROGRESS
    assert _audited(last, "customer_tickets.assigned_to_agent_id") == sorted(
        [(mine.customer_id, str(agent2.pk), lead.pk), (free.customer_id, str(agent2.pk), lead.pk)]
    )
    assert _audited(last, "customer_tickets.status") == [(free.customer_id, "IN_PROGRESS", lead.pk)]


def test_bulk_form_page_then_invalid_input(client, lead, mix):
    client.force_login(lead)
    first = client.post(reverse(QUEUE), {"action": "bulk_priority", helpers.ACTION_CHECKBOX_NAME: [t.pk for t in mix]})
    assert_page_shows(first, present=["Apply to each ticket", mix[0].ticket_id])
    with unchanged(*mix):
        bad = _post(client, "bulk_priority", mix, priority="SOON")
    assert_page_shows(bad, present=["Select a valid choice"], absent=["tickets done"])
