"""The customer's side of a ticket (issue 22): open a ticket with its first message, add
messages, and read the thread and status as the customer may see them."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from compliance.models import AuditLog
from customer_ops.context import SYSTEM, Actor, CallingSystem, actor_for_customer
from customer_ops.scopes import API_SCOPES
from tests.assertions import unchanged
from tests.factories import CustomerFactory, OrderFactory, TicketFactory, TicketMessageFactory
from tests.tickets.conftest import fresh
from tests.tickets.factories import InternalNoteFactory
from tickets import conf, selectors
from tickets.models import InternalNote, Ticket, TicketFirstResponse, TicketMessage
from tickets.services import (
    Conflict,
    NotAllowed,
    SupportError,
    ticket_add_customer_message,
    ticket_open,
)
from tickets.services.tickets import ticket_assign, ticket_reply, ticket_resolve

pytestmark = pytest.mark.django_db

TABLES = (Ticket, TicketMessage, Ticket.history.model)


def _open(customer, **overrides):
    kwargs = {
        "customer": customer,
        "service_type": "FOOD",
        "category": "DELIVERY",
        "subcategory": "late",
        "subject": "  My order is late  ",
        "description": "Ordered an hour ago, nothing yet.",
        "actor": actor_for_customer(customer),
    }
    return ticket_open(**{**kwargs, **overrides})


@pytest.fixture
def customer(db):
    return CustomerFactory(full_name="Rosa Customer")


# --- opening a ticket --------------------------------------------------------------------


def test_open_writes_ticket_first_message_history_and_audit_together(customer):
    order = OrderFactory(customer=customer, service_type="FOOD")
    ticket = _open(customer, order=order, attachments=["https://files.example/receipt.pdf"])

    ticket = fresh(ticket)
    assert ticket.ticket_id.startswith("TKT-")
    assert (ticket.status, ticket.priority, ticket.assigned_to_agent_id) == ("OPEN", "MEDIUM", None)
    assert (ticket.service_type, ticket.issue_category, ticket.issue_subcategory) == ("FOOD", "DELIVERY", "late")
    assert ticket.subject == "My order is late" and ticket.order_id == order.pk
    assert ticket.attachments == ["https://files.example/receipt.pdf"]
    (message,) = TicketMessage.objects.filter(ticket=ticket)
    assert message.message_text == "Ordered an hour ago, nothing yet."
    assert (message.sender_type, message.sender_id, message.sender_name) == ("CUSTOMER", customer.pk, "Rosa Customer")
    assert message.message_type == "FILE" and message.attachments == ["https://files.example/receipt.pdf"]
    assert message.is_read is False  # counts in the queue's unread column
    (history,) = ticket.history.all()
    assert history.history_type == "+" and history.history_change_reason == "Opened by the customer"
    (entry,) = AuditLog.objects.filter(customer=customer)
    assert (entry.action_type, entry.action_field, entry.new_value) == ("CREATE", "customer_tickets", ticket.ticket_id)
    assert (entry.actor_type, entry.actor_id) == ("CUSTOMER", customer.pk)
    # A customer message is not a first response: the SLA still waits for an agent.
    assert not TicketFirstResponse.objects.filter(ticket=ticket).exists()
    assert selectors.with_sla(Ticket.objects.filter(pk=ticket.pk)).get().first_response_at is None


def test_an_order_is_optional(customer):
    ticket = _open(customer, category="ACCOUNT", subcategory="")
    assert fresh(ticket).order_id is None and fresh(ticket).issue_subcategory == ""


@pytest.mark.parametrize(
    "who",
    ["agent", "lead", "superuser", "system", "calling system", "other customer", "staff actor with the customer's id"],
)
def test_only_the_customer_themselves_may_open(customer, make_staff, who):
    from customer_ops.roles import Role

    other = CustomerFactory()
    actor = {
        "agent": lambda: make_staff(Role.AGENT),
        "lead": lambda: make_staff(Role.LEAD),
        "superuser": lambda: make_staff(None, is_superuser=True),
        "system": lambda: SYSTEM,
        "calling system": lambda: CallingSystem(name="app", scopes=frozenset(API_SCOPES)),
        "other customer": lambda: actor_for_customer(other),
        "staff actor with the customer's id": lambda: Actor(actor_type="ADMIN", actor_id=customer.pk),
    }[who]()
    with unchanged(*TABLES), pytest.raises(NotAllowed):
        _open(customer, actor=actor)


BAD_INPUT = [
    ({"service_type": "BOAT"}, "service_type", "Unknown service"),
    ({"service_type": None}, "service_type", "Unknown service"),
    ({"category": "ORDERS"}, "category", "Unknown category"),
    ({"subject": "   "}, "subject", "subject is required"),
    ({"subject": "x" * (conf.CUSTOMER_SUBJECT_MAX + 1)}, "subject", "at most"),
    ({"subject": 42}, "subject", "must be text"),
    ({"description": ""}, "description", "description is required"),
    ({"description": "y" * (conf.CUSTOMER_TEXT_MAX + 1)}, "description", "at most"),
    ({"description": "nul \x00 byte"}, "description", "NUL"),
    ({"subcategory": "z" * (conf.CUSTOMER_SUBCATEGORY_MAX + 1)}, "subcategory", "at most"),
    ({"attachments": ["javascript:alert(1)"]}, "attachments", "http"),
    ({"attachments": ["data:text/html;base64,PHNjcmlwdD4="]}, "attachments", "http"),
    ({"attachments": ["ftp://files.example/a.pdf"]}, "attachments", "http"),
    ({"attachments": ["https://"]}, "attachments", "http"),
    ({"attachments": ["https://files.example/a b.pdf"]}, "attachments", "http"),
    ({"attachments": ["https://files.example/" + "a" * conf.CUSTOMER_ATTACHMENT_URL_MAX]}, "attachments", "longer"),
    ({"attachments": ["https://f.example/x"] * (conf.CUSTOMER_ATTACHMENTS_MAX + 1)}, "attachments", "at most"),
    ({"attachments": "https://files.example/a.pdf"}, "attachments", "list of links"),
    ({"attachments": [None]}, "attachments", "is a link"),
]


@pytest.mark.parametrize(("overrides", "field", "words"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(customer, overrides, field, words):
    with unchanged(*TABLES), pytest.raises(SupportError) as refused:
        _open(customer, **overrides)
    assert refused.value.status == 422 and refused.value.field == field
    assert words in refused.value.errors[0]["message"]


def test_every_problem_is_listed_at_once_with_the_index_of_a_bad_attachment(customer):
    links = ["https://ok.example/1.png", "javascript:alert(1)", "https://ok.example/2.png", "vbscript:x"]
    with unchanged(*TABLES), pytest.raises(SupportError) as refused:
        _open(customer, service_type="BOAT", category="NOPE", subject="", attachments=links)
    errors = refused.value.errors
    assert [(e["field"], e.get("index")) for e in errors] == [
        ("service_type", None),
        ("category", None),
        ("subject", None),
        ("attachments", 1),
        ("attachments", 3),
    ]
    assert str(refused.value).startswith("5 problems")


def test_the_order_must_be_the_customers_own_and_of_the_service(customer):
    someone_elses = OrderFactory(service_type="FOOD")
    with unchanged(*TABLES), pytest.raises(SupportError, match="not one of the customer's") as refused:
        _open(customer, order=someone_elses)
    assert refused.value.field == "order"
    ride = OrderFactory(customer=customer, service_type="RIDE")
    with unchanged(*TABLES), pytest.raises(SupportError, match="RIDE order, not FOOD"):
        _open(customer, order=ride)


@pytest.mark.parametrize("status", ["CLOSED", "ANONYMISED"])
def test_a_closed_or_erased_account_cannot_open_a_ticket(customer, status):
    customer.status = status
    customer.save(update_fields=["status"])
    with unchanged(*TABLES), pytest.raises(NotAllowed, match="no ticket can be opened"):
        _open(customer)


# --- the customer's messages -------------------------------------------------------------


@pytest.fixture
def opened(customer):
    return _open(customer)


def test_a_message_is_added_unread_with_its_audit_entry(customer, opened):
    message = ticket_add_customer_message(
        ticket=opened.pk,
        text=" Still waiting ",
        attachments=["http://img.example/p.jpg"],
        actor=actor_for_customer(customer),
    )
    message = TicketMessage.objects.get(pk=message.pk)
    assert (message.message_text, message.sender_type, message.sender_id) == ("Still waiting", "CUSTOMER", customer.pk)
    assert message.is_read is False and message.message_type == "FILE"
    entry = AuditLog.objects.filter(customer=customer, action_field="customer_ticket_messages").get()
    assert entry.new_value == str(message.pk) and entry.actor_type == "CUSTOMER"
    assert selectors.ticket_queue().get(pk=opened.pk).unread_count == 2


def test_a_message_on_a_resolved_ticket_leaves_the_status_to_the_agent(customer, opened, make_staff):
    from customer_ops.roles import Role

    agent = make_staff(Role.AGENT)
    ticket_assign(ticket=opened, agent=agent, actor=agent)
    ticket_reply(ticket=opened, text="On its way", actor=agent, seen=None)
    first_response = TicketFirstResponse.objects.get(ticket=opened).first_response_at
    ticket_resolve(ticket=opened, resolution="Delivered", actor=agent)
    before = fresh(opened)

    ticket_add_customer_message(ticket=opened, text="It never came", actor=actor_for_customer(customer))

    after = fresh(opened)
    assert (after.status, after.resolved_at, after.updated_at) == ("RESOLVED", before.resolved_at, before.updated_at)
    assert TicketFirstResponse.objects.get(ticket=opened).first_response_at == first_response
    assert selectors.ticket_queue().get(pk=opened.pk).unread_count == 2  # the agent sees it waiting
    entry = AuditLog.objects.filter(customer=customer, action_field="customer_ticket_messages").get()
    assert "resolved" in entry.action_reason


def test_a_closed_ticket_refuses_a_message_and_nothing_is_written(customer):
    ticket = TicketFactory(customer=customer, status="CLOSED")
    with unchanged(ticket, TicketMessage), pytest.raises(Conflict, match="closed: open a new ticket") as refused:
        ticket_add_customer_message(ticket=ticket, text="Hello?", actor=actor_for_customer(customer))
    assert refused.value.status == 409


@pytest.mark.parametrize("who", ["agent", "system", "calling system", "other customer"])
def test_only_the_tickets_customer_may_write_on_it(customer, opened, make_staff, who):
    from customer_ops.roles import Role

    actor = {
        "agent": lambda: make_staff(Role.AGENT),
        "system": lambda: SYSTEM,
        "calling system": lambda: CallingSystem(name="app", scopes=frozenset(API_SCOPES)),
        "other customer": lambda: actor_for_customer(CustomerFactory()),
    }[who]()
    with unchanged(opened, TicketMessage), pytest.raises(NotAllowed):
        ticket_add_customer_message(ticket=opened, text="Hi", actor=actor)


@pytest.mark.parametrize(
    ("text", "attachments", "field"),
    [
        ("", [], "text"),
        ("x" * (conf.CUSTOMER_TEXT_MAX + 1), [], "text"),
        ("ok", ["javascript:alert(1)"], "attachments"),
        ("\x00", [], "text"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_written(customer, opened, text, attachments, field):
    with unchanged(opened, TicketMessage), pytest.raises(SupportError) as refused:
        ticket_add_customer_message(
            ticket=opened, text=text, attachments=attachments, actor=actor_for_customer(customer)
        )
    assert refused.value.field == field


# --- what the customer may read ----------------------------------------------------------

STAFF_ID = 987_654_321  # a staff user id no other number in the thread comes near


@pytest.fixture
def planted(customer, opened, make_staff):
    """A thread with everything the customer must never see: an internal note, SYSTEM
    messages naming staff, and agent messages carrying the staff member's id."""
    from customer_ops.roles import Role

    agent = make_staff(Role.AGENT, id=STAFF_ID, first_name="Agnes", last_name="Hidden-Assignee")
    ticket_assign(ticket=opened, agent=agent, actor=agent)  # a SYSTEM message naming the agent
    ticket_reply(ticket=opened, text="We are on it", actor=agent, seen=None)
    InternalNoteFactory(ticket=opened, author=agent, body="INTERNAL-NOTE-SECRET suspect refund abuse")
    TicketMessageFactory(
        ticket=opened, sender_type="AGENT", sender_id=STAFF_ID, message_type="SYSTEM", message_text="SYSTEM-SECRET"
    )
    ticket_add_customer_message(ticket=opened, text="Thanks", actor=actor_for_customer(customer))
    return agent


def _dump(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder)


def test_the_thread_never_shows_an_internal_note_a_system_message_or_a_staff_id(opened, planted):
    assert InternalNote.objects.filter(ticket=opened).exists()
    entries, cursor = selectors.customer_thread(opened, after=None, limit=100)
    assert [(e["sender"], e["text"]) for e in entries] == [
        ("CUSTOMER", "Ordered an hour ago, nothing yet."),
        ("AGENT", "We are on it"),
        ("CUSTOMER", "Thanks"),
    ]
    assert cursor is None
    dumped = _dump(entries)
    for secret in ("INTERNAL-NOTE-SECRET", "SYSTEM-SECRET", "Assigned to", str(STAFF_ID), "sender_id"):
        assert secret not in dumped
    assert all(
        set(e) == {"id", "created_at", "sender", "sender_name", "message_type", "text", "attachments"} for e in entries
    )


def test_the_thread_pages_by_cursor(customer, opened):
    for i in range(4):
        ticket_add_customer_message(ticket=opened, text=f"message {i}", actor=actor_for_customer(customer))
    seen, after, pages = [], None, 0
    while True:
        entries, after = selectors.customer_thread(opened.pk, after=after, limit=2)
        pages += 1
        seen += [e["text"] for e in entries]
        assert len(entries) <= 2
        if after is None:
            break
    assert pages == 3 and seen == ["Ordered an hour ago, nothing yet."] + [f"message {i}" for i in range(4)]
    assert selectors.customer_thread(opened, after=10**12, limit=5) == ([], None)


@pytest.mark.parametrize(
    ("after", "limit", "field"),
    [(None, 0, "limit"), (None, 101, "limit"), (-1, 5, "after"), ("3", 5, "after"), (None, True, "limit")],
)
def test_bad_paging_is_refused(opened, after, limit, field):
    with pytest.raises(SupportError) as refused:
        selectors.customer_thread(opened, after=after, limit=limit)
    assert refused.value.field == field


def test_the_status_names_no_staff_member(customer, opened, planted):
    ticket_resolve(ticket=opened, resolution="Refunded the delivery fee", actor=planted)
    status = selectors.customer_ticket_status(fresh(opened))
    assert status["status"] == "RESOLVED" and status["resolution"] == "Refunded the delivery fee"
    assert status["may_rate"] is True and status["may_write"] is True and status["rating"] is None
    assert status["subject"] == "My order is late" and status["ticket_id"] == opened.ticket_id
    dumped = _dump(status)
    for secret in (str(STAFF_ID), "Agnes", "Hidden-Assignee", "assigned", "resolved_by", "priority"):
        assert secret not in dumped


def test_a_customer_that_does_not_exist_is_refused():
    ghost = CustomerFactory.build(id=10**12)
    with unchanged(*TABLES), pytest.raises(SupportError, match="No such customer"):
        _open(ghost)
