"""Bulk work from the queue: one step for each selected ticket, through the same service as
the single action, so every rule, lock, audit entry and history row applies per ticket.

Not all-or-nothing: each ticket is its own transaction (the single service's), so a ticket
the step refuses (another agent's, already resolved, ...) is listed with the reason and the
others go ahead; never half a ticket. Assigning to someone else is a lead's (the assign
service refuses anyone else, ticket by ticket).
"""

from __future__ import annotations

from dataclasses import dataclass

from customer_ops.errors import DomainError
from customer_ops.permissions import requires
from tickets import macros
from tickets.models import Ticket
from tickets.services import tickets as single
from tickets.services.errors import NotAllowed, SupportError

OPERATIONS = ("assign", "priority", "note", "resolve")


@dataclass(frozen=True)
class Outcome:
    ticket: Ticket
    done: bool
    message: str


def _one(operation: str, ticket: Ticket, values: dict, actor) -> str:
    if operation == "assign":
        agent = values["agent"]
        single.ticket_assign(ticket=ticket, agent=agent, actor=actor, reason="Bulk assignment from the queue")
        return f"assigned to {agent.get_full_name() or agent.get_username()}"
    if operation == "priority":
        single.ticket_change_priority(ticket=ticket, priority=values["priority"], actor=actor)
        return f"priority set to {values['priority'].title()}"
    if operation == "note":
        single.ticket_add_note(ticket=ticket, body=values["body"], actor=actor)
        return "internal note added"
    macro = values["macro"]
    resolution = macros.render(macro.body, macros.values_for(ticket, actor))
    single.ticket_resolve(ticket=ticket, resolution=resolution, actor=actor)
    return f"resolved with “{macro.name}”"


@requires(single.WORK, single.ASSIGN_ANY, error=NotAllowed, message="Your role may not work tickets.")
def ticket_bulk(*, tickets: list[Ticket], operation: str, values: dict, actor) -> list[Outcome]:
    """Run ``operation`` on each ticket; the outcome of each, in the order given."""
    if operation not in OPERATIONS:
        raise SupportError(f"Unknown bulk operation {operation!r}.", field="operation")
    outcomes = []
    for ticket in tickets:
        try:
            outcomes.append(Outcome(ticket, True, _one(operation, ticket, values, actor)))
        except DomainError as error:
            outcomes.append(Outcome(ticket, False, error.message))
    return outcomes
