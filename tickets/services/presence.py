"""Who has a ticket open now: the ticket page's heartbeat (``ticket_presence``).

The page's script (``tickets/static/tickets/live.js``) posts a heartbeat every
``tickets.conf.presence_poll_seconds()`` with what its user is doing (viewing, writing a
reply, writing a note); a person counts as present while their last heartbeat is younger
than ``tickets.conf.presence_ttl_seconds()``. One upsert per heartbeat into an UNLOGGED
table; nothing reaches the audit log or the ticket's history (presence says nothing about
the customer, and a log row every few seconds per open page would drown the real ones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from customer_ops import statements
from customer_ops.permissions import requires
from tickets import conf
from tickets.models import PresenceState, Ticket, TicketPresence
from tickets.services.errors import NotAllowed, SupportError

VIEW = "tickets.view_ticket"

_BEAT_SQL = f"""
    INSERT INTO {TicketPresence._meta.db_table} AS p (ticket_id, user_id, state, seen_at)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (ticket_id, user_id) DO UPDATE SET state = EXCLUDED.state, seen_at = EXCLUDED.seen_at
"""


@dataclass(frozen=True)
class Present:
    user_id: int
    name: str
    state: str

    @property
    def doing(self) -> str:
        return PresenceState(self.state).label


@requires(VIEW, error=NotAllowed, message="Your role may not open tickets.")
def presence_beat(*, ticket: Ticket | int, state: str, actor, now: dt.datetime | None = None) -> None:
    """Record that ``actor`` has ``ticket`` open, doing ``state`` (one upsert)."""
    if state not in PresenceState.values:
        raise SupportError(f"Unknown presence state {state!r}.", field="state")
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    with connection.cursor() as cursor:
        cursor.execute(_BEAT_SQL, (pk, actor.pk, state, now or timezone.now()))


@statements.kept_rows(TicketPresence, "pk", "at")
def _present_since():
    # Every ticket page and every heartbeat asks: a statement compiled once per process.
    return (
        TicketPresence.objects.filter(ticket_id=statements.STAND_IN, seen_at__gte=statements.TIME_STAND_IN)
        .select_related("user")
        .only("ticket_id", "user_id", "state", "user__first_name", "user__last_name", "user__username")
        .order_by()
    )


def present_on(ticket: Ticket | int, *, exclude_user=None, now: dt.datetime | None = None) -> list[Present]:
    """The staff with ``ticket`` open now (one query), writers first."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    excluded = None if exclude_user is None else exclude_user.pk
    found = [
        Present(user_id=row.user_id, name=row.user.get_full_name() or row.user.get_username(), state=row.state)
        for row in _present_since(pk=pk, at=presence_cutoff(now))
        if row.user_id != excluded  # a few rows a ticket: the viewer is left out here
    ]
    return sorted(found, key=lambda p: (p.state == PresenceState.VIEWING, p.name))


def presence_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Heartbeats older than this no longer count (the queue's eye uses it too)."""
    return (now or timezone.now()) - dt.timedelta(seconds=conf.presence_ttl_seconds())
