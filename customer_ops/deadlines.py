"""Deadlines: one small module for every "due by" in the back-office.

Ticket SLAs (first response, resolution: per priority), dispute response deadlines (per
dispute type) and the GDPR erasure deadline (30 days from the request) are all computed
here from targets kept in settings, so a page, a filter and a job agree on what is due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import timezone


class DueState(StrEnum):
    OK = "ok"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    MET = "met"  # done before the deadline
    MISSED = "missed"  # done, but after the deadline


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    done_at: dt.datetime | None = None

    def state(self, now: dt.datetime | None = None, *, soon: dt.timedelta | None = None) -> DueState:
        now = now or timezone.now()
        soon = soon if soon is not None else dt.timedelta(hours=settings.DEADLINE_DUE_SOON_HOURS)
        if self.done_at is not None:
            return DueState.MET if self.done_at <= self.due_at else DueState.MISSED
        if now > self.due_at:
            return DueState.BREACHED
        if now > self.due_at - soon:
            return DueState.DUE_SOON
        return DueState.OK

    def remaining(self, now: dt.datetime | None = None) -> dt.timedelta:
        return self.due_at - (now or timezone.now())


def due(start: dt.datetime, target: dt.timedelta, done_at: dt.datetime | None = None) -> Deadline:
    return Deadline(due_at=start + target, done_at=done_at)


def ticket_first_response_target(priority: str) -> dt.timedelta:
    return dt.timedelta(minutes=settings.SUPPORT_SLA[priority]["first_response_minutes"])


def ticket_resolution_target(priority: str) -> dt.timedelta:
    return dt.timedelta(minutes=settings.SUPPORT_SLA[priority]["resolution_minutes"])


def dispute_response_target(dispute_type: str) -> dt.timedelta:
    return dt.timedelta(days=settings.DISPUTE_RESPONSE_DAYS[dispute_type])


def erasure_target() -> dt.timedelta:
    return dt.timedelta(days=settings.GDPR_ERASURE_DAYS)


# --- Ticket SLAs: the same targets for one ticket (pages) and for a queryset (queue, jobs) ---


@dataclass(frozen=True)
class TicketSla:
    first_response: Deadline
    resolution: Deadline

    def next_due(self) -> Deadline | None:
        """The deadline the ticket works towards now (None once both are done)."""
        for deadline in (self.first_response, self.resolution):
            if deadline.done_at is None:
                return deadline
        return None

    def breached(self, now: dt.datetime | None = None) -> bool:
        return any(d.state(now) in {DueState.BREACHED, DueState.MISSED} for d in (self.first_response, self.resolution))


def ticket_sla(
    *,
    priority: str,
    created_at: dt.datetime,
    first_response_at: dt.datetime | None = None,
    resolved_at: dt.datetime | None = None,
) -> TicketSla:
    return TicketSla(
        first_response=due(created_at, ticket_first_response_target(priority), first_response_at or resolved_at),
        resolution=due(created_at, ticket_resolution_target(priority), resolved_at),
    )


def ticket_sla_targets(kind: str) -> dict[str, dt.timedelta]:
    """``{priority: target}`` for ``kind`` "first_response" or "resolution"."""
    return {p: dt.timedelta(minutes=t[f"{kind}_minutes"]) for p, t in settings.SUPPORT_SLA.items()}


def target_expression(field: str, targets: dict[str, dt.timedelta]):
    """A SQL ``CASE`` giving each row the target (an interval) of its ``field`` value.

    Lets a queryset compute due times in the database (``created_at + target``), so that
    a list can sort and filter on them: used by the ticket queue and the SLA job.
    """
    from django.db.models import Case, DurationField, Value, When

    return Case(
        *[When(**{field: key}, then=Value(target)) for key, target in targets.items()],
        output_field=DurationField(),
    )
