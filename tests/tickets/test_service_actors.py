"""Every ticket and refund service refuses, itself, an actor that is not a staff member
with the right (the system, a calling system, a customer, a user without a role): as the
customer_ops kind NotAllowed, before anything is read or written.

The services are found by introspection (every public function of the two modules taking
a keyword-only ``actor``), so a new one without a call here fails the coverage test.
"""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest
from django.apps import apps

from customer_ops import errors
from customer_ops.context import SYSTEM, CallingSystem, actor_for_customer
from tests.assertions import unchanged
from tests.factories import CustomerFactory, RefundRequestFactory, UserFactory
from tickets.services import refunds, tickets

pytestmark = pytest.mark.django_db

APP_TABLES = tuple(apps.get_app_config("tickets").get_models())

CALLS = {
    "ticket_assign": lambda t, r, a: tickets.ticket_assign(ticket=t, agent=UserFactory(), actor=a),
    "ticket_take_next": lambda t, r, a: tickets.ticket_take_next(actor=a),
    "ticket_reply": lambda t, r, a: tickets.ticket_reply(ticket=t, text="Hello", seen=None, actor=a),
    "ticket_add_note": lambda t, r, a: tickets.ticket_add_note(ticket=t, body="Note", actor=a),
    "ticket_change_priority": lambda t, r, a: tickets.ticket_change_priority(ticket=t, priority="HIGH", actor=a),
    "ticket_resolve": lambda t, r, a: tickets.ticket_resolve(ticket=t, resolution="Done", actor=a),
    "ticket_close": lambda t, r, a: tickets.ticket_close(ticket=t, actor=a),
    "ticket_reopen": lambda t, r, a: tickets.ticket_reopen(ticket=t, reason="Again", actor=a),
    "ticket_schedule_follow_up": lambda t, r, a: tickets.ticket_schedule_follow_up(
        ticket=t, follow_up_date=None, actor=a
    ),
    "ticket_record_customer_rating": lambda t, r, a: tickets.ticket_record_customer_rating(ticket=t, rating=5, actor=a),
    "refund_raise": lambda t, r, a: refunds.refund_raise(
        order=t.order, refund_type="FULL", refund_reason="Never arrived", actor=a
    ),
    "refund_approve": lambda t, r, a: refunds.refund_approve(refund=r, approved_amount="1.00", actor=a),
    "refund_reject": lambda t, r, a: refunds.refund_reject(refund=r, reason="No", actor=a),
    "refund_start_processing": lambda t, r, a: refunds.refund_start_processing(refund=r, refund_mode="WALLET", actor=a),
    "refund_complete": lambda t, r, a: refunds.refund_complete(refund=r, actor=a),
}
# Not a refusal: viewing a ticket marks its messages read for the assignee only, a no-op for
# anyone else (tests/tickets/test_ticket_services.py, test_mark_read_*).
NO_OP_FOR_OTHERS = {"ticket_mark_read"}


def _services():
    found = set()
    for module in (tickets, refunds):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            actor = inspect.signature(fn).parameters.get("actor")
            if actor is not None and actor.kind is inspect.Parameter.KEYWORD_ONLY:
                found.add(name)
    return found


def test_every_service_is_called_here():
    assert _services() - NO_OP_FOR_OTHERS == set(CALLS)


def _actors():
    another_customer = actor_for_customer(CustomerFactory())
    return [SYSTEM, CallingSystem("partner-app"), UserFactory(username="no-role"), another_customer]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_no_staff_right_no_step(ticket, name):
    refund = RefundRequestFactory(order=ticket.order, customer=ticket.customer, requested_amount=Decimal("10.00"))
    for actor in _actors():
        with unchanged(*APP_TABLES), pytest.raises(errors.NotAllowed):
            CALLS[name](ticket, refund, actor)


def test_the_tickets_errors_are_the_customer_ops_kinds():
    from tickets.services import errors as tickets_errors

    assert issubclass(tickets_errors.NotAllowed, errors.NotAllowed)
    assert issubclass(tickets_errors.Conflict, errors.Conflict)
    assert issubclass(tickets_errors.StaleThread, errors.Conflict)
    assert issubclass(tickets_errors.SupportError, errors.DomainError)
    assert issubclass(tickets_errors.DisputeNotAllowed, errors.NotAllowed)
    assert issubclass(tickets_errors.DisputeConflict, errors.Conflict)
