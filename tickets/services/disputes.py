"""Dispute workflow (the legal team's console): the one write path for ``customer_disputes``.

Statuses: OPEN -> INVESTIGATING -> RESOLVED / REJECTED, and ESCALATED from OPEN or
INVESTIGATING (back to INVESTIGATING, or closed from there). Every service is keyword-only,
atomic, refuses an actor whose role may not make the change (:data:`ADD` to open one,
:data:`CHANGE` for everything else: the legal team) before reading anything, locks the
dispute, refuses a stale ``expected_version`` (the ``updated_at`` the caller read) as a
:class:`DisputeConflict`, validates the transition and the amounts, writes the row, its
history (django-simple-history) and the audit entry together, and raises
:class:`DisputeError` (or its :class:`DisputeNotAllowed` / :class:`DisputeConflict`
refinements) for anything it refuses.

``legal_case_number`` and ``legal_notes`` are the legal team's alone
(:data:`LEGAL_PERMISSION`): other roles can neither see nor set them. Their changes are
audited without values, and the history table leaves them out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone

from customer_ops.audit import audit
from customer_ops.choices import EventType
from customer_ops.context import audit_actor
from customer_ops.deadlines import Deadline, dispute_response_target, due
from customer_ops.events import emit
from customer_ops.permissions import requires
from customer_ops.personal_data import restrict_fields
from tickets.choices import CLOSED_DISPUTE_STATUSES, DisputedAgainst, DisputeStatus, DisputeType
from tickets.models import Dispute
from tickets.services.common import has_perm
from tickets.services.errors import DisputeConflict, DisputeError, DisputeNotAllowed

LEGAL_FIELDS = ("legal_case_number", "legal_notes")
LEGAL_PERMISSION = "tickets.view_legal_dispute"
ADD = "tickets.add_dispute"
CHANGE = "tickets.change_dispute"
restrict_fields("tickets.Dispute", LEGAL_FIELDS, permission=LEGAL_PERMISSION)

CLOSED = set(CLOSED_DISPUTE_STATUSES)
OPEN_STATUSES = [s for s in DisputeStatus.values if s not in CLOSED]
TRANSITIONS: dict[str, set[str]] = {
    DisputeStatus.OPEN: {DisputeStatus.INVESTIGATING, DisputeStatus.ESCALATED},
    DisputeStatus.INVESTIGATING: {DisputeStatus.ESCALATED, DisputeStatus.RESOLVED, DisputeStatus.REJECTED},
    DisputeStatus.ESCALATED: {DisputeStatus.INVESTIGATING, DisputeStatus.RESOLVED, DisputeStatus.REJECTED},
    DisputeStatus.RESOLVED: set(),
    DisputeStatus.REJECTED: set(),
}
# Fields the details form may change (status and resolution only move through transitions).
DETAIL_FIELDS = (
    "ticket",
    "dispute_reason",
    "dispute_description",
    "disputed_against",
    "disputed_against_id",
    "evidence_urls",
    "evidence_description",
    "disputed_amount",
)


def can_see_legal(user) -> bool:
    return has_perm(user, LEGAL_PERMISSION)


def dispute_deadline(dispute: Dispute) -> Deadline:
    """Respond (resolve or reject) within ``DISPUTE_RESPONSE_DAYS[dispute_type]`` of opening."""
    return due(dispute.created_at, dispute_response_target(dispute.dispute_type), done_at=dispute.resolved_at)


def with_due_at(qs: models.QuerySet) -> models.QuerySet:
    """Annotate ``due_at`` (creation + the type's response days), for the "action required" view."""
    from django.conf import settings

    whens = [
        models.When(dispute_type=t, then=models.F("created_at") + dt.timedelta(days=days))
        for t, days in settings.DISPUTE_RESPONSE_DAYS.items()
    ]
    return qs.annotate(due_at=models.Case(*whens, output_field=models.DateTimeField()))


def action_required(qs: models.QuerySet | None = None) -> models.QuerySet:
    """Open disputes, the one due soonest first. Counted from customer_disputes_status_idx;
    read a page of it through :class:`ActionRequired`, which sorts no more than the page needs."""
    qs = Dispute.objects.all() if qs is None else qs
    return with_due_at(qs.filter(dispute_status__in=OPEN_STATUSES)).order_by("due_at", "id")


class ActionRequired:
    """:func:`action_required` as a sequence for a paginator or a slice, read without
    sorting every open dispute: ``[a:b]`` takes each type's ``b`` oldest open disputes from
    ``disputes_open_due_idx`` (within a type, the due date rises with the creation time, so
    the first ``b`` by due date are among them) and sorts those, at most ``b`` per type."""

    def __init__(self, qs: models.QuerySet | None = None):
        self.qs = Dispute.objects.all() if qs is None else qs

    def count(self) -> int:
        return action_required(self.qs).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Dispute]:
        if not isinstance(key, slice) or key.step not in (None, 1) or key.stop is None:
            raise TypeError("ActionRequired reads a bounded slice: [start:stop]")
        start, stop = key.start or 0, key.stop
        if stop <= start:
            return []
        open_ = self.qs.filter(dispute_status__in=OPEN_STATUSES)
        oldest = [
            open_.filter(dispute_type=kind).order_by("created_at", "id").values("pk")[:stop]
            for kind in DisputeType.values
        ]
        candidates = oldest[0].union(*oldest[1:], all=True)
        return list(action_required(self.qs).filter(pk__in=candidates)[start:stop])


# --- helpers -----------------------------------------------------------------------------


def _require(actor, perm: str, what: str) -> None:
    if not has_perm(actor, perm):
        raise DisputeNotAllowed(f"Your role may not {what}.")


def _money(value, name: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise DisputeError(f"{name} must be an amount.") from exc
    if amount < 0:
        raise DisputeError(f"{name} cannot be negative.")
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        raise DisputeError(f"{name} must have at most 10 digits and 2 decimals.")
    return amount


def dispute_validate(dispute: Dispute, *, party: bool = True) -> None:
    """Rules that hold for every state of a dispute (the CHECK constraints are the backstop).

    ``party=False`` skips the disputed-against id check, for changes that do not touch the
    party (rows other services wrote without an id can still move through the workflow).
    """
    if not (dispute.dispute_reason or "").strip():
        raise DisputeError("A dispute needs a reason.")
    if dispute.dispute_type not in DisputeType.values:
        raise DisputeError("Unknown dispute type.")
    if dispute.disputed_against not in DisputedAgainst.values:
        raise DisputeError("Unknown party disputed against.")
    needs_id = dispute.disputed_against in {DisputedAgainst.MERCHANT, DisputedAgainst.RIDER}
    if party and needs_id and not dispute.disputed_against_id:
        raise DisputeError(f"Give the id of the {dispute.get_disputed_against_display().lower()} disputed against.")
    if dispute.order_id and dispute.order.customer_id != dispute.customer_id:
        raise DisputeError("The order belongs to another customer.")
    if dispute.ticket_id and dispute.ticket.customer_id != dispute.customer_id:
        raise DisputeError("The ticket belongs to another customer.")
    check_url = URLValidator(schemes=["http", "https"])
    for url in dispute.evidence_urls or []:
        try:
            check_url(url)
        except ValidationError as exc:
            raise DisputeError(f"Evidence URL {url!r} is not a valid http(s) URL.") from exc
    disputed = _money(dispute.disputed_amount, "Disputed amount")
    if disputed is None:
        raise DisputeError("Give the disputed amount.")
    for name, value in (("Refund amount", dispute.refund_amount), ("Resolution amount", dispute.resolution_amount)):
        amount = _money(value, name)
        if amount is not None and amount > disputed:
            raise DisputeError(f"{name} ({amount}) cannot exceed the disputed amount ({disputed}).")


def _save(dispute: Dispute, actor, reason: str, fields: list[str] | None = None) -> None:
    dispute._history_user = actor
    dispute._change_reason = reason
    if fields is None:
        dispute.save()
    else:
        dispute.save(update_fields=[*fields, "updated_at"])


def _locked(dispute: Dispute, expected_version: dt.datetime | None = None) -> Dispute:
    locked = Dispute.objects.select_for_update(of=("self",)).select_related("order", "ticket").get(pk=dispute.pk)
    if expected_version is not None and locked.updated_at != expected_version:
        raise DisputeConflict(f"{locked.dispute_id} was changed by someone else meanwhile: reload it and try again.")
    return locked


def _check_legal(user, changes: dict) -> None:
    if any(f in changes for f in LEGAL_FIELDS) and not can_see_legal(user):
        raise DisputeNotAllowed("Only the legal team can set the legal case number and notes.")


# --- services ----------------------------------------------------------------------------


@requires(ADD, error=DisputeNotAllowed, message="Your role may not open disputes.")
def dispute_create(*, actor, **fields) -> Dispute:
    """Open a dispute (OPEN). ``fields`` are the model's editable columns."""
    _check_legal(actor, {k: v for k, v in fields.items() if v})
    _require(actor, ADD, "open disputes")
    allowed = {"customer", "order", "dispute_type", *DETAIL_FIELDS, *LEGAL_FIELDS}
    unknown = set(fields) - allowed
    if unknown:
        raise DisputeError(f"Cannot set {', '.join(sorted(unknown))} when opening a dispute.")
    if fields.get("customer") is None:
        raise DisputeError("A dispute needs a customer.")
    dispute = Dispute(**fields)
    dispute.evidence_urls = list(dispute.evidence_urls or [])
    dispute_validate(dispute)
    with transaction.atomic():
        _save(dispute, actor, "opened")
        dispute.refresh_from_db(fields=["dispute_id"])
        audit(
            customer_id=dispute.customer_id,
            action_type="CREATE",
            action_field="dispute",
            new_value=dispute.dispute_id,
            reason=f"{dispute.dispute_id} opened ({dispute.dispute_type}, {dispute.disputed_amount})",
            actor=audit_actor(actor),
        )
    return dispute


@requires(CHANGE, error=DisputeNotAllowed, message="Only the legal team may change disputes.")
def dispute_update(*, dispute: Dispute, actor, expected_version: dt.datetime | None = None, **changes) -> Dispute:
    """Change a dispute's details and (legal team only) its legal fields; never its status."""
    _check_legal(actor, changes)
    _require(actor, CHANGE, "change disputes (only the legal team may)")
    unknown = set(changes) - set(DETAIL_FIELDS) - set(LEGAL_FIELDS)
    if unknown:
        raise DisputeError(f"{', '.join(sorted(unknown))} cannot be changed here.")
    with transaction.atomic():
        dispute = _locked(dispute, expected_version)
        if dispute.dispute_status in CLOSED and set(changes) - set(LEGAL_FIELDS):
            raise DisputeError(f"{dispute.dispute_id} is closed: only its legal fields can still change.")
        changed = {}
        for name, value in changes.items():
            old = getattr(dispute, name)
            if name == "evidence_urls":
                value = list(value or [])
            if old != value:
                changed[name] = (old, value)
                setattr(dispute, name, value)
        if not changed:
            return dispute
        dispute_validate(dispute, party=bool({"disputed_against", "disputed_against_id"} & set(changed)))
        _save(dispute, actor, "details changed", fields=[Dispute._meta.get_field(n).attname for n in changed])
        for name, (old, new) in changed.items():
            legal = name in LEGAL_FIELDS
            audit(
                customer_id=dispute.customer_id,
                action_type="UPDATE",
                action_field=f"dispute.{name}",
                # The audit log is read by other roles: legal values never go into it.
                old_value=None if legal else old,
                new_value=None if legal else new,
                reason=f"{dispute.dispute_id} {'legal field' if legal else 'details'} changed",
                actor=audit_actor(actor),
            )
    return dispute


def _transition(
    dispute: Dispute, target: str, actor, reason: str, expected_version: dt.datetime | None = None, **values
) -> Dispute:
    with transaction.atomic():
        dispute = _locked(dispute, expected_version)
        current = dispute.dispute_status
        if target not in TRANSITIONS[current]:
            raise DisputeError(
                f"{dispute.dispute_id} is {dispute.get_dispute_status_display()}: it cannot move to "
                f"{DisputeStatus(target).label}."
            )
        for name, value in values.items():
            setattr(dispute, name, value)
        dispute.dispute_status = target
        dispute_validate(dispute, party=False)
        _save(dispute, actor, reason, fields=["dispute_status", *values])
        audit(
            customer_id=dispute.customer_id,
            action_type="STATUS_CHANGE",
            action_field="dispute.dispute_status",
            old_value=current,
            new_value=target,
            reason=f"{dispute.dispute_id}: {reason}",
            actor=audit_actor(actor),
        )
        if target == DisputeStatus.RESOLVED:
            emit(
                EventType.DISPUTE_RESOLVED,
                customer_id=dispute.customer_id,
                dispute_id=dispute.dispute_id,
                order_id=dispute.order_id,
                dispute_type=dispute.dispute_type,
                resolution_amount=dispute.resolution_amount,
                refund_amount=dispute.refund_amount,
                resolved_at=dispute.resolved_at,
            )
    return dispute


@requires(CHANGE, error=DisputeNotAllowed, message="Your role may not work disputes.")
def dispute_start_investigation(
    *, dispute: Dispute, actor, note: str = "", expected_version: dt.datetime | None = None
) -> Dispute:
    _require(actor, CHANGE, "work disputes")
    return _transition(
        dispute, DisputeStatus.INVESTIGATING, actor, note.strip() or "investigation started", expected_version
    )


@requires(CHANGE, error=DisputeNotAllowed, message="Your role may not work disputes.")
def dispute_escalate(*, dispute: Dispute, actor, note: str, expected_version: dt.datetime | None = None) -> Dispute:
    _require(actor, CHANGE, "work disputes")
    if not (note or "").strip():
        raise DisputeError("Say why the dispute is escalated.")
    return _transition(dispute, DisputeStatus.ESCALATED, actor, f"escalated: {note.strip()}", expected_version)


@requires(CHANGE, error=DisputeNotAllowed, message="Your role may not work disputes.")
def dispute_resolve(
    *,
    dispute: Dispute,
    resolution: str,
    resolution_amount,
    refund_amount=None,
    actor,
    expected_version: dt.datetime | None = None,
) -> Dispute:
    """Close in the customer's favour (fully or partly), with the amounts awarded."""
    _require(actor, CHANGE, "work disputes")
    if not (resolution or "").strip():
        raise DisputeError("Describe the resolution.")
    resolution_amount = _money(resolution_amount, "Resolution amount")
    if resolution_amount is None:
        raise DisputeError("Give the resolution amount (0 if nothing is paid).")
    refund_amount = _money(refund_amount, "Refund amount")
    return _transition(
        dispute,
        DisputeStatus.RESOLVED,
        actor,
        f"resolved for {resolution_amount}",
        expected_version,
        resolution=resolution.strip(),
        resolution_amount=resolution_amount,
        refund_amount=refund_amount,
        resolved_at=timezone.now(),
        resolved_by=actor,
    )


@requires(CHANGE, error=DisputeNotAllowed, message="Your role may not work disputes.")
def dispute_reject(*, dispute: Dispute, resolution: str, actor, expected_version: dt.datetime | None = None) -> Dispute:
    """Close against the customer; the reason goes into ``resolution``."""
    _require(actor, CHANGE, "work disputes")
    if not (resolution or "").strip():
        raise DisputeError("A rejection needs a reason.")
    return _transition(
        dispute,
        DisputeStatus.REJECTED,
        actor,
        "rejected",
        expected_version,
        resolution=resolution.strip(),
        resolution_amount=Decimal("0.00"),
        resolved_at=timezone.now(),
        resolved_by=actor,
    )
