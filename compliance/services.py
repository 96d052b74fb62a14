"""Compliance workflows: deletion requests, consent changes, the access log.

Each service is keyword-only, checks its own permission from the actor
(:func:`customer_ops.permissions.requires`, the permission the admin checks before showing
the button), is atomic, locks the row it changes, validates the transition and writes the
row and its audit entry together. A refusal raises a :class:`ComplianceError` of its kind
(:mod:`compliance.errors`), which the admin turns into a message or a form error.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from compliance.choices import (
    AccessKind,
    AuditAction,
    ConsentMethod,
    ConsentStatus,
    ConsentType,
    RequestStatus,
)
from compliance.erasure import AUDIT_PREFIX, run_erasure, start_run
from compliance.errors import (  # noqa: F401  (ComplianceError re-exported: callers catch it here)
    ComplianceConflict,
    ComplianceError,
    ComplianceInvalid,
    ComplianceNotAllowed,
)
from compliance.models import AccessLog, AuditLog, ConsentLog, DataDeletionRequest, ErasureRun
from customer_ops.audit import audit
from customer_ops.context import audit_actor
from customer_ops.deadlines import Deadline, due, erasure_target
from customer_ops.models import Customer
from customer_ops.permissions import requires
from customer_ops.personal_data import Scope

# Permissions (the roles' group grants, as the admin checks them).
RECORD_REQUEST = "compliance.add_datadeletionrequest"
PROCESS = "compliance.process_datadeletionrequest"
RECORD_CONSENT = "compliance.add_consentlog"


def _check_scopes(scopes: list[str]) -> list[str]:
    scopes = [s for s in dict.fromkeys(scopes or []) if s]
    if not scopes:
        raise ComplianceInvalid("Choose at least one deletion scope.")
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ComplianceInvalid(f"Unknown deletion scope(s): {', '.join(unknown)}.")
    return [Scope.ALL.value] if Scope.ALL in scopes else scopes


# --- deletion requests -------------------------------------------------------------------


def erasure_deadline(request: DataDeletionRequest) -> Deadline:
    """The statutory deadline: 30 days (``GDPR_ERASURE_DAYS``) from ``requested_at``."""
    return due(request.requested_at, erasure_target(), done_at=request.completed_at)


@requires(RECORD_REQUEST, what="record deletion requests")
def deletion_request_create(
    *,
    customer: Customer,
    scopes: list[str],
    reason: str = "",
    requested_at: dt.datetime | None = None,
    actor,
) -> DataDeletionRequest:
    """Record a request (PENDING). One open request per customer at a time."""
    scopes = _check_scopes(scopes)
    now = timezone.now()
    if requested_at is not None and requested_at > now:
        raise ComplianceInvalid("The request date cannot be in the future.")
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        open_request = DataDeletionRequest.objects.filter(
            customer=customer, request_status__in=[RequestStatus.PENDING, RequestStatus.PROCESSING]
        ).first()
        if open_request is not None:
            raise ComplianceConflict(f"{open_request.request_id} is already open for this customer.")
        request = DataDeletionRequest.objects.create(
            customer=customer,
            request_reason=reason.strip(),
            deletion_scope=scopes,
            requested_at=requested_at or now,
        )
        request.refresh_from_db(fields=["request_id"])
        audit(
            customer_id=customer.pk,
            action_type=AuditAction.CREATE,
            action_field="deletion_request",
            new_value=",".join(scopes),
            reason=f"{AUDIT_PREFIX} {request.request_id}: recorded",
            actor=audit_actor(actor),
        )
    return request


def _locked_pending(request: DataDeletionRequest, verb: str) -> DataDeletionRequest:
    locked = DataDeletionRequest.objects.select_for_update().get(pk=request.pk)
    if locked.request_status != RequestStatus.PENDING:
        raise ComplianceConflict(
            f"{locked.request_id} is {locked.get_request_status_display()}: only a pending request can be {verb}."
        )
    return locked


def deletion_request_recorder(request: DataDeletionRequest) -> tuple[int | None, str]:
    """Who recorded the request (staff id, name), from its audit entry; ``(None, "")`` when
    another service of the platform inserted it."""
    entry = (
        AuditLog.objects.filter(
            customer_id=request.customer_id,
            action_type=AuditAction.CREATE,
            action_field="deletion_request",
            action_reason=f"{AUDIT_PREFIX} {request.request_id}: recorded",
        )
        .values_list("actor_id", "actor_name")
        .first()
    )
    return entry or (None, "")


@requires(PROCESS, what="approve or reject deletion requests")
def deletion_request_approve(*, request: DataDeletionRequest, actor) -> DataDeletionRequest:
    """PENDING -> PROCESSING; stores the plan the approver saw. The erasure itself is queued:
    the ``process_deletion_requests`` job carries it out (never inside a web request).

    Four eyes: an erasure is irreversible, so whoever recorded the request cannot approve it.
    """
    with transaction.atomic():
        request = _locked_pending(request, "approved")
        recorder_id, recorder_name = deletion_request_recorder(request)
        if recorder_id is not None and recorder_id == actor.pk:
            raise ComplianceNotAllowed(
                f"You recorded {request.request_id}: another compliance officer must approve it (four eyes)."
            )
        request.request_status = RequestStatus.PROCESSING
        request.processed_at = timezone.now()
        request.processed_by = actor
        request.save(update_fields=["request_status", "processed_at", "processed_by"])
        audit(
            customer_id=request.customer_id,
            action_type=AuditAction.STATUS_CHANGE,
            action_field="request_status",
            old_value=RequestStatus.PENDING,
            new_value=RequestStatus.PROCESSING,
            reason=f"{AUDIT_PREFIX} {request.request_id}: approved"
            + (f" (recorded by {recorder_name or 'staff'} #{recorder_id})" if recorder_id is not None else ""),
            actor=audit_actor(actor),
        )
        start_run(request)  # freezes the plan as approved
    return request


@requires(PROCESS, what="approve or reject deletion requests")
def deletion_request_reject(*, request: DataDeletionRequest, reason: str, actor) -> DataDeletionRequest:
    """PENDING -> REJECTED, with the reason (required)."""
    reason = (reason or "").strip()
    if not reason:
        raise ComplianceInvalid("A rejection needs a reason.")
    with transaction.atomic():
        request = _locked_pending(request, "rejected")
        request.request_status = RequestStatus.REJECTED
        request.rejection_reason = reason
        request.processed_at = timezone.now()
        request.processed_by = actor
        request.save(update_fields=["request_status", "rejection_reason", "processed_at", "processed_by"])
        audit(
            customer_id=request.customer_id,
            action_type=AuditAction.STATUS_CHANGE,
            action_field="request_status",
            old_value=RequestStatus.PENDING,
            new_value=RequestStatus.REJECTED,
            reason=f"{AUDIT_PREFIX} {request.request_id}: rejected: {reason}",
            actor=audit_actor(actor),
        )
    return request


def deletion_request_run(*, request: DataDeletionRequest, chunk_size: int | None = None, on_chunk=None) -> ErasureRun:
    """Carry out a PROCESSING request (the ``process_deletion_requests`` job calls this)."""
    return run_erasure(request, chunk_size=chunk_size, on_chunk=on_chunk)  # an ErasureError is a ComplianceError


# --- consent -----------------------------------------------------------------------------


@requires(RECORD_CONSENT, what="record consent changes")
def consent_record(
    *,
    customer: Customer,
    consent_type: str,
    consent_status: str,
    consent_method: str,
    consent_text: str,
    ip_address: str = "",
    user_agent: str = "",
    actor,
) -> ConsentLog:
    """Append a consent change (the log is never updated); the latest row per type is the state."""
    if consent_type not in ConsentType.values:
        raise ComplianceInvalid(f"Unknown consent type {consent_type!r}.")
    if consent_status not in ConsentStatus.values:
        raise ComplianceInvalid(f"Unknown consent status {consent_status!r}.")
    if consent_method not in ConsentMethod.values:
        raise ComplianceInvalid(f"Unknown consent method {consent_method!r}.")
    if not (consent_text or "").strip():
        raise ComplianceInvalid("Record the consent text that was shown to the customer.")
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)  # one change per customer at a time
        previous = (
            ConsentLog.objects.filter(customer=customer, consent_type=consent_type)
            .order_by("-created_at", "-id")
            .values_list("consent_status", flat=True)
            .first()
        )
        row = ConsentLog.objects.create(
            customer=customer,
            consent_type=consent_type,
            consent_status=consent_status,
            consent_method=consent_method,
            consent_text=consent_text.strip(),
            ip_address=ip_address.strip(),
            user_agent=user_agent.strip()[:500],
        )
        audit(
            customer_id=customer.pk,
            action_type=AuditAction.UPDATE,
            action_field=f"consent.{consent_type}",
            old_value=previous,
            new_value=consent_status,
            reason=f"Consent recorded ({consent_method})",
            actor=audit_actor(actor),
        )
    return row


# --- access log --------------------------------------------------------------------------


def access_record(*, staff, customer_id: int, kind: str, detail: str = "", request=None) -> AccessLog:
    """Record that ``staff`` saw a customer's personal data (page, export, revealed field)."""
    from customer_ops.middleware import client_ip

    return AccessLog.objects.create(
        staff=staff,
        customer_id=customer_id,
        kind=AccessKind(kind),
        detail=detail[:200],
        ip_address=client_ip(request) if request is not None else "",
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500] if request is not None else "",
    )
