"""Data-subject requests beyond the spec's columns: identity verification, the one extension of
the statutory deadline (GDPR art. 12(3)) and the refusal reason, for deletion and access
requests alike. The rows live in ``compliance_request_handling`` (one per request).

This module is the one place that computes a request's effective deadline: the statutory
month (``GDPR_ERASURE_DAYS`` from ``requested_at``), or the extended date once extended.
The deadline filters, the home tiles and the pages all read it from here.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, QuerySet, Value, When
from django.utils import timezone

from compliance.choices import AccessRequestStatus, AuditAction, RefusalReason, RequestStatus, VerificationMethod
from compliance.errors import ComplianceConflict, ComplianceInvalid, ComplianceNotAllowed
from compliance.models import AccessRequest, DataDeletionRequest, RequestHandling
from customer_ops.audit import audit
from customer_ops.context import audit_actor
from customer_ops.deadlines import erasure_target
from customer_ops.permissions import checked_inside

PROCESS_DELETION = "compliance.process_datadeletionrequest"
PROCESS_ACCESS = "compliance.process_accessrequest"
MAX_EXTENSION_MONTHS = 2  # art. 12(3): "by two further months where necessary"
TEXT_MAX = 2000

Request = DataDeletionRequest | AccessRequest
# Deletion and access requests share these services; each needs its kind's permission.
BY_KIND = "the processing permission of the request's kind (deletion or access request)"


# --- the effective deadline: the one computation -----------------------------------------


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def statutory_due(requested_at: dt.datetime) -> dt.datetime:
    return requested_at + erasure_target()


def due_at(request: Request) -> dt.datetime:
    """The request's effective deadline: the extended date, else the statutory month."""
    handling = cached_handling(request)
    if handling is not None and handling.extended_until is not None:
        return handling.extended_until
    return statutory_due(request.requested_at)


def effective_due() -> Case:
    """The same deadline as an SQL expression over a deletion- or access-request queryset."""
    return Case(
        When(handling__extended_until__isnull=False, then=F("handling__extended_until")),
        default=ExpressionWrapper(F("requested_at") + Value(erasure_target()), output_field=DateTimeField()),
        output_field=DateTimeField(),
    )


def due_before(qs: QuerySet, limit: dt.datetime) -> QuerySet:
    """Requests whose effective deadline is before ``limit``. Written as two indexable arms
    (``requested_at`` for the unextended, ``request_handling_extended_idx`` for the
    extended) rather than a filter on :func:`effective_due`, which no index can serve."""
    unextended = Q(handling__extended_until__isnull=True, requested_at__lt=limit - erasure_target())
    return qs.filter(unextended | Q(handling__extended_until__lt=limit))


def due_between(qs: QuerySet, start: dt.datetime, end: dt.datetime) -> QuerySet:
    """Requests whose effective deadline falls in ``[start, end)``."""
    target = erasure_target()
    unextended = Q(
        handling__extended_until__isnull=True, requested_at__gte=start - target, requested_at__lt=end - target
    )
    return qs.filter(unextended | Q(handling__extended_until__gte=start, handling__extended_until__lt=end))


# --- reads --------------------------------------------------------------------------------


def cached_handling(request: Request) -> RequestHandling | None:
    """The handling row through the relation (select_related by the lists), or None."""
    try:
        return request.handling
    except RequestHandling.DoesNotExist:
        return None


def handling_of(request: Request) -> RequestHandling | None:
    """The request's handling row as stored now (not a cached relation)."""
    return RequestHandling.objects.filter(**_key(request)).first()


def shown_handling(request: Request) -> RequestHandling | None:
    """The handling row read with the request when the page selected it (the change page's
    ``change_select_related``), else :func:`handling_of`."""
    if type(request).handling.is_cached(request):
        return cached_handling(request)
    return handling_of(request)


def _key(request: Request) -> dict:
    field = "deletion_request" if isinstance(request, DataDeletionRequest) else "access_request"
    return {field: request}


def _is_open(request: Request, *, pending_only: bool) -> bool:
    if isinstance(request, AccessRequest):
        # Approved but not yet answered by an export: still open (its deadline may be extended).
        if pending_only:
            return request.status == AccessRequestStatus.PENDING
        return request.status in (AccessRequestStatus.PENDING, AccessRequestStatus.APPROVED)
    states = [RequestStatus.PENDING] if pending_only else [RequestStatus.PENDING, RequestStatus.PROCESSING]
    return request.request_status in states


def _check_perm(request: Request, actor, what: str) -> None:
    perm = PROCESS_DELETION if isinstance(request, DataDeletionRequest) else PROCESS_ACCESS
    if not (getattr(actor, "has_perm", None) and actor.has_perm(perm)):
        raise ComplianceNotAllowed(f"Your role may not {what}.")


def _locked(request: Request) -> tuple[Request, RequestHandling]:
    """The request and its handling row, both locked (the row is created on first use)."""
    model = type(request)
    locked = model.objects.select_for_update().get(pk=request.pk)
    handling, _ = RequestHandling.objects.select_for_update().get_or_create(
        **_key(locked), defaults={"customer_id": locked.customer_id}
    )
    return locked, handling


def _text(value, *, what: str, field: str, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ComplianceInvalid(f"The {what} must be text.", field=field)
    value = value.strip()
    if "\x00" in value:
        raise ComplianceInvalid(f"The {what} holds a NUL character.", field=field)
    if required and not value:
        raise ComplianceInvalid(f"Give the {what}.", field=field)
    if len(value) > TEXT_MAX:
        raise ComplianceInvalid(f"The {what} is longer than {TEXT_MAX} characters.", field=field)
    return value


# --- identity verification ------------------------------------------------------------------


@checked_inside(BY_KIND)
def verify_identity(*, request: Request, method: str, reference: str, actor) -> RequestHandling:
    """Record how the requester's identity was checked; approval needs it (art. 12(6))."""
    _check_perm(request, actor, "record identity verification")
    if method not in VerificationMethod.values:
        raise ComplianceInvalid("Choose how the identity was verified from the list.", field="method")
    reference = _text(reference, what="verification reference", field="reference")
    with transaction.atomic():
        locked, handling = _locked(request)
        if not _is_open(locked, pending_only=True):
            raise ComplianceConflict(f"{locked.request_id} is no longer pending: its identity check is closed.")
        previous = handling.verification_method or None
        handling.verification_method = method
        handling.verification_reference = reference
        handling.verified_at = timezone.now()
        handling.verified_by = actor
        handling.save()
        audit(
            customer_id=locked.customer_id,
            action_type=AuditAction.VERIFICATION,
            action_field="request.identity_verification",
            old_value=previous,
            new_value=method,
            reason=f"{locked.request_id}: identity verified ({VerificationMethod(method).label}; ref {reference})",
            actor=audit_actor(actor),
        )
    return handling


def require_verified(request: Request) -> None:
    """Refuse an approval without a recorded identity check (call inside the approval's lock)."""
    handling = handling_of(request)
    if handling is None or handling.verified_at is None:
        raise ComplianceNotAllowed(
            f"{request.request_id}: record how the requester's identity was verified before approving it."
        )


# --- extension (art. 12(3)) -------------------------------------------------------------------


@checked_inside(BY_KIND)
def extend_deadline(*, request: Request, months: int, reason: str, customer_told_on: dt.date, actor) -> RequestHandling:
    """Extend the statutory deadline once, by 1 or 2 further months, with the reason and the
    date the customer was told (which must be within the original month)."""
    _check_perm(request, actor, "extend request deadlines")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ComplianceInvalid(
            f"A deadline can be extended by at most {MAX_EXTENSION_MONTHS} further months.", field="months"
        )
    reason = _text(reason, what="reason for the extension", field="reason")
    if not isinstance(customer_told_on, dt.date) or isinstance(customer_told_on, dt.datetime):
        raise ComplianceInvalid("Give the date the customer was told.", field="customer_told_on")
    with transaction.atomic():
        locked, handling = _locked(request)
        if handling.extended_until is not None:
            raise ComplianceConflict(
                f"{locked.request_id} was already extended to {handling.extended_until:%Y-%m-%d}: "
                "a deadline can be extended only once."
            )
        if not _is_open(locked, pending_only=False):
            raise ComplianceConflict(f"{locked.request_id} is closed: its deadline can no longer be extended.")
        original = statutory_due(locked.requested_at)
        today = timezone.localdate()
        if customer_told_on > today:
            raise ComplianceInvalid("The date the customer was told cannot be in the future.", field="customer_told_on")
        if customer_told_on < timezone.localdate(locked.requested_at) or customer_told_on > timezone.localdate(
            original
        ):
            raise ComplianceInvalid(
                "The customer must be told within the original month "
                f"({timezone.localdate(locked.requested_at)} to {timezone.localdate(original)}).",
                field="customer_told_on",
            )
        handling.extended_until = add_months(original, months)
        handling.extension_reason = reason
        handling.customer_told_on = customer_told_on
        handling.extended_at = timezone.now()
        handling.extended_by = actor
        handling.save()
        audit(
            customer_id=locked.customer_id,
            action_type=AuditAction.UPDATE,
            action_field="request.deadline",
            old_value=original.isoformat(),
            new_value=handling.extended_until.isoformat(),
            reason=f"{locked.request_id}: deadline extended by {months} month(s), customer told on "
            f"{customer_told_on}: {reason}",
            actor=audit_actor(actor),
        )
    return handling


# --- refusal reason ---------------------------------------------------------------------------


def check_refusal_reason(code: str) -> str:
    if code not in RefusalReason.values:
        raise ComplianceInvalid("Choose the reason for the refusal from the list.", field="refusal_reason")
    return code


def record_refusal(request: Request, code: str) -> None:
    """Store the refusal's reason code (inside the refusal's transaction; the refusal audits it)."""
    RequestHandling.objects.update_or_create(
        **_key(request),
        defaults={"refusal_reason": code},
        create_defaults={"customer_id": request.customer_id, "refusal_reason": code},
    )
