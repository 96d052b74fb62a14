"""Ticket workflows: every transition, every refusal, and what each writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from compliance.models import AuditLog
from customer_ops.context import SYSTEM, actor_for_customer, actor_for_user
from tests.assertions import unchanged
from tests.factories import CustomerFactory, TicketFactory, TicketMessageFactory, UserFactory
from tests.tickets.conftest import fresh
from tests.tickets.factories import InternalNoteFactory
from tickets.models import InternalNote, Ticket, TicketMessage
from tickets.services import tickets as svc
from tickets.services.errors import Conflict, NotAllowed, StaleThread, SupportError

pytestmark = pytest.mark.django_db

# What a refused call could have written: each refusal re-reads it (tests/README.md).
APP_TABLES = tuple(apps.get_app_config("tickets").get_models())  # with their history tables


def _assigned(ticket, agent):
    return svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)


def _resolved(ticket, agent):
    _assigned(ticket, agent)
    return svc.ticket_resolve(ticket=ticket, resolution="Refunded the fries.", actor=agent)


# --- assign ------------------------------------------------------------------------------


def test_assign_to_me_moves_open_to_in_progress_with_message_audit_and_history(ticket, agent):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    t = fresh(ticket)
    assert t.status == "IN_PROGRESS"
    assert t.assigned_to_agent == agent
    assert t.assigned_to_agent_name == "Alex Agent"
    assert t.assigned_at is not None
    system = TicketMessage.objects.filter(ticket=t, sender_type="SYSTEM").values_list("message_text", flat=True)
    assert any("Assigned to Alex Agent" in m for m in system)
    assert any("from open to in progress" in m for m in system)
    audit = AuditLog.objects.filter(customer=t.customer)
    assert set(audit.values_list("action_field", flat=True)) == {
        "customer_tickets.assigned_to_agent_id",
        "customer_tickets.status",
    }
    assert set(audit.values_list("actor_id", flat=True)) == {agent.pk}
    assert t.history.first().history_user == agent


def test_agent_cannot_assign_to_someone_else(ticket, agent, agent2):
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="Only a lead"):
        svc.ticket_assign(ticket=ticket, agent=agent2, actor=agent)
    assert fresh(ticket).assigned_to_agent is None


def test_agent_cannot_take_a_ticket_assigned_to_another(ticket, agent, agent2):
    _assigned(ticket, agent2)
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="assigned to Sam Okafor"):
        svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)


def test_lead_reassigns_anyone(ticket, agent, agent2, lead):
    _assigned(ticket, agent)
    svc.ticket_assign(ticket=ticket, agent=agent2, actor=lead)
    t = fresh(ticket)
    assert t.assigned_to_agent == agent2 and t.status == "IN_PROGRESS"


def test_assign_refuses_non_support_staff(ticket, lead, fraud):
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="not a support agent"):
        svc.ticket_assign(ticket=ticket, agent=fraud, actor=lead)


def test_assign_refuses_resolved_ticket(ticket, agent, lead):
    _resolved(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="reopen it before assigning"):
        svc.ticket_assign(ticket=ticket, agent=lead, actor=lead)


def test_fraud_analyst_may_not_work_tickets(ticket, fraud):
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed):
        svc.ticket_assign(ticket=ticket, agent=fraud, actor=fraud)


def test_take_next_gives_the_most_urgent_unassigned(agent, order):
    now = timezone.now()
    TicketFactory(priority="LOW", created_at=now - dt.timedelta(hours=1))
    urgent = TicketFactory(priority="CRITICAL", created_at=now - dt.timedelta(minutes=5))
    TicketFactory(priority="CRITICAL", created_at=now - dt.timedelta(minutes=10), status="CLOSED")
    taken = svc.ticket_take_next(actor=agent)
    assert taken.pk == urgent.pk
    assert fresh(urgent).assigned_to_agent == agent


def test_take_next_returns_none_when_queue_empty(agent):
    assert svc.ticket_take_next(actor=agent) is None


# --- resolve / close / reopen -------------------------------------------------------------


def test_resolve_sets_resolution_time(agent):
    ticket = TicketFactory(created_at=timezone.now() - dt.timedelta(minutes=90))
    _assigned(ticket, agent)
    svc.ticket_resolve(ticket=ticket, resolution="  Replaced the order. ", actor=agent)
    t = fresh(ticket)
    assert t.status == "RESOLVED"
    assert t.resolution == "Replaced the order."
    assert t.resolved_by == agent and t.resolved_at is not None
    assert t.resolution_time_minutes == 90


@pytest.mark.parametrize("resolution", ["", "   "])
def test_resolve_without_resolution_is_refused_and_nothing_written(ticket, agent, resolution):
    _assigned(ticket, agent)
    before = TicketMessage.objects.count(), AuditLog.objects.count()
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="resolution is required") as err:
        svc.ticket_resolve(ticket=ticket, resolution=resolution, actor=agent)
    assert err.value.field == "resolution"
    assert fresh(ticket).status == "IN_PROGRESS"
    assert (TicketMessage.objects.count(), AuditLog.objects.count()) == before


def test_resolve_open_ticket_is_refused(ticket, lead):
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="assign it first"):
        svc.ticket_resolve(ticket=ticket, resolution="x", actor=lead)


def test_close_requires_resolution_first(ticket, agent, lead):
    _assigned(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="resolve it before closing"):
        svc.ticket_close(ticket=ticket, actor=lead)


def test_lead_closes_resolved_ticket(ticket, agent, lead):
    _resolved(ticket, agent)
    svc.ticket_close(ticket=ticket, actor=lead)
    assert fresh(ticket).status == "CLOSED"
    assert AuditLog.objects.filter(action_field="customer_tickets.status", new_value="CLOSED").exists()


def test_agent_cannot_close(ticket, agent):
    _resolved(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="Only a lead"):
        svc.ticket_close(ticket=ticket, actor=agent)


def test_closed_is_final(ticket, agent, lead):
    _resolved(ticket, agent)
    svc.ticket_close(ticket=ticket, actor=lead)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="closed tickets are final"):
        svc.ticket_reopen(ticket=ticket, reason="customer came back", actor=lead)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="already closed|final"):
        svc.ticket_close(ticket=ticket, actor=lead)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="closed"):
        svc.ticket_reply(ticket=ticket, text="hello", actor=lead, seen=None)


def test_reopen_resolved_goes_back_to_in_progress_and_clears_stamps(ticket, agent):
    _resolved(ticket, agent)
    svc.ticket_reopen(ticket=ticket, reason="Customer says the refund never came", actor=agent)
    t = fresh(ticket)
    assert t.status == "IN_PROGRESS"
    assert t.resolved_at is None and t.resolved_by is None and t.resolution_time_minutes is None


def test_reopen_needs_a_reason(ticket, agent):
    _resolved(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="why"):
        svc.ticket_reopen(ticket=ticket, reason=" ", actor=agent)


def test_reopen_of_in_progress_is_refused(ticket, agent):
    _assigned(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="only a resolved ticket"):
        svc.ticket_reopen(ticket=ticket, reason="x", actor=agent)


# --- priority, rating, follow-up ------------------------------------------------------------


def test_change_priority(ticket, agent):
    svc.ticket_change_priority(ticket=ticket, priority="URGENT", actor=agent)
    assert fresh(ticket).priority == "URGENT"
    assert AuditLog.objects.filter(action_field="customer_tickets.priority", new_value="URGENT").exists()


@pytest.mark.parametrize("priority", ["MEDIUM", "SEVERE"])
def test_change_priority_refuses_same_or_unknown(ticket, agent, priority):
    with unchanged(*APP_TABLES), pytest.raises(SupportError):
        svc.ticket_change_priority(ticket=ticket, priority=priority, actor=agent)


def _customer(ticket):
    return actor_for_customer(ticket.customer)


def test_rating_only_once_resolved(ticket, agent):
    _assigned(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="once it is resolved"):
        svc.ticket_record_customer_rating(ticket=ticket, rating=4, actor=_customer(ticket))
    svc.ticket_resolve(ticket=ticket, resolution="done", actor=agent)
    svc.ticket_record_customer_rating(ticket=ticket, rating=4, actor=_customer(ticket))
    assert fresh(ticket).customer_satisfaction_rating == 4
    entry = AuditLog.objects.get(action_field="customer_tickets.customer_satisfaction_rating")
    assert (entry.actor_type, entry.actor_id, entry.new_value) == ("CUSTOMER", ticket.customer_id, "4")
    assert fresh(ticket).history.first().history_user is None  # no staff member wrote it
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="already has"):
        svc.ticket_record_customer_rating(ticket=ticket, rating=5, actor=_customer(ticket))


@pytest.mark.parametrize("rating", [0, 6, -1, True, "5"])
def test_rating_out_of_range_is_refused(ticket, agent, rating):
    _resolved(ticket, agent)
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="1 to 5") as err:
        svc.ticket_record_customer_rating(ticket=ticket, rating=rating, actor=_customer(ticket))
    assert err.value.field == "rating"
    assert fresh(ticket).customer_satisfaction_rating is None


def _staff_and_others(ticket, agent, lead):
    """Every kind of actor but the ticket's own customer."""
    staff = [agent, lead, UserFactory(username="root-rater", is_superuser=True)]
    audit_actors = [actor_for_user(u) for u in staff] + [SYSTEM, actor_for_customer(CustomerFactory())]
    return staff + audit_actors


def test_no_staff_member_nor_anyone_else_may_rate(ticket, agent, lead):
    """The rating is the customer's: the agent who worked the ticket (as a user or as an
    audit actor), a lead, a superuser, the system and another customer are all refused."""
    _resolved(ticket, agent)
    for actor in _staff_and_others(ticket, agent, lead):
        with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="customer"):
            svc.ticket_record_customer_rating(ticket=ticket, rating=5, actor=actor)
    assert fresh(ticket).customer_satisfaction_rating is None


def test_follow_up_schedule_and_clear(ticket, agent):
    when = timezone.now() + dt.timedelta(days=1)
    svc.ticket_schedule_follow_up(ticket=ticket, follow_up_date=when, actor=agent)
    t = fresh(ticket)
    assert t.follow_up_required and t.follow_up_date == when
    svc.ticket_schedule_follow_up(ticket=ticket, follow_up_date=None, actor=agent)
    t = fresh(ticket)
    assert not t.follow_up_required and t.follow_up_date is None


def test_follow_up_in_the_past_is_refused(ticket, agent):
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="future"):
        svc.ticket_schedule_follow_up(ticket=ticket, follow_up_date=timezone.now(), actor=agent)


# --- thread ---------------------------------------------------------------------------------


def test_reply_adds_agent_message(ticket, agent):
    reply = svc.ticket_reply(ticket=ticket, text=" Hello there ", actor=agent, seen=None)
    assert reply.sender_type == "AGENT" and reply.sender_id == agent.pk
    assert reply.message_text == "Hello there"
    assert reply.sender_name == "Alex Agent"


def test_empty_reply_is_refused(ticket, agent):
    with unchanged(*APP_TABLES), pytest.raises(SupportError, match="Write a reply"):
        svc.ticket_reply(ticket=ticket, text="  ", actor=agent, seen=None)
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_stale_reply_is_refused_not_sent(ticket, agent):
    first = TicketMessageFactory(ticket=ticket)
    seen = (first.pk, 0)
    TicketMessageFactory(ticket=ticket, message_text="Actually, it arrived.")
    with unchanged(*APP_TABLES), pytest.raises(StaleThread) as err:
        svc.ticket_reply(ticket=ticket, text="Refunding now", actor=agent, seen=seen)
    assert err.value.seen == seen
    assert not TicketMessage.objects.filter(ticket=ticket, sender_type="AGENT").exists()


def test_reply_refused_after_a_new_internal_note(ticket, agent, agent2):
    InternalNoteFactory(ticket=ticket, body="Do not refund: fraud ring")
    with unchanged(*APP_TABLES), pytest.raises(StaleThread):
        svc.ticket_reply(ticket=ticket, text="Refunding now", actor=agent, seen=(0, 0))


def test_internal_note_never_lands_in_customer_messages(ticket, agent):
    before = TicketMessage.objects.count()
    note = svc.ticket_add_note(ticket=ticket, body="Customer is rude but right.", actor=agent)
    assert TicketMessage.objects.count() == before
    assert not TicketMessage.objects.filter(message_text__contains="rude").exists()
    assert InternalNote.objects.get(pk=note.pk).author == agent


def test_empty_note_is_refused(ticket, agent):
    with unchanged(*APP_TABLES), pytest.raises(SupportError):
        svc.ticket_add_note(ticket=ticket, body="", actor=agent)


def test_mark_read_for_support_staff_only(ticket, agent, fraud):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    assert svc.ticket_mark_read(ticket=fresh(ticket), actor=fraud) == 0
    assert svc.ticket_mark_read(ticket=fresh(ticket), actor=agent) == 2
    assert not TicketMessage.objects.filter(ticket=ticket, is_read=False).exists()
    assert not TicketMessage.objects.filter(ticket=ticket, sender_type="CUSTOMER", read_at=None).exists()


def test_mark_read_only_by_the_assignee(ticket, agent, agent2, lead):
    """A lead or a colleague looking at the ticket leaves the assignee's unread markers alone."""
    TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    assert svc.ticket_mark_read(ticket=ticket, actor=agent) == 0  # unassigned: nobody's to read yet
    ticket = svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    for visitor in (agent2, lead):
        assert svc.ticket_mark_read(ticket=ticket, actor=visitor) == 0
    assert TicketMessage.objects.filter(ticket=ticket, sender_type="CUSTOMER", is_read=False).count() == 1
    assert svc.ticket_mark_read(ticket=ticket, actor=agent) == 1


def test_note_refused_on_a_ticket_someone_else_works(ticket, agent, agent2, lead):
    svc.ticket_assign(ticket=ticket, agent=agent2, actor=agent2)
    with pytest.raises(NotAllowed, match="assigned to"):
        svc.ticket_add_note(ticket=ticket, body="Saw this one too", actor=agent)
    assert not InternalNote.objects.filter(ticket=ticket).exists()  # re-read: nothing written
    svc.ticket_add_note(ticket=ticket, body="Lead's note", actor=lead)  # leads work any ticket
    svc.ticket_add_note(ticket=ticket, body="Owner's note", actor=agent2)
    assert InternalNote.objects.filter(ticket=ticket).count() == 2


# --- version check ----------------------------------------------------------------------------


def test_stale_version_is_refused_with_who_changed_it(ticket, agent, lead):
    version = fresh(ticket).updated_at
    svc.ticket_change_priority(ticket=ticket, priority="HIGH", actor=lead, expected_version=version)
    with (
        unchanged(*APP_TABLES),
        pytest.raises(Conflict, match=r"changed by Lee Lead \(Priority changed\) since you opened it"),
    ):
        svc.ticket_assign(ticket=ticket, agent=agent, actor=agent, expected_version=version)
    assert fresh(ticket).assigned_to_agent is None


def test_history_records_each_service_change(ticket, agent):
    _resolved(ticket, agent)
    reasons = list(Ticket.history.filter(id=ticket.pk).values_list("history_change_reason", flat=True))
    assert "Resolved" in reasons and any(r and r.startswith("Assigned") for r in reasons)
