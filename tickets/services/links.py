"""Merge a duplicate ticket into another, and split messages off into a new ticket.

Both *link* rather than move (``customer_ticket_messages.ticket_id`` is never-update):

* **merge** (``ticket_merge``): ``source`` (the duplicate) is closed with a SYSTEM message
  naming the target, and a ``ticket_links`` row (MERGED) makes the target's thread show
  the source's messages and internal notes in time order (``selectors.ticket_thread``
  follows merges transitively). Refund requests and disputes keep their ``ticket_id``: it
  leads to the source, whose page links to the target, and the target's page lists them.
  Who: a lead, or the agent who owns (is assigned) both tickets.
* **split** (``ticket_split``): a customer message, and the customer and agent messages
  after it if asked, are shown on a new ticket of the same customer (``ticket_message_moves``),
  linked back (SPLIT). Who: whoever may work the ticket.

Refused across customers, on a ticket the actor may not work, on a closed or already
merged ticket. Each runs in one transaction, locks the tickets (in id order, so two merges
of the same pair cannot deadlock), and writes its audit entries, SYSTEM messages and
history rows through the same helpers as every other ticket step.
"""

from __future__ import annotations

from django.db import transaction

from customer_ops.context import audit_actor
from customer_ops.permissions import requires
from tickets.choices import SenderType, TicketStatus
from tickets.models import Ticket, TicketLink, TicketLinkKind, TicketMessage, TicketMessageMove
from tickets.services.common import has_perm, record, save_with_history, staff_name
from tickets.services.errors import NotAllowed, SupportError
from tickets.services.tickets import ASSIGN_ANY, WORK, _lock, _set_status, _system_message, require_role, require_work

# The messages a split carries along: what the customer and the agents wrote (the SYSTEM
# bookkeeping stays with the ticket it describes).
SPLIT_SENDERS = (SenderType.CUSTOMER, SenderType.AGENT)


def _merged_into(ticket: Ticket) -> TicketLink | None:
    return TicketLink.objects.filter(source=ticket, kind=TicketLinkKind.MERGED).select_related("target").first()


def _refuse_merged(ticket: Ticket) -> None:
    link = _merged_into(ticket)
    if link is not None:
        raise SupportError(f"{ticket.ticket_id} was already merged into {link.target.ticket_id}.")


def may_merge(user, source: Ticket, target: Ticket) -> bool:
    """A lead, or the agent assigned to both tickets (what the ticket page offers)."""
    if has_perm(user, ASSIGN_ANY):
        return True
    return has_perm(user, WORK) and source.assigned_to_agent_id == target.assigned_to_agent_id == user.pk


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_merge(*, source: Ticket | int, target: Ticket | int, actor, reason: str = "") -> TicketLink:
    """Merge ``source`` (a duplicate) into ``target``, another ticket of the same customer."""
    require_role(actor)
    source_pk = source.pk if isinstance(source, Ticket) else source
    target_pk = target.pk if isinstance(target, Ticket) else target
    if source_pk == target_pk:
        raise SupportError("A ticket cannot be merged into itself.", field="target")
    locked = {pk: _lock(pk, None) for pk in sorted((source_pk, target_pk))}
    source, target = locked[source_pk], locked[target_pk]
    if source.customer_id != target.customer_id:
        raise SupportError(
            f"{source.ticket_id} and {target.ticket_id} belong to different customers: only a customer's own "
            "tickets can be merged.",
            field="target",
        )
    require_work(actor, source)
    require_work(actor, target)
    if not may_merge(actor, source, target):
        raise NotAllowed("Only a lead, or the agent assigned to both tickets, may merge them.")
    _refuse_merged(source)
    _refuse_merged(target)
    for ticket in (source, target):
        if ticket.status == TicketStatus.CLOSED:
            raise SupportError(f"{ticket.ticket_id} is closed: closed tickets are final and cannot be merged.")

    who = audit_actor(actor)
    name = staff_name(actor)
    link = TicketLink.objects.create(kind=TicketLinkKind.MERGED, source=source, target=target, created_by=actor)
    why = reason.strip() or f"Duplicate of {target.ticket_id}"
    for ticket, text in (
        (source, f"Merged into {target.ticket_id} by {name}: the conversation continues there."),
        (target, f"{source.ticket_id} was merged into this ticket by {name}; its messages are shown here."),
    ):
        record(
            customer_id=ticket.customer_id,
            actor=who,
            action_type="UPDATE",
            field="ticket_links.merged",
            old=None,
            new=f"{source.ticket_id} -> {target.ticket_id}",
            reason=f"Ticket {ticket.ticket_id}: {why}",
        )
        _system_message(ticket, text)
    # The duplicate is closed (from any open or resolved state: the merge is its outcome).
    _set_status(source, TicketStatus.CLOSED, user=actor, actor=who, reason=f"Merged into {target.ticket_id}")
    save_with_history(source, user=actor, fields=["status"], reason=f"Merged into {target.ticket_id}")
    save_with_history(target, user=actor, fields=[], reason=f"{source.ticket_id} merged into it")
    return link


@requires(WORK, ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
@transaction.atomic
def ticket_split(
    *, ticket: Ticket | int, message: TicketMessage | int, with_following: bool, actor, subject: str = ""
) -> Ticket:
    """A new ticket of the same customer from ``message`` (a customer message shown on
    ``ticket``) and, when ``with_following``, the customer and agent messages after it."""
    require_role(actor)
    ticket = _lock(ticket, None)
    require_work(actor, ticket)
    _refuse_merged(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise SupportError(f"{ticket.ticket_id} is closed: closed tickets are final and cannot be split.")
    from tickets import selectors  # the thread as the page shows it (merged tickets included)

    shown = [e.obj for e in selectors.ticket_thread(ticket) if e.kind == "message"]
    message_pk = message.pk if isinstance(message, TicketMessage) else message
    first = next((m for m in shown if m.pk == message_pk), None)
    if first is None:
        raise SupportError(f"That message is not on {ticket.ticket_id}'s thread.", field="message")
    if first.sender_type != SenderType.CUSTOMER:
        raise SupportError("A split starts from a message the customer wrote.", field="message")
    moved = [first]
    if with_following:
        start = shown.index(first)
        moved += [m for m in shown[start + 1 :] if m.sender_type in SPLIT_SENDERS]

    subject = (subject or "").strip() or first.message_text.strip().splitlines()[0][:120] or ticket.subject
    new = Ticket(
        customer_id=ticket.customer_id,
        order_id=ticket.order_id,
        service_type=ticket.service_type,
        issue_category=ticket.issue_category,
        issue_subcategory=ticket.issue_subcategory,
        subject=subject,
        priority=ticket.priority,
    )
    new._history_user = actor
    new._change_reason = f"Split from {ticket.ticket_id}"
    new.save()
    new.refresh_from_db(fields=["ticket_id", "created_at", "updated_at", "status"])
    link = TicketLink.objects.create(kind=TicketLinkKind.SPLIT, source=new, target=ticket, created_by=actor)
    TicketMessageMove.objects.bulk_create(TicketMessageMove(message=m, link=link, to_ticket=new) for m in moved)

    who = audit_actor(actor)
    name = staff_name(actor)
    count = f"{len(moved)} message{'s' if len(moved) != 1 else ''}"
    for on, text in (
        (ticket, f"{count} split off into {new.ticket_id} by {name}."),
        (new, f"Split from {ticket.ticket_id} by {name}: {count} moved here."),
    ):
        record(
            customer_id=ticket.customer_id,
            actor=who,
            action_type="CREATE" if on is new else "UPDATE",
            field="ticket_links.split",
            old=None,
            new=f"{ticket.ticket_id} -> {new.ticket_id}",
            reason=f"Ticket {on.ticket_id}: split ({count})",
        )
        _system_message(on, text)
    save_with_history(ticket, user=actor, fields=[], reason=f"Split into {new.ticket_id}")
    return new
