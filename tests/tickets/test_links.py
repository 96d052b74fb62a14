"""Merge and split (tickets.services.links): the thread shown, the links, the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLog
from tests.assertions import assert_page_shows, explain, unchanged
from tests.factories import DisputeFactory, RefundRequestFactory, TicketFactory, TicketMessageFactory
from tests.tickets.conftest import fresh
from tests.tickets.factories import InternalNoteFactory
from tickets import selectors
from tickets.models import Dispute, InternalNote, RefundOrigin, Ticket, TicketLink, TicketMessage, TicketMessageMove
from tickets.services import StaleThread, SupportError
from tickets.services import tickets as svc
from tickets.services.errors import NotAllowed
from tickets.services.links import ticket_merge, ticket_split

pytestmark = pytest.mark.django_db

TICKET_TABLES = [TicketLink, TicketMessageMove, TicketMessage, InternalNote, Ticket]


def _at(minutes: int):
    return timezone.now() - dt.timedelta(minutes=minutes)


def _thread_rows(*tickets):
    """Every message and note of ``tickets`` read straight from the tables, in time order."""
    ids = [t.pk for t in tickets]
    messages = [("message", m.pk, m.created_at) for m in TicketMessage.objects.filter(ticket_id__in=ids)]
    notes = [("note", n.pk, n.created_at) for n in InternalNote.objects.filter(ticket_id__in=ids)]
    return [(kind, pk) for kind, pk, _ in sorted(messages + notes, key=lambda r: (r[2], r[0], r[1]))]


@pytest.fixture
def pair(ticket):
    """A ticket and its duplicate, of the same customer, with interleaved messages and notes."""
    duplicate = TicketFactory(customer=ticket.customer, subject="Same problem again")
    for minutes, on, kind in [(50, ticket, "m"), (40, duplicate, "m"), (35, duplicate, "n"), (30, ticket, "n"),
                              (20, duplicate, "m"), (10, ticket, "m")]:  # fmt: skip
        if kind == "m":
            TicketMessageFactory(ticket=on, created_at=_at(minutes))
        else:
            InternalNoteFactory(ticket=on, created_at=_at(minutes))
    return ticket, duplicate


def test_lead_merges_and_the_target_shows_both_threads_in_time_order(client, lead, pair):
    target, source = pair
    before = _thread_rows(target, source)
    ticket_merge(source=source, target=target, actor=lead)

    shown = [(e.kind, e.obj.pk) for e in selectors.ticket_thread(target)]
    after = _thread_rows(target, source)  # the merge's own SYSTEM messages are rows too
    assert shown == after
    assert set(before) <= set(shown)
    assert fresh(source).status == "CLOSED"
    merged = TicketMessage.objects.filter(ticket=source, message_type="SYSTEM", message_text__contains="Merged into")
    assert target.ticket_id in merged.get().message_text

    client.force_login(lead)
    page = client.get(reverse("admin:tickets_ticket_change", args=[target.pk]))
    html = assert_page_shows(page, present=["Merged here:", source.ticket_id, f"from {source.ticket_id}"])
    # the page lists them in the same order as the rows
    positions = [html.index(f'id="{kind}-{pk}"') for kind, pk in after]
    assert positions == sorted(positions)
    other = client.get(reverse("admin:tickets_ticket_change", args=[source.pk]))
    assert_page_shows(other, present=["Merged into", target.ticket_id])


def test_merge_is_audited_on_both_tickets(lead, pair):
    target, source = pair
    last = AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ticket_merge(source=source, target=target, actor=lead)
    fields = sorted(AuditLog.objects.filter(id__gt=last).values_list("action_field", flat=True))
    assert fields == ["customer_tickets.status", "ticket_links.merged", "ticket_links.merged"]


def _section(client, ticket, section: str) -> str:
    """The ticket page's list ``section`` ("ticket-refunds", "ticket-disputes"), not the
    customer's panels beside it (which list every refund and dispute of the customer)."""
    html = assert_page_shows(
        client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])), present=[ticket.ticket_id]
    )
    if f'id="{section}"' not in html:
        return ""
    start = html.index(f'id="{section}"')
    return html[start : html.index("</ul>", start)]


def test_refunds_of_the_merged_ticket_are_listed_on_the_target(client, lead, pair):
    target, source = pair
    refund = RefundRequestFactory(customer=source.customer, requested_amount="3.00")
    RefundOrigin.objects.create(refund=refund, ticket=source, raised_by=lead)
    client.force_login(lead)
    assert refund.refund_request_id not in _section(client, target, "ticket-refunds")
    ticket_merge(source=source, target=target, actor=lead)
    assert refund.refund_request_id in _section(client, target, "ticket-refunds")
    assert fresh(refund).pk and RefundOrigin.objects.get(refund=refund).ticket_id == source.pk  # still points there


def test_disputes_of_the_merged_ticket_are_listed_on_the_target(client, lead, pair):
    target, source = pair
    raised_on_source = DisputeFactory(customer=source.customer, order=source.order, ticket=source)
    own = DisputeFactory(customer=target.customer, order=target.order, ticket=target)
    # The same customer's dispute on a ticket not merged: the customer panel shows it, the list does not.
    elsewhere = DisputeFactory(customer=target.customer, ticket=TicketFactory(customer=target.customer))
    client.force_login(lead)
    before = _section(client, target, "ticket-disputes")
    assert own.dispute_id in before and raised_on_source.dispute_id not in before
    ticket_merge(source=source, target=target, actor=lead)
    listed = _section(client, target, "ticket-disputes")
    assert own.dispute_id in listed and raised_on_source.dispute_id in listed
    assert f"raised on {source.ticket_id}" in listed and elsewhere.dispute_id not in listed
    assert raised_on_source.dispute_id in _section(client, source, "ticket-disputes")  # the source keeps it too
    assert Dispute.objects.get(pk=raised_on_source.pk).ticket_id == source.pk  # the row still points there


def test_agent_owning_both_merges(agent, pair):
    target, source = pair
    svc.ticket_assign(ticket=target, agent=agent, actor=agent)
    svc.ticket_assign(ticket=source, agent=agent, actor=agent)
    ticket_merge(source=source, target=target, actor=agent)
    assert TicketLink.objects.filter(source=source, target=target, kind="MERGED").exists()


def test_agent_owning_one_of_the_two_is_refused(agent, pair):
    target, source = pair
    svc.ticket_assign(ticket=target, agent=agent, actor=agent)  # the duplicate is unassigned
    with unchanged(*TICKET_TABLES), pytest.raises(NotAllowed, match="assigned to both"):
        ticket_merge(source=source, target=target, actor=agent)


def test_merge_refused_on_a_ticket_of_another_agent(agent, agent2, pair):
    target, source = pair
    svc.ticket_assign(ticket=source, agent=agent2, actor=agent2)
    with unchanged(*TICKET_TABLES), pytest.raises(NotAllowed, match="assigned to"):
        ticket_merge(source=source, target=target, actor=agent)


def test_merge_refused_across_customers(lead, ticket):
    stranger = TicketFactory()
    with unchanged(*TICKET_TABLES), pytest.raises(SupportError, match="different customers"):
        ticket_merge(source=stranger, target=ticket, actor=lead)


def test_merge_refused_on_a_ticket_already_merged(lead, pair):
    target, source = pair
    third = TicketFactory(customer=target.customer)
    ticket_merge(source=source, target=target, actor=lead)
    with unchanged(*TICKET_TABLES), pytest.raises(SupportError, match="already merged"):
        ticket_merge(source=source, target=third, actor=lead)
    with unchanged(*TICKET_TABLES), pytest.raises(SupportError, match="already merged"):
        ticket_merge(source=third, target=source, actor=lead)


def test_merge_refused_for_roles_that_do_not_work_tickets(fraud, pair):
    target, source = pair
    with unchanged(*TICKET_TABLES), pytest.raises(NotAllowed):
        ticket_merge(source=source, target=target, actor=fraud)


def test_merges_are_followed_transitively(lead, pair):
    target, source = pair
    third = TicketFactory(customer=target.customer)
    TicketMessageFactory(ticket=third, created_at=_at(5))
    ticket_merge(source=source, target=target, actor=lead)
    ticket_merge(source=target, target=third, actor=lead)
    shown = [(e.kind, e.obj.pk) for e in selectors.ticket_thread(third)]
    assert shown == _thread_rows(target, source, third)


def test_a_reply_written_before_the_merge_is_stale(lead, pair):
    target, source = pair
    seen = selectors.thread_version(selectors.ticket_thread(target))
    ticket_merge(source=source, target=target, actor=lead)
    with unchanged(TicketMessage), pytest.raises(StaleThread):
        svc.ticket_reply(ticket=target, text="Hello", seen=seen, actor=lead)


def test_the_messages_ticket_id_stays_never_update(pair):
    """Why merge links rather than moves: the database refuses the move, whoever asks."""
    target, source = pair
    message = TicketMessage.objects.filter(ticket=source).first()
    with unchanged(message), pytest.raises(Exception, match="never"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE customer_ticket_messages SET ticket_id = %s WHERE id = %s", [target.pk, message.pk])


# --- split ---------------------------------------------------------------------------


@pytest.fixture
def mixed(ticket):
    """A thread with two customer messages about different things, and a reply between."""
    first = TicketMessageFactory(ticket=ticket, created_at=_at(30), message_text="My pizza was cold")
    reply = TicketMessageFactory(ticket=ticket, created_at=_at(25), sender_type="AGENT", message_text="Sorry!")
    second = TicketMessageFactory(ticket=ticket, created_at=_at(20), message_text="Also: my card was charged twice")
    after = TicketMessageFactory(ticket=ticket, created_at=_at(10), sender_type="AGENT", message_text="Looking")
    return ticket, first, reply, second, after


def test_split_moves_a_message_and_what_follows_to_a_new_ticket(client, lead, mixed):
    ticket, first, reply, second, after = mixed
    new = ticket_split(ticket=ticket, message=second, with_following=True, actor=lead)
    assert new.customer_id == ticket.customer_id and new.status == "OPEN"
    assert new.subject == "Also: my card was charged twice"
    on_new = [e.obj.pk for e in selectors.ticket_thread(new) if e.obj.sender_type != "SYSTEM"]
    on_old = [e.obj.pk for e in selectors.ticket_thread(ticket) if e.obj.sender_type != "SYSTEM"]
    assert on_new == [second.pk, after.pk]
    assert on_old == [first.pk, reply.pk]
    assert fresh(second).ticket_id == ticket.pk  # the row is untouched: only where it is shown changed
    client.force_login(lead)
    assert_page_shows(
        client.get(reverse("admin:tickets_ticket_change", args=[new.pk])), present=["Split from", ticket.ticket_id]
    )
    assert_page_shows(
        client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])), present=["Split off into", new.ticket_id]
    )


def test_split_is_audited_on_both_tickets(lead, mixed):
    ticket, first, reply, second, after = mixed
    last = AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    new = ticket_split(ticket=ticket, message=second, with_following=True, actor=lead)
    entries = sorted(
        AuditLog.objects.filter(id__gt=last).values_list(
            "customer_id", "action_type", "action_field", "new_value", "action_reason", "actor_id"
        )
    )
    link = f"{ticket.ticket_id} -> {new.ticket_id}"
    assert entries == [
        (
            ticket.customer_id,
            "CREATE",
            "ticket_links.split",
            link,
            f"Ticket {new.ticket_id}: split (2 messages)",
            lead.pk,
        ),
        (
            ticket.customer_id,
            "UPDATE",
            "ticket_links.split",
            link,
            f"Ticket {ticket.ticket_id}: split (2 messages)",
            lead.pk,
        ),
    ]


def test_split_of_one_message_only(lead, mixed):
    ticket, first, reply, second, after = mixed
    new = ticket_split(ticket=ticket, message=first, with_following=False, actor=lead)
    assert [e.obj.pk for e in selectors.ticket_thread(new) if e.obj.sender_type != "SYSTEM"] == [first.pk]


def test_split_refusals_change_nothing(agent, agent2, lead, mixed):
    ticket, first, reply, second, after = mixed
    with unchanged(*TICKET_TABLES), pytest.raises(SupportError, match="customer wrote"):
        ticket_split(ticket=ticket, message=reply, with_following=False, actor=lead)
    stranger_message = TicketMessageFactory()
    with unchanged(*TICKET_TABLES), pytest.raises(SupportError, match="not on"):
        ticket_split(ticket=ticket, message=stranger_message, with_following=False, actor=lead)
    svc.ticket_assign(ticket=ticket, agent=agent2, actor=agent2)
    with unchanged(*TICKET_TABLES), pytest.raises(NotAllowed, match="assigned to"):
        ticket_split(ticket=ticket, message=first, with_following=False, actor=agent)


def test_split_refused_on_a_merged_ticket(lead, mixed):
    ticket, first, *_ = mixed
    target = TicketFactory(customer=ticket.customer)
    ticket_merge(source=ticket, target=target, actor=lead)
    with unchanged(*TICKET_TABLES), pytest.raises(SupportError, match="already merged"):
        ticket_split(ticket=ticket, message=first, with_following=False, actor=lead)


def test_merge_and_split_through_the_ticket_page(client, lead, pair):
    target, source = pair
    client.force_login(lead)
    bad = client.post(reverse("admin:tickets_ticket_merge", args=[source.pk]), {"target": "TKT-NOPE"})
    assert_page_shows(bad, present=["No ticket TKT-NOPE"])
    response = client.post(reverse("admin:tickets_ticket_merge", args=[source.pk]), {"target": target.ticket_id})
    assert response.status_code == 302
    assert TicketLink.objects.filter(source=source, target=target).exists()
    message = TicketMessage.objects.filter(ticket=target, sender_type="CUSTOMER").first()
    response = client.post(reverse("admin:tickets_ticket_split", args=[target.pk]), {"message": message.pk})
    assert response.status_code == 302
    assert TicketMessageMove.objects.filter(message=message).exists()


def test_every_table_of_the_app_is_unchanged_by_a_refused_page_merge(client, agent, pair):
    target, source = pair
    stranger = TicketFactory()
    client.force_login(agent)
    with unchanged(*apps.get_app_config("tickets").get_models()):
        response = client.post(reverse("admin:tickets_ticket_merge", args=[source.pk]), {"target": stranger.ticket_id})
    assert_page_shows(response, present=["different customers"])


def test_the_thread_reads_its_messages_through_indexes(lead, mixed):
    """On, merged into or moved to the ticket: each read on its own index, never every
    message of every ticket (an OR across the move's join did, 285 ms at 100k customers)."""
    ticket, _, _, second, _ = mixed
    new = ticket_split(ticket=ticket, message=second, with_following=True, actor=lead)
    for shown in (ticket, new):
        plan = explain(selectors.thread_messages(shown).order_by("created_at", "id"), bitmap_only=True)
        assert "customer_ticket_messages" not in plan.whole, plan.text
        assert plan.uses("customer_ticket_messages"), plan.text
