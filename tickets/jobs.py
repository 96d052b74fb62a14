"""Scheduled, idempotent, set-based work of the support console.

:func:`escalate_sla_breaches` -- the SLA escalation policy:

* a ticket that is still open (OPEN or IN_PROGRESS) breaches its **first-response**
  target when no agent has replied by ``created_at + target``, and its **resolution**
  target when it is not resolved by ``created_at + target`` (targets per priority in
  ``settings.SUPPORT_SLA``, read through ``customer_ops.deadlines``);
* each breach is escalated **once**: a row in ``ticket_sla_escalations`` (unique per
  ticket and target) records it and is the lead's flag (the queue's "Escalated to lead"
  view and the red mark in the list);
* on a ticket's first escalation its priority is raised one level (LOW -> MEDIUM -> HIGH
  -> URGENT -> CRITICAL; CRITICAL stays), with an audit entry (actor SYSTEM) and a history
  row; every escalation adds a SYSTEM message to the thread. A raised priority shortens
  the other target, so the run looks again and flags (without raising again) what that
  breaches at once.

Re-running finds the same breaches already recorded and changes nothing. Finding the
breaches and recording them is one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING``; the follow-up writes are batched (one UPDATE, one history INSERT, one message
INSERT), plus one audit call per newly escalated ticket (bounded by the run's new breaches).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from customer_ops.audit import audit
from customer_ops.context import SYSTEM
from customer_ops.deadlines import ticket_sla_targets
from tickets.choices import MessageType, Priority, SenderType, TicketStatus
from tickets.models import SlaEscalation, SlaKind, Ticket, TicketMessage

ESCALATION_ORDER = [Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT, Priority.CRITICAL]


def raised(priority: str) -> str:
    i = ESCALATION_ORDER.index(priority)
    return ESCALATION_ORDER[min(i + 1, len(ESCALATION_ORDER) - 1)]


@dataclass(frozen=True)
class EscalationResult:
    breaches: int  # new breaches recorded this run
    tickets: int  # tickets escalated this run
    raised: int  # of which had their priority raised


_BREACHES_SQL = f"""
WITH targets (priority, first_response, resolution, raised) AS (
    SELECT * FROM unnest(%(priorities)s::text[], %(first_response)s::interval[],
                         %(resolution)s::interval[], %(raised)s::text[])
),
breaches AS (
    SELECT t.id, 'FIRST_RESPONSE' AS kind, t.created_at + g.first_response AS due_at, t.priority, g.raised
      FROM {Ticket._meta.db_table} t JOIN targets g ON g.priority = t.priority
     WHERE t.status IN (%(open)s, %(in_progress)s)
       AND t.created_at + g.first_response < %(now)s
       AND NOT EXISTS (SELECT 1 FROM {TicketMessage._meta.db_table} m
                        WHERE m.ticket_id = t.id AND m.sender_type = %(agent)s)
    UNION ALL
    SELECT t.id, 'RESOLUTION', t.created_at + g.resolution, t.priority, g.raised
      FROM {Ticket._meta.db_table} t JOIN targets g ON g.priority = t.priority
     WHERE t.status IN (%(open)s, %(in_progress)s)
       AND t.created_at + g.resolution < %(now)s
)
INSERT INTO {SlaEscalation._meta.db_table} (ticket_id, kind, due_at, escalated_at, from_priority, to_priority)
SELECT id, kind, due_at, %(now)s, priority, raised FROM breaches
ON CONFLICT (ticket_id, kind) DO NOTHING
RETURNING ticket_id, kind, from_priority, to_priority
"""


def _record_breaches(now: dt.datetime) -> list[tuple]:
    first_response, resolution = ticket_sla_targets("first_response"), ticket_sla_targets("resolution")
    priorities = list(first_response)
    with connection.cursor() as cursor:
        cursor.execute(
            _BREACHES_SQL,
            {
                "priorities": priorities,
                "first_response": [first_response[p] for p in priorities],
                "resolution": [resolution[p] for p in priorities],
                "raised": [raised(p) for p in priorities],
                "open": TicketStatus.OPEN,
                "in_progress": TicketStatus.IN_PROGRESS,
                "agent": SenderType.AGENT,
                "now": now,
            },
        )
        return cursor.fetchall()


@transaction.atomic
def escalate_sla_breaches(*, now: dt.datetime | None = None) -> EscalationResult:
    now = now or timezone.now()
    breaches = raised_count = 0
    escalated_in_run: set[int] = set()
    # A raised priority shortens the targets, so the other target may now be breached too:
    # look again (at most once per target kind) so that a second run finds nothing new.
    for _ in range(len(SlaKind.values)):
        rows = _record_breaches(now)
        if not rows:
            break
        kinds: dict[int, list[str]] = {}
        for ticket_id, kind, _from, _to in rows:
            kinds.setdefault(ticket_id, []).append(kind)
        # Priority is raised on a ticket's first escalation only; later breaches just flag it.
        earlier = escalated_in_run | set(
            SlaEscalation.objects.filter(ticket_id__in=kinds)
            .exclude(escalated_at=now)
            .values_list("ticket_id", flat=True)
        )
        tickets = list(Ticket.objects.select_for_update().filter(pk__in=kinds).order_by("pk"))
        to_raise, messages = [], []
        for ticket in tickets:
            what = " and ".join(k.replace("_", " ").lower() for k in sorted(kinds[ticket.pk]))
            text = f"SLA breached ({what} target): escalated to the team lead"
            new = raised(ticket.priority)
            if ticket.pk not in earlier and new != ticket.priority:
                text += f", priority raised from {Priority(ticket.priority).label} to {Priority(new).label}"
                audit(
                    customer_id=ticket.customer_id,
                    action_type="UPDATE",
                    action_field="customer_tickets.priority",
                    old_value=ticket.priority,
                    new_value=new,
                    reason=f"Ticket {ticket.ticket_id}: SLA breached ({what})",
                    actor=SYSTEM,
                )
                ticket.priority = new
                to_raise.append(ticket)
            messages.append(
                TicketMessage(
                    ticket=ticket,
                    message_text=text + ".",
                    message_type=MessageType.SYSTEM,
                    sender_type=SenderType.SYSTEM,
                    sender_name="System",
                    is_read=True,
                )
            )
        if to_raise:
            bulk_update_with_history(to_raise, Ticket, ["priority"], default_change_reason="SLA escalation")
        TicketMessage.objects.bulk_create(messages)
        escalated_in_run |= set(kinds)
        breaches += len(rows)
        raised_count += len(to_raise)
    return EscalationResult(breaches=breaches, tickets=len(escalated_in_run), raised=raised_count)
