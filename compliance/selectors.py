"""Reads shared by the compliance pages, the customer panel and the export."""

from __future__ import annotations

import datetime as dt
import functools
import re

from django.db import connection
from django.db.models import QuerySet
from django.urls import NoReverseMatch
from django.utils import timezone

from compliance import dsr
from compliance.choices import AccessKind, AccessRequestStatus, ActorType, AuditAction, ConsentType, RequestStatus
from compliance.models import AccessLog, AccessRequest, AuditLog, ConsentLog
from customer_ops.keyed_urls import reverse_keys
from customer_ops.registry import RecentAction
from customer_ops.statements import STAND_IN, bound, compiled

# Requests still to be decided or carried out (the statutory deadline runs).
OPEN_REQUESTS = (RequestStatus.PENDING, RequestStatus.PROCESSING)
# The same for access requests: approved but not yet answered by an export is still open.
OPEN_ACCESS_REQUESTS = (AccessRequestStatus.PENDING, AccessRequestStatus.APPROVED)


def current_consents(customer_id: int) -> dict[str, ConsentLog | None]:
    """The state per consent type, derived from the log: the latest row wins.

    One query (``DISTINCT ON``), served by ``consent_log_current_idx``.
    """
    latest = (
        ConsentLog.objects.filter(customer_id=customer_id)
        .order_by("consent_type", "-created_at", "-id")
        .distinct("consent_type")
    )
    state: dict[str, ConsentLog | None] = dict.fromkeys(ConsentType.values)
    for row in latest:
        state[row.consent_type] = row
    return state


def week_start(now: dt.datetime | None = None) -> dt.datetime:
    """Monday 00:00 of the current week, in the site's time zone ("this week")."""
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=today.weekday())


def open_requests(qs: QuerySet) -> QuerySet:
    """The open rows of a deletion- or access-request queryset (the deadline runs)."""
    if qs.model is AccessRequest:
        return qs.filter(status__in=OPEN_ACCESS_REQUESTS)
    return qs.filter(request_status__in=OPEN_REQUESTS)


def by_deadline(qs: QuerySet, which: str, now: dt.datetime | None = None) -> QuerySet:
    """Open deletion or access requests by effective deadline (:mod:`compliance.dsr`: the
    statutory month or the extended date): ``"overdue"`` or ``"week"`` (due within 7 days).
    deletion_requests_status_idx / access_requests_status_idx, request_handling_extended_idx."""
    now = now or timezone.now()
    open_ = open_requests(qs)
    if which == "overdue":
        return dsr.due_before(open_, now)
    if which == "week":
        return dsr.due_between(open_, now, now + dt.timedelta(days=7))
    return qs


def completed_this_week(qs: QuerySet, now: dt.datetime | None = None) -> QuerySet:
    """Deletion requests carried out since Monday (deletion_requests_status_idx, then the date)."""
    return qs.filter(request_status=RequestStatus.COMPLETED, completed_at__gte=week_start(now))


def pending_access_request(customer_id: int) -> AccessRequest | None:
    """The customer's access request awaiting a decision, if any: one at a time per
    customer (the service refuses a second; the admin's form says so before saving)."""
    return AccessRequest.objects.filter(customer_id=customer_id, status=AccessRequestStatus.PENDING).first()


def access_requests_pending(qs: QuerySet) -> QuerySet:
    """Access requests awaiting a decision (access_requests_status_idx). Their deadline, and
    that of approved requests not yet answered by an export: :func:`by_deadline`."""
    return qs.filter(status=AccessRequestStatus.PENDING)


def exportable_access_request(customer_id: int, pk: str) -> AccessRequest | None:
    """The customer's access request with this id (as posted by its page) whose export may be
    downloaded: approved (the download completes it) or completed (a further copy); else None."""
    if not str(pk).isdigit():
        return None
    return AccessRequest.objects.filter(
        pk=int(pk),
        customer_id=customer_id,
        status__in=[AccessRequestStatus.APPROVED, AccessRequestStatus.COMPLETED],
    ).first()


def request_exports(request: AccessRequest) -> list[AccessLog]:
    """The exports downloaded for this access request (who, when, format), newest first:
    the access log's rows naming it (staff_access_customer_idx)."""
    return list(
        AccessLog.objects.filter(
            customer_id=request.customer_id, kind=AccessKind.EXPORT, detail__startswith=f"{request.request_id} "
        )
        .select_related("staff")
        .order_by("-created_at")
    )


# --- the home page's "recent actions": the staff member's own audit entries --------------

# Ticket ids the services write into the entry's reason ("Ticket TKT-00000042 ...").
TICKET_ID = re.compile(r"\bTKT-\d+\b")


_RECENT_COLUMNS = ("customer_id", "action_type", "action_field", "action_reason", "created_at", "id")


@functools.cache
def _recent_statement(limit: int) -> tuple[str, tuple]:
    """The staff member's two actor types (AGENT or ADMIN, by role when they acted), each
    read from ``audit_log_actor_idx`` in index order, ``limit`` rows apiece, then merged;
    compiled once per process (:mod:`customer_ops.statements`: every home page runs it)."""
    per_type = [
        AuditLog.objects.filter(actor_type=kind, actor_id=STAND_IN)
        .order_by("-created_at", "-id")
        .values_list(*_RECENT_COLUMNS)[:limit]
        for kind in (ActorType.AGENT, ActorType.ADMIN)
    ]
    return compiled(per_type[0].union(per_type[1], all=True).order_by("-created_at", "-id")[:limit])


def recent_actions(user, limit: int) -> list[RecentAction]:
    """The user's latest audit entries, newest first, in one query (:func:`_recent_statement`)."""
    sql, params = _recent_statement(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, bound(params, user.pk))
        entries = cursor.fetchall()
    actions = []
    for customer_id, action_type, action_field, action_reason, created_at, _ in entries:
        what = AuditAction(action_type).label
        if action_field:
            what += f": {action_field}"
        if action_reason:
            what += f" ({action_reason[:80]})"
        ticket = TICKET_ID.search(action_reason or "")
        actions.append(
            RecentAction(
                when=created_at,
                what=what,
                customer_id=customer_id,
                customer_url=reverse_keys("admin:customer_ops_customer_change", args=[customer_id]),
                ticket=ticket.group(0) if ticket else "",
                ticket_url=_ticket_url(ticket.group(0)) if ticket else "",
            )
        )
    return actions


def _ticket_url(ticket_id: str) -> str:
    """The ticket queue searched for the id (exact match: one row); "" without the support app."""
    try:
        return reverse_keys("admin:tickets_ticket_changelist") + f"?q={ticket_id}"
    except NoReverseMatch:
        return ""
