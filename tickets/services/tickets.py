"""Ticket workflows: assign, take next, reply, notes, priority, resolve, close, reopen,
follow-up, mark read, and the customer's own rating.

Every function is keyword-only, takes the acting staff member as ``actor`` (the rating:
the customer, never a staff member), runs in one
transaction, locks the ticket row (``select_for_update``) and, when the caller passes the
``expected_version`` (the ``updated_at`` its form loaded), refuses to act on a ticket
someone else changed meanwhile. Status and assignment changes write a SYSTEM message to
the thread, a ``customer_audit_log`` row and a history row together.

Status machine (the spec's four statuses)::

    OPEN --assign--> IN_PROGRESS --resolve--> RESOLVED --close--> CLOSED
                       ^                          |
                       +---------reopen-----------+

Agents work their own and unassigned tickets; leads (``assign_ticket``) work any and
assign anyone; closing needs ``close_ticket``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from customer_ops.choices import EventType
from customer_ops.context import Actor, audit_actor
from customer_ops.events import emit
from customer_ops.permissions import checked_inside, requires
from tickets import selectors
from tickets.choices import MessageType, Priority, SenderType, TicketStatus
from tickets.models import InternalNote, Ticket, TicketMessage
from tickets.services.common import check_version, has_perm, record, save_with_history, staff_name
from tickets.services.errors import NotAllowed, StaleThread, SupportError

User = get_user_model()

WORK = "tickets.work_ticket"
ASSIGN_ANY = "tickets.assign_ticket"
CLOSE = "tickets.close_ticket"
REPLY = "tickets.add_ticketmessage"
NOTE = "tickets.add_internalnote"
CUSTOMER_ACTOR = "CUSTOMER"  # the audit log's actor_type of a customer acting for themselves

TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.OPEN: {TicketStatus.IN_PROGRESS},
    TicketStatus.IN_PROGRESS: {TicketStatus.RESOLVED},
    TicketStatus.RESOLVED: {TicketStatus.CLOSED, TicketStatus.IN_PROGRESS, TicketStatus.OPEN},
    TicketStatus.CLOSED: set(),
}
WHY_NOT = {
    (TicketStatus.OPEN, TicketStatus.RESOLVED): "assign it first: only a ticket in progress can be resolved",
    (TicketStatus.OPEN, TicketStatus.CLOSED): "it has not been resolved yet; resolve it before closing",
    (TicketStatus.IN_PROGRESS, TicketStatus.CLOSED): "it has not been resolved yet; resolve it before closing",
    (TicketStatus.RESOLVED, TicketStatus.RESOLVED): "it is already resolved",
    (TicketStatus.CLOSED, TicketStatus.CLOSED): "it is already closed",
}


def _label(status: str) -> str:
    return TicketStatus(status).label.lower()


def check_transition(ticket: Ticket, to: str) -> None:
    if to in TRANSITIONS[ticket.status]:
        return
    if ticket.status == TicketStatus.CLOSED:
        why = "closed tickets are final; ask the customer to open a new ticket"
    else:
        why = WHY_NOT.get((ticket.status, to), f"a ticket cannot go from {_label(ticket.status)} to {_label(to)}")
    raise SupportError(f"{ticket.ticket_id} cannot be {_label(to)}: {why}.")


def can_work(user, ticket: Ticket) -> bool:
    """Agents work their own and unassigned tickets; leads work any."""
    if has_perm(user, ASSIGN_ANY):
        return True
    return has_perm(user, WORK) and ticket.assigned_to_agent_id in (None, user.pk)


def may_work_tickets(actor) -> bool:
    """Whether the actor's role works tickets at all (agents and leads)."""
    return has_perm(actor, WORK) or has_perm(actor, ASSIGN_ANY)


def require_role(actor, perm: str | None = None, message: str = "Your role may not work tickets.") -> None:
    """Refuse, before any row is read or locked, an actor whose role may not take the step:
    ``perm`` when given, else working tickets."""
    if not (has_perm(actor, perm) if perm else may_work_tickets(actor)):
        raise NotAllowed(message)


def require_work(user, ticket: Ticket) -> None:
    require_role(user)
    if not can_work(user, ticket):
        owner = ticket.assigned_to_agent_name or "another agent"
        raise NotAllowed(f"{ticket.ticket_id} is assigned to {owner}: only they or a lead may work it.")


def _lock(ticket: Ticket | int, expected_version: dt.datetime | None) -> Ticket:
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    locked = Ticket.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)
    check_version(locked, expected_version, label=f"Ticket {locked.ticket_id}")
    return locked


def _system_message(ticket: Ticket, text: str) -> TicketMessage:
    return TicketMessage.objects.create(
        ticket=ticket,
        message_text=text,
        message_type=MessageType.SYSTEM,
        sender_type=SenderType.SYSTEM,
        sender_name="System",
        is_read=True,
    )


def _set_status(ticket: Ticket, to: str, *, user, actor, reason: str = "") -> str:
    old = ticket.status
    ticket.status = to
    record(
        customer_id=ticket.customer_id,
        actor=actor,
        action_type="STATUS_CHANGE",
        field="customer_tickets.status",
        old=old,
        new=to,
        reason=reason or f"Ticket {ticket.ticket_id}",
    )
    _system_message(ticket, f"Status changed from {_label(old)} to {_label(to)} by {staff_name(user)}.")
    emit(
        EventType.TICKET_STATUS_CHANGED,
        customer_id=ticket.customer_id,
        ticket_id=ticket.ticket_id,
        previous_status=old,
        status=to,
    )
    return old


# --- Assignment ------------------------------------------------------------------------


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_assign(
    *, ticket: Ticket | int, agent, actor, expected_version: dt.datetime | None = None, reason: str = ""
) -> Ticket:
    """Assign to ``agent`` (to yourself, or anyone if you are a lead). OPEN becomes IN_PROGRESS."""
    require_role(actor)
    ticket = _lock(ticket, expected_version)
    if agent.pk != actor.pk and not has_perm(actor, ASSIGN_ANY):
        raise NotAllowed("Only a lead may assign tickets to someone else.")
    require_work(actor, ticket)
    if not (agent.is_active and (has_perm(agent, WORK) or has_perm(agent, ASSIGN_ANY))):
        raise SupportError(f"{staff_name(agent)} is not a support agent.", field="agent")
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise SupportError(f"{ticket.ticket_id} is {_label(ticket.status)}: reopen it before assigning it.")
    if ticket.assigned_to_agent_id == agent.pk:
        raise SupportError(f"{ticket.ticket_id} is already assigned to {staff_name(agent)}.")

    who = audit_actor(actor)
    old_agent = ticket.assigned_to_agent_id
    ticket.assigned_to_agent = agent
    ticket.assigned_to_agent_name = staff_name(agent)
    ticket.assigned_at = timezone.now()
    fields = ["assigned_to_agent", "assigned_to_agent_name", "assigned_at"]
    record(
        customer_id=ticket.customer_id,
        actor=who,
        action_type="UPDATE",
        field="customer_tickets.assigned_to_agent_id",
        old=old_agent,
        new=agent.pk,
        reason=reason or f"Ticket {ticket.ticket_id} assigned to {staff_name(agent)}",
    )
    _system_message(ticket, f"Assigned to {staff_name(agent)} by {staff_name(actor)}.")
    if ticket.status == TicketStatus.OPEN:
        check_transition(ticket, TicketStatus.IN_PROGRESS)
        _set_status(ticket, TicketStatus.IN_PROGRESS, user=actor, actor=who)
        fields.append("status")
    save_with_history(ticket, user=actor, fields=fields, reason=f"Assigned to {staff_name(agent)}")
    return ticket


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_take_next(*, actor) -> Ticket | None:
    """Give ``actor`` the most urgent unassigned open ticket.

    ``FOR UPDATE SKIP LOCKED``: agents pressing "take next" at the same moment each lock a
    different row instead of queueing behind (or double-taking) the same one.
    """
    require_role(actor)
    candidate = (
        selectors.next_unassigned()
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)
        .first()
    )
    if candidate is None:
        return None
    return ticket_assign(ticket=candidate, agent=actor, actor=actor, reason="Taken from the queue (take next)")


# --- Thread ----------------------------------------------------------------------------


def _thread_version(ticket: Ticket) -> tuple[int, int]:
    # The thread as the page shows it: the tickets merged into this one included.
    return selectors.live_thread_version(ticket)


def _check_thread(ticket: Ticket, seen: tuple[int, int] | None) -> None:
    if seen is None:
        return
    current = _thread_version(ticket)
    if current[0] > seen[0] or current[1] > seen[1]:
        raise StaleThread(
            "The conversation changed since you opened it: new messages are highlighted below. "
            "Your reply was not sent; read them, adjust it and send again.",
            seen=seen,
        )


@requires(REPLY, error=NotAllowed, message="Your role may not reply to customers.")
@transaction.atomic
def ticket_reply(
    *, ticket: Ticket | int, text: str, actor, seen: tuple[int, int] | None, attachments: list[str] | None = None
) -> TicketMessage:
    """Send an AGENT message. ``seen`` = (last message id, last note id) the agent had on screen:
    if the thread moved on since, the reply is refused rather than sent blindly."""
    require_role(actor, REPLY, "Your role may not reply to customers.")
    ticket = _lock(ticket, None)
    require_work(actor, ticket)
    text = (text or "").strip()
    if not text:
        raise SupportError("Write a reply before sending.", field="text")
    if ticket.status == TicketStatus.CLOSED:
        raise SupportError(f"{ticket.ticket_id} is closed: replies are no longer possible.")
    _check_thread(ticket, seen)
    message = TicketMessage.objects.create(
        ticket=ticket,
        message_text=text,
        message_type=MessageType.FILE if attachments else MessageType.TEXT,
        sender_type=SenderType.AGENT,
        sender_id=actor.pk,
        sender_name=staff_name(actor),
        attachments=list(attachments or []),
        is_read=True,
    )
    emit(
        EventType.TICKET_MESSAGE_CREATED,
        customer_id=ticket.customer_id,
        ticket_id=ticket.ticket_id,
        message_id=message.pk,
        sender_type=message.sender_type,
        message_type=message.message_type,
    )
    return message


@requires(NOTE, error=NotAllowed, message="Your role may not add internal notes.")
@transaction.atomic
def ticket_add_note(*, ticket: Ticket | int, body: str, actor) -> InternalNote:
    """An internal note: staff only, stored in ``ticket_internal_notes``, never sent to the customer.
    Only on a ticket the actor may work (own or unassigned; leads any), like every other step."""
    require_role(actor, NOTE, "Your role may not add internal notes.")
    ticket = _lock(ticket, None)
    require_work(actor, ticket)
    body = (body or "").strip()
    if not body:
        raise SupportError("Write the note before saving it.", field="body")
    return InternalNote.objects.create(ticket=ticket, author=actor, author_name=staff_name(actor), body=body)


@checked_inside("a no-op for anyone but the assignee who may work tickets: opening a ticket calls it")
def ticket_mark_read(*, ticket: Ticket, actor) -> int:
    """Mark the customer's unread messages read: opening the ticket does this for its assignee
    only. Anyone else (a lead looking in, a colleague, an unassigned ticket's visitor) leaves
    the unread markers to the agent who has to answer them."""
    if ticket.assigned_to_agent_id is None or ticket.assigned_to_agent_id != actor.pk:
        return 0
    if not may_work_tickets(actor):
        return 0
    return TicketMessage.objects.filter(ticket=ticket, sender_type=SenderType.CUSTOMER, is_read=False).update(
        is_read=True, read_at=timezone.now()
    )


# --- Priority, resolution, closing -----------------------------------------------------


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_change_priority(
    *, ticket: Ticket | int, priority: str, actor, expected_version: dt.datetime | None = None
) -> Ticket:
    require_role(actor)
    ticket = _lock(ticket, expected_version)
    require_work(actor, ticket)
    if priority not in Priority.values:
        raise SupportError(f"Unknown priority {priority!r}.", field="priority")
    if ticket.status == TicketStatus.CLOSED:
        raise SupportError(f"{ticket.ticket_id} is closed: its priority no longer matters.")
    if ticket.priority == priority:
        raise SupportError(f"{ticket.ticket_id} already has priority {Priority(priority).label}.", field="priority")
    old = ticket.priority
    ticket.priority = priority
    record(
        customer_id=ticket.customer_id,
        actor=audit_actor(actor),
        action_type="UPDATE",
        field="customer_tickets.priority",
        old=old,
        new=priority,
        reason=f"Ticket {ticket.ticket_id}",
    )
    _system_message(
        ticket, f"Priority changed from {Priority(old).label} to {Priority(priority).label} by {staff_name(actor)}."
    )
    save_with_history(ticket, user=actor, fields=["priority"], reason="Priority changed")
    return ticket


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_resolve(
    *, ticket: Ticket | int, resolution: str, actor, expected_version: dt.datetime | None = None
) -> Ticket:
    """IN_PROGRESS -> RESOLVED with a resolution; sets resolved_at, resolved_by, resolution_time_minutes."""
    require_role(actor)
    ticket = _lock(ticket, expected_version)
    require_work(actor, ticket)
    resolution = (resolution or "").strip()
    if not resolution:
        raise SupportError("A resolution is required: say what was done for the customer.", field="resolution")
    check_transition(ticket, TicketStatus.RESOLVED)
    now = timezone.now()
    ticket.resolution = resolution
    ticket.resolved_at = now
    ticket.resolved_by = actor
    ticket.resolution_time_minutes = max(int((now - ticket.created_at).total_seconds() // 60), 0)
    _set_status(ticket, TicketStatus.RESOLVED, user=actor, actor=audit_actor(actor))
    save_with_history(
        ticket,
        user=actor,
        fields=["status", "resolution", "resolved_at", "resolved_by", "resolution_time_minutes"],
        reason="Resolved",
    )
    return ticket


@requires(CLOSE, error=NotAllowed, message="Only a lead may close tickets.")
@transaction.atomic
def ticket_close(*, ticket: Ticket | int, actor, expected_version: dt.datetime | None = None) -> Ticket:
    """RESOLVED -> CLOSED (leads)."""
    require_role(actor, CLOSE, "Only a lead may close tickets.")
    ticket = _lock(ticket, expected_version)
    check_transition(ticket, TicketStatus.CLOSED)
    _set_status(ticket, TicketStatus.CLOSED, user=actor, actor=audit_actor(actor))
    save_with_history(ticket, user=actor, fields=["status"], reason="Closed")
    return ticket


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_reopen(*, ticket: Ticket | int, reason: str, actor, expected_version: dt.datetime | None = None) -> Ticket:
    """RESOLVED -> IN_PROGRESS (or OPEN when nobody holds it); the resolution stamps are cleared."""
    require_role(actor)
    ticket = _lock(ticket, expected_version)
    require_work(actor, ticket)
    reason = (reason or "").strip()
    if not reason:
        raise SupportError("Say why the ticket is reopened.", field="reason")
    to = TicketStatus.IN_PROGRESS if ticket.assigned_to_agent_id else TicketStatus.OPEN
    if ticket.status != TicketStatus.RESOLVED:
        if ticket.status == TicketStatus.CLOSED:
            check_transition(ticket, to)
        raise SupportError(f"{ticket.ticket_id} is {_label(ticket.status)}: only a resolved ticket can be reopened.")
    ticket.resolved_at = None
    ticket.resolved_by = None
    ticket.resolution_time_minutes = None
    _set_status(ticket, to, user=actor, actor=audit_actor(actor), reason=reason)
    save_with_history(
        ticket,
        user=actor,
        fields=["status", "resolved_at", "resolved_by", "resolution_time_minutes"],
        reason=f"Reopened: {reason}",
    )
    return ticket


# --- Rating and follow-up --------------------------------------------------------------


@checked_inside("the ticket's own customer alone: every staff member, the system and a calling system are refused")
@transaction.atomic
def ticket_record_customer_rating(
    *, ticket: Ticket | int, rating: int, actor: Actor, expected_version: dt.datetime | None = None
) -> Ticket:
    """The customer's own satisfaction rating, 1-5, once the ticket is resolved; recorded once.

    The rating is the customer's word on the support they got, so no staff member may
    write it (an agent could otherwise rate their own tickets): ``actor`` must be the
    ticket's customer (:func:`customer_ops.context.actor_for_customer`), as the customer
    channel of the service API will resolve the caller. A staff user, the system or
    another customer is refused. The admin offers no way to call this.
    """
    if not isinstance(actor, Actor) or actor.actor_type != CUSTOMER_ACTOR:
        raise NotAllowed("The satisfaction rating is the customer's own: staff cannot record it.")
    ticket = _lock(ticket, expected_version)
    if actor.actor_id != ticket.customer_id:
        raise NotAllowed(f"Only the customer of {ticket.ticket_id} can rate it.")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise SupportError("The rating must be a whole number from 1 to 5.", field="rating")
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise SupportError(f"{ticket.ticket_id} is {_label(ticket.status)}: a rating is recorded once it is resolved.")
    if ticket.customer_satisfaction_rating is not None:
        raise SupportError(
            f"{ticket.ticket_id} already has the customer's rating ({ticket.customer_satisfaction_rating})."
        )
    ticket.customer_satisfaction_rating = rating
    record(
        customer_id=ticket.customer_id,
        actor=actor,
        action_type="UPDATE",
        field="customer_tickets.customer_satisfaction_rating",
        old=None,
        new=rating,
        reason=f"Ticket {ticket.ticket_id}",
    )
    save_with_history(ticket, user=None, fields=["customer_satisfaction_rating"], reason="Rated by the customer")
    return ticket


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_schedule_follow_up(
    *, ticket: Ticket | int, follow_up_date: dt.datetime | None, actor, expected_version: dt.datetime | None = None
) -> Ticket:
    """Schedule (a future date) or clear (``None``) the ticket's follow-up."""
    require_role(actor)
    ticket = _lock(ticket, expected_version)
    require_work(actor, ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise SupportError(f"{ticket.ticket_id} is closed: no follow-up can be scheduled.")
    if follow_up_date is not None and follow_up_date <= timezone.now():
        raise SupportError("The follow-up date must be in the future.", field="follow_up_date")
    ticket.follow_up_required = follow_up_date is not None
    ticket.follow_up_date = follow_up_date
    save_with_history(
        ticket,
        user=actor,
        fields=["follow_up_required", "follow_up_date"],
        reason="Follow-up scheduled" if follow_up_date else "Follow-up cleared",
    )
    return ticket
