"""The customer's side of a ticket: open one with its first message, and write to it.

Called by the customer channel of the service API with the customer's own actor
(:func:`customer_ops.context.actor_for_customer`): a staff member, the system or a calling
system is refused, and so is another customer (``@checked_inside``: no role permission
says "is this ticket's customer").

What the customer sends is checked whole before anything is written, and every problem is
listed (``SupportError.errors``: ``[{"field": ..., "message": ...}]``, with the ``index``
of a bad attachment), so the app can mend them all at once: the spec's enums, an order of
the customer's own, attachment links that are http(s) web links, bounded lengths and
counts, no NUL byte (PostgreSQL refuses it in text).

The spec's "When to Update" of ``customer_tickets`` leaves ``status`` to the support agent:
a customer's message never changes it. On a RESOLVED ticket the message is recorded
unread, so it counts in the queue's unread column and the agent decides whether to reopen
(``ticket_reopen``); a CLOSED ticket is final (Conflict: the app opens a new ticket).
A customer message is not a first response: ``tickets_first_response`` (kept by triggers
on AGENT messages only) and the SLA are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from customer_ops.choices import CustomerStatus, ServiceType
from customer_ops.context import Actor
from customer_ops.models import Customer, Order
from customer_ops.permissions import checked_inside
from customer_ops.templatetags.safe_links import is_linkable
from tickets import conf
from tickets.choices import IssueCategory, MessageType, SenderType, TicketStatus
from tickets.models import Ticket, TicketMessage
from tickets.services.common import record
from tickets.services.errors import Conflict, NotAllowed, SupportError
from tickets.services.tickets import CUSTOMER_ACTOR, _lock

CUSTOMER_ONLY = "the customer's own actor alone: every staff member, the system and a calling system are refused"
CLOSED_ACCOUNTS = (CustomerStatus.CLOSED, CustomerStatus.ANONYMISED)


class _Problems:
    """Every problem of the input, then one refusal that lists them all."""

    def __init__(self):
        self.errors: list[dict] = []

    def add(self, field: str, message: str, index: int | None = None) -> None:
        entry = {"field": field, "message": message}
        if index is not None:
            entry = {"index": index, **entry}
        self.errors.append(entry)

    def text(self, field: str, value, *, label: str, limit: int, required: bool = True) -> str:
        if not isinstance(value, str):
            self.add(field, f"The {label} must be text.")
            return ""
        value = value.strip()
        if "\x00" in value:
            self.add(field, f"The {label} holds a NUL character.")
        elif required and not value:
            self.add(field, f"The {label} is required.")
        elif len(value) > limit:
            self.add(field, f"The {label} is {len(value)} characters long; at most {limit} are accepted.")
        return value

    def choice(self, field: str, value, choices, *, label: str) -> str:
        if value not in choices.values:
            self.add(field, f"Unknown {label} {value!r}: one of {', '.join(choices.values)}.")
        return value

    def attachments(self, value) -> list[str]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            self.add("attachments", "The attachments are a list of links.")
            return []
        links = list(value)
        if len(links) > conf.CUSTOMER_ATTACHMENTS_MAX:
            self.add("attachments", f"{len(links)} attachments: at most {conf.CUSTOMER_ATTACHMENTS_MAX} are accepted.")
            return []
        clean = []
        for i, link in enumerate(links):
            if not isinstance(link, str) or not link.strip():
                self.add("attachments", "An attachment is a link (text).", index=i)
                continue
            link = link.strip()
            if len(link) > conf.CUSTOMER_ATTACHMENT_URL_MAX:
                self.add("attachments", f"The link is longer than {conf.CUSTOMER_ATTACHMENT_URL_MAX} characters.", i)
            elif "\x00" in link or any(c.isspace() for c in link) or not is_linkable(link):
                # Only http(s) links are ever shown as links (javascript:, data: ... never).
                self.add("attachments", "Only http:// and https:// links are accepted.", index=i)
            else:
                clean.append(link)
        return clean

    def refuse(self) -> None:
        if self.errors:
            first = self.errors[0]
            message = first["message"] if len(self.errors) == 1 else f"{len(self.errors)} problems: {first['message']}"
            raise SupportError(message, field=first["field"], errors=self.errors)


def _require_customer(actor, customer_id: int, what: str) -> None:
    if not isinstance(actor, Actor) or actor.actor_type != CUSTOMER_ACTOR:
        raise NotAllowed(f"Only the customer can {what}: staff and other systems cannot.")
    if actor.actor_id != customer_id:
        raise NotAllowed(f"Only the customer themselves can {what}.")


@checked_inside(CUSTOMER_ONLY)
@transaction.atomic
def ticket_open(
    *,
    customer: Customer,
    service_type: str,
    category: str,
    subcategory: str,
    subject: str,
    description: str,
    order: Order | None = None,
    attachments: list[str] = (),
    actor: Actor,
) -> Ticket:
    """Open a ticket (OPEN, priority MEDIUM, unassigned) with the customer's first message:
    the ticket row, the message, its history row and the audit entry, together or not at all."""
    _require_customer(actor, getattr(customer, "pk", None), "open a ticket for themselves")
    problems = _Problems()
    problems.choice("service_type", service_type, ServiceType, label="service")
    problems.choice("category", category, IssueCategory, label="category")
    subcategory = problems.text(
        "subcategory", subcategory, label="subcategory", limit=conf.CUSTOMER_SUBCATEGORY_MAX, required=False
    )
    subject = problems.text("subject", subject, label="subject", limit=conf.CUSTOMER_SUBJECT_MAX)
    description = problems.text("description", description, label="description", limit=conf.CUSTOMER_TEXT_MAX)
    links = problems.attachments(attachments)
    if order is not None:
        if order.customer_id != customer.pk:
            problems.add("order", "The order is not one of the customer's.")
        elif order.service_type != service_type and service_type in ServiceType.values:
            problems.add("order", f"The order is a {order.service_type} order, not {service_type}.")
    problems.refuse()

    # Locked: an erasure anonymising the customer meanwhile cannot interleave with the new rows.
    customer = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if customer is None:
        raise SupportError("No such customer.", field="customer")
    if customer.status in CLOSED_ACCOUNTS:
        raise NotAllowed(f"The customer's account is {customer.get_status_display().lower()}: no ticket can be opened.")

    ticket = Ticket(
        customer=customer,
        order=order,
        service_type=service_type,
        issue_category=category,
        issue_subcategory=subcategory,
        subject=subject,
        description=description,
        attachments=links,
        status=TicketStatus.OPEN,
    )
    ticket._history_user = None
    ticket._change_reason = "Opened by the customer"
    ticket.save()
    ticket.refresh_from_db(fields=["ticket_id", "priority", "created_at", "updated_at"])
    _customer_message(ticket, customer, description, links)
    record(
        customer_id=customer.pk,
        actor=actor,
        action_type="CREATE",
        field="customer_tickets",
        old=None,
        new=ticket.ticket_id,
        reason=f"Ticket {ticket.ticket_id} opened by the customer",
    )
    return ticket


@checked_inside(CUSTOMER_ONLY)
@transaction.atomic
def ticket_add_customer_message(
    *, ticket: Ticket | int, text: str, attachments: list[str] = (), actor: Actor
) -> TicketMessage:
    """The customer's message on their ticket, unread until the agent opens the ticket.
    Refused on a CLOSED ticket (Conflict); on a RESOLVED one it is recorded and the status
    stays the agent's to change (see the module's note)."""
    if not isinstance(actor, Actor) or actor.actor_type != CUSTOMER_ACTOR:
        _require_customer(actor, None, "write as the customer")
    problems = _Problems()
    text = problems.text("text", text, label="message", limit=conf.CUSTOMER_TEXT_MAX)
    links = problems.attachments(attachments)
    problems.refuse()
    ticket = _lock(ticket, None)
    _require_customer(actor, ticket.customer_id, f"write on {ticket.ticket_id}")
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"{ticket.ticket_id} is closed: open a new ticket instead.")
    message = _customer_message(ticket, ticket.customer, text, links)
    record(
        customer_id=ticket.customer_id,
        actor=actor,
        action_type="CREATE",
        field="customer_ticket_messages",
        old=None,
        new=message.pk,
        reason=f"Ticket {ticket.ticket_id}: message from the customer"
        + (" on the resolved ticket" if ticket.status == TicketStatus.RESOLVED else ""),
    )
    return message


def _customer_message(ticket: Ticket, customer: Customer, text: str, links: list[str]) -> TicketMessage:
    return TicketMessage.objects.create(
        ticket=ticket,
        message_text=text,
        message_type=MessageType.FILE if links else MessageType.TEXT,
        sender_type=SenderType.CUSTOMER,
        sender_id=customer.pk,
        sender_name=customer.full_name,
        attachments=links,
        is_read=False,
    )
