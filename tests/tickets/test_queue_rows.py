"""The queue's rows come from one statement compiled once per process
(``tickets.selectors.queue_rows``, customer_ops.statements.ModelStatement): each row must be
what the plain queryset gives, column by column, whatever the ticket's state, the viewer and
the SLA settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TicketFactory, TicketMessageFactory
from tickets import selectors
from tickets.choices import Priority, SenderType, TicketStatus
from tickets.models import SlaEscalation, Ticket
from tickets.services import presence
from tickets.services import tickets as services

pytestmark = pytest.mark.django_db

ANNOTATIONS = (
    "first_response_at",
    "first_response_due",
    "resolution_due",
    "sla_due_at",
    "priority_rank",
    "unread_count",
    "escalated",
    "watchers",
)


def _plain(ids, viewer, since) -> dict[int, Ticket]:
    """The same rows through the ORM, as the queue loaded them before."""
    rows = (
        selectors.ticket_queue()
        .annotate(watchers=selectors.watchers_subquery(since, exclude_user_id=viewer.pk))
        .only(*selectors.QUEUE_ROW_COLUMNS)
        .filter(pk__in=ids)
    )
    return {ticket.pk: ticket for ticket in rows}


def _state(ticket: Ticket) -> dict:
    fields = {
        f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields if f.attname in ticket.__dict__
    }
    return {
        **fields,
        **{name: getattr(ticket, name) for name in ANNOTATIONS},
        "deferred": ticket.get_deferred_fields(),
        "customer": (ticket.customer.pk, ticket.customer.full_name, ticket.customer.email),
        "customer deferred": ticket.customer.get_deferred_fields(),
    }


@pytest.fixture
def tickets(agent, agent2, lead):
    now = timezone.now()
    fresh = TicketFactory(created_at=now - dt.timedelta(minutes=5), priority="URGENT")
    late = TicketFactory(created_at=now - dt.timedelta(days=9), priority="LOW", status=TicketStatus.IN_PROGRESS)
    TicketMessageFactory.create_batch(3, ticket=late, sender_type=SenderType.CUSTOMER)
    SlaEscalation.objects.create(
        ticket=late, kind="FIRST_RESPONSE", due_at=now, from_priority="LOW", to_priority="HIGH"
    )
    replied = TicketFactory(created_at=now - dt.timedelta(hours=3), assigned_to_agent=agent)
    TicketMessageFactory(ticket=replied, sender_type=SenderType.AGENT)
    resolved = TicketFactory(
        created_at=now - dt.timedelta(days=2), assigned_to_agent=agent, status=TicketStatus.IN_PROGRESS
    )
    services.ticket_resolve(ticket=resolved, resolution="Done.", actor=agent)
    for ticket, user in ((fresh, agent2), (fresh, lead), (late, agent), (replied, agent2)):
        presence.presence_beat(ticket=ticket, state="VIEWING", actor=user)
    presence.presence_beat(ticket=resolved, state="VIEWING", actor=agent2, now=now - dt.timedelta(hours=1))  # gone
    return [fresh, late, replied, resolved]


@pytest.mark.parametrize("viewer", ["agent", "agent2"])
def test_every_row_is_what_the_queryset_gives(tickets, request, viewer):
    agent2_views = viewer == "agent2"
    viewer = request.getfixturevalue(viewer)
    since = presence.presence_cutoff()
    ids = [t.pk for t in reversed(tickets)]
    rows = selectors.queue_rows([*ids, 10**9], viewer_id=viewer.pk, since=since)  # an unknown id: skipped
    assert [t.pk for t in rows] == ids  # in the order asked
    plain = _plain(ids, viewer, since)
    for row in rows:
        assert _state(row) == _state(plain[row.pk])
    watchers = {t.pk: t.watchers for t in rows}
    assert watchers[tickets[3].pk] is None  # a heartbeat older than the cutoff
    assert (watchers[tickets[2].pk] is None) == agent2_views  # only agent2 has it open: not one's own


def test_the_rows_are_one_query_that_reads_no_row_later(tickets, agent):
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.queue_rows([t.pk for t in tickets], viewer_id=agent.pk, since=presence.presence_cutoff())
        [(_state(row), row.customer.email) for row in rows]
    assert len(queries) == 1


def test_new_sla_settings_give_new_due_times(tickets, agent):
    ids = [t.pk for t in tickets]
    since = presence.presence_cutoff()
    before = {t.pk: t.resolution_due for t in selectors.queue_rows(ids, viewer_id=agent.pk, since=since)}
    slower = {p: {"first_response_minutes": 600, "resolution_minutes": 6000} for p in Priority.values}
    with override_settings(SUPPORT_SLA=slower):
        rows = selectors.queue_rows(ids, viewer_id=agent.pk, since=since)
        plain = _plain(ids, agent, since)
        for row in rows:
            assert row.resolution_due == row.created_at + dt.timedelta(minutes=6000) != before[row.pk]
            assert _state(row) == _state(plain[row.pk])


def test_the_queues_queryset_follows_the_sla_settings(tickets):
    """ticket_queue() is a clone of a queryset built once per SLA settings value."""
    ticket = tickets[0]
    before = selectors.ticket_queue().get(pk=ticket.pk).resolution_due
    slower = {p: {"first_response_minutes": 700, "resolution_minutes": 7000} for p in Priority.values}
    with override_settings(SUPPORT_SLA=slower):
        row = selectors.ticket_queue().get(pk=ticket.pk)
        assert row.resolution_due == row.created_at + dt.timedelta(minutes=7000) != before
    assert selectors.ticket_queue().get(pk=ticket.pk).resolution_due == before
    assert selectors.ticket_queue() is not selectors.ticket_queue()  # each caller its own clone
