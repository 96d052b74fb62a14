"""The customer app: open a ticket with its first message, write to it, read its status
and the thread the customer may see, rate it.

The app acts for one customer at a time and names them (``customer_id``); the services
take that customer's own actor (``actor_for_customer``), so the audit log records the
customer, and a ticket of another customer is a 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
import typing

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from api.auth import Scoped
from api.calls import affected
from api.endpoints.common import choice, customer_or_404
from api.idempotency import idempotent
from customer_ops.choices import ServiceType
from customer_ops.context import actor_for_customer
from customer_ops.models import Order
from customer_ops.scopes import TICKETS_READ, TICKETS_WRITE
from tickets import conf
from tickets.choices import IssueCategory, MessageType, SenderType, TicketStatus
from tickets.models import Ticket
from tickets.selectors import customer_thread, customer_ticket_status
from tickets.services.intake import ticket_add_customer_message, ticket_open
from tickets.services.tickets import ticket_record_customer_rating

router = Router(tags=["customer app: tickets"])

CustomerId = typing.Annotated[int, Field(ge=1, le=2**63 - 1, description="The customer the app acts for.")]
Link = typing.Annotated[str, Field(max_length=conf.CUSTOMER_ATTACHMENT_URL_MAX, description="An http(s) link.")]
Links = typing.Annotated[list[Link], Field(max_length=conf.CUSTOMER_ATTACHMENTS_MAX)]


class TicketIn(Schema):
    customer_id: CustomerId
    service_type: choice(ServiceType)
    category: choice(IssueCategory)
    subcategory: str = Field("", max_length=conf.CUSTOMER_SUBCATEGORY_MAX)
    subject: str = Field(min_length=1, max_length=conf.CUSTOMER_SUBJECT_MAX)
    description: str = Field(min_length=1, max_length=conf.CUSTOMER_TEXT_MAX, description="The first message.")
    order_id: int | None = Field(None, ge=1, le=2**63 - 1, description="The order the ticket is about, if any.")
    attachments: Links = []


class TicketOut(Schema):
    ticket_id: str
    status: choice(TicketStatus)
    service_type: choice(ServiceType) | None  # null on tickets staff opened about no service
    category: choice(IssueCategory)
    subcategory: str
    subject: str
    order_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str
    rating: int | None
    may_write: bool
    may_rate: bool


class MessageIn(Schema):
    customer_id: CustomerId
    text: str = Field(min_length=1, max_length=conf.CUSTOMER_TEXT_MAX)
    attachments: Links = []


class MessageOut(Schema):
    id: int
    created_at: dt.datetime
    sender: choice(SenderType)
    sender_name: str
    message_type: choice(MessageType)
    text: str
    attachments: list[str]


class ThreadOut(Schema):
    items: list[MessageOut]
    next_cursor: int | None = Field(description="Pass as `after` for the next page; null on the last.")


class ThreadQuery(Schema):
    customer_id: CustomerId
    after: int | None = Field(None, ge=0, le=2**63 - 1, description="The previous page's next_cursor.")
    limit: int = Field(50, ge=1, le=conf.CUSTOMER_THREAD_PAGE_MAX)


class CustomerQuery(Schema):
    customer_id: CustomerId


class RatingIn(Schema):
    customer_id: CustomerId
    rating: int = Field(ge=1, le=5)


def _their_ticket(ticket_id: str, customer_id: int) -> Ticket:
    ticket = Ticket.objects.filter(ticket_id=ticket_id, customer_id=customer_id).first()
    if ticket is None:
        raise Http404(f"No ticket {ticket_id[:40]} of customer {customer_id}.")
    return ticket


@router.post("/tickets", auth=Scoped(TICKETS_WRITE), response={201: TicketOut}, summary="Open a ticket")
@idempotent
def open_ticket(request, payload: TicketIn):
    """Opens a ticket (OPEN, unassigned) with the customer's first message."""
    customer = customer_or_404(payload.customer_id)
    order = None
    if payload.order_id is not None:
        order = Order.objects.filter(pk=payload.order_id).first()
        if order is None:
            raise Http404(f"No order {payload.order_id}.")
    ticket = ticket_open(
        customer=customer,
        service_type=payload.service_type,
        category=payload.category,
        subcategory=payload.subcategory,
        subject=payload.subject,
        description=payload.description,
        order=order,
        attachments=payload.attachments,
        actor=actor_for_customer(customer),
    )
    affected(request, [ticket.ticket_id])
    return Status(201, customer_ticket_status(ticket))


@router.get("/tickets/{ticket}", auth=Scoped(TICKETS_READ), response=TicketOut, summary="A ticket's status")
def read_ticket(request, ticket: str, who: Query[CustomerQuery]):
    return customer_ticket_status(_their_ticket(ticket, who.customer_id))


@router.get(
    "/tickets/{ticket}/messages", auth=Scoped(TICKETS_READ), response=ThreadOut, summary="The customer's thread"
)
def read_thread(request, ticket: str, page: Query[ThreadQuery]):
    """The thread as the customer sees it, oldest first: never an internal note, never a staff id."""
    ticket = _their_ticket(ticket, page.customer_id)
    items, cursor = customer_thread(ticket, after=page.after, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


@router.post(
    "/tickets/{ticket}/messages",
    auth=Scoped(TICKETS_WRITE),
    response={201: MessageOut},
    summary="Add a customer message",
)
@idempotent
def add_message(request, ticket: str, payload: MessageIn):
    """The customer's message; refused (409) on a closed ticket."""
    ticket = _their_ticket(ticket, payload.customer_id)
    message = ticket_add_customer_message(
        ticket=ticket, text=payload.text, attachments=payload.attachments, actor=actor_for_customer(ticket.customer)
    )
    affected(request, [message.pk])
    return Status(
        201,
        {
            "id": message.pk,
            "created_at": message.created_at,
            "sender": message.sender_type,
            "sender_name": message.sender_name,
            "message_type": message.message_type,
            "text": message.message_text,
            "attachments": list(message.attachments or []),
        },
    )


@router.post("/tickets/{ticket}/rating", auth=Scoped(TICKETS_WRITE), response={201: TicketOut}, summary="Rate")
@idempotent
def rate_ticket(request, ticket: str, payload: RatingIn):
    """The customer's satisfaction rating, 1-5, once the ticket is resolved or closed; once."""
    ticket = _their_ticket(ticket, payload.customer_id)
    ticket = ticket_record_customer_rating(
        ticket=ticket, rating=payload.rating, actor=actor_for_customer(ticket.customer)
    )
    affected(request, [ticket.ticket_id])
    return Status(201, customer_ticket_status(ticket))
