"""The queue at scale: its first-reply side table stays exact, and its plans use indexes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import TicketFactory, TicketMessageFactory
from tickets import selectors
from tickets.models import TicketFirstResponse, TicketMessage

pytestmark = pytest.mark.django_db


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny test tables: ask whether an index CAN serve it
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(r[0] for r in cursor.fetchall())


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


@pytest.mark.parametrize("view", ["open", "unassigned", "breached"])
def test_open_views_plan_uses_an_index_not_a_seq_scan(agent, view):
    TicketFactory.create_batch(3)
    qs = selectors.queue_view(selectors.ticket_queue(), view, user=agent).order_by(*selectors.queue_ordering())
    plan = _plan(qs[:100])
    assert "Seq Scan on customer_tickets" not in plan
    assert "customer_tickets" in plan and "Index" in plan
