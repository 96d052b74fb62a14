"""Compliance workflows: deletion requests, access requests, consent changes, the access log.

The app's service surface. The GDPR erasure's workflow (record, approve, reject, run a
deletion request) is written in one module with the erasure it drives,
:mod:`compliance.erasure`, and offered here with consent and the access log.

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

from compliance import dsr, export, selectors
from compliance.choices import (
    AccessKind,
    AccessRequestStatus,
    AuditAction,
    ConsentMethod,
    ConsentStatus,
    ConsentType,
    RefusalReason,
)
from compliance.dsr import extend_deadline, verify_identity
from compliance.erasure import (  # the erasure's workflow lives with the erasure; this is the app's service surface
    deletion_request_approve,
    deletion_request_create,
    deletion_request_recorder,
    deletion_request_reject,
    deletion_request_run,
    deletion_request_version,
    deletion_request_version_of,
    erasure_deadline,
)
from compliance.errors import (  # noqa: F401  (ComplianceError re-exported: callers catch it here)
    ComplianceConflict,
    ComplianceError,
    ComplianceInvalid,
    ComplianceNotAllowed,
)
from compliance.models import AccessLog, AccessRequest, ConsentLog
from customer_ops.audit import audit
from customer_ops.context import CallingSystem, audit_actor
from customer_ops.models import Customer
from customer_ops.permissions import requires
from customer_ops.scopes import PRIVACY_WRITE

# Permissions (the roles' group grants, as the admin checks them).
RECORD_CONSENT = "compliance.add_consentlog"
RECORD_ACCESS_REQUEST = "compliance.add_accessrequest"
PROCESS_ACCESS_REQUEST = "compliance.process_accessrequest"
EXPORT_CUSTOMER_DATA = "compliance.export_customer_data"
ACCESS_REASON_MAX = 2000  # characters of a request's or a rejection's reason


__all__ = [
    "ComplianceConflict",
    "ComplianceError",
    "ComplianceInvalid",
    "ComplianceNotAllowed",
    "access_record",
    "access_request_approve",
    "access_request_create",
    "access_request_export",
    "access_request_reject",
    "consent_record",
    "deletion_request_approve",
    "deletion_request_create",
    "deletion_request_recorder",
    "deletion_request_reject",
    "deletion_request_run",
    "deletion_request_version",
    "deletion_request_version_of",
    "erasure_deadline",
    "extend_deadline",
    "verify_identity",
]


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


# --- access requests (right of access, GDPR art. 15) --------------------------------------
#
#   PENDING ──approve (four eyes, identity verified)──▶ APPROVED ──export produced──▶ COMPLETED
#      └─────reject (reason from the list)──────────▶ REJECTED
#
# PENDING and APPROVED are open: the deadline (compliance.dsr) runs until COMPLETED.

ACCESS_AUDIT_PREFIX = "Right of access"  # every audit entry about an access request starts so


def _reason(text, *, required: bool, what: str) -> str:
    if not isinstance(text, str):
        raise ComplianceInvalid(f"The {what} must be text.", field="reason")
    text = text.strip()
    if "\x00" in text:
        raise ComplianceInvalid(f"The {what} holds a NUL character.", field="reason")
    if required and not text:
        raise ComplianceInvalid(f"A {what} is required.", field="reason")
    if len(text) > ACCESS_REASON_MAX:
        raise ComplianceInvalid(f"The {what} is longer than {ACCESS_REASON_MAX} characters.", field="reason")
    return text


@requires(RECORD_ACCESS_REQUEST, scope=PRIVACY_WRITE, what="record access requests")
def access_request_create(*, customer: Customer, reason: str = "", actor) -> AccessRequest:
    """Record a right-of-access request (PENDING): by a compliance officer in the admin, or
    by the privacy portal (a calling system) through the service API. One open request per
    customer at a time: a second one while the first is pending is refused (Conflict)."""
    if not isinstance(customer, Customer):
        raise ComplianceInvalid("Name the customer the request is for.", field="customer")
    reason = _reason(reason, required=False, what="reason")
    calling = isinstance(actor, CallingSystem)
    with transaction.atomic():
        if not Customer.objects.select_for_update().filter(pk=customer.pk).exists():  # one at a time per customer
            raise ComplianceInvalid("No such customer.", field="customer")
        pending = selectors.pending_access_request(customer.pk)
        if pending is not None:
            raise ComplianceConflict(f"{pending.request_id} is already pending for this customer.")
        request = AccessRequest.objects.create(
            customer_id=customer.pk,
            request_reason=reason,
            recorded_by=_staff(actor),
            recorded_via=audit_actor(actor).actor_name if calling else "",
        )
        request.refresh_from_db(fields=["request_id", "updated_at"])
        audit(
            customer_id=customer.pk,
            action_type=AuditAction.CREATE,
            action_field="access_request",
            new_value=request.request_id,
            reason=f"{ACCESS_AUDIT_PREFIX} {request.request_id}: recorded",
            actor=audit_actor(actor),
        )
    return request


def _staff(actor):
    """The staff user acting, or None (the system, a calling system)."""
    return actor if isinstance(getattr(actor, "pk", None), int) and hasattr(actor, "has_perm") else None


def _locked_pending_access(request: AccessRequest | int, expected_version: dt.datetime | None, verb: str):
    pk = request.pk if isinstance(request, AccessRequest) else request
    locked = AccessRequest.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise ComplianceInvalid("No such access request.", field="request")
    if expected_version is not None and locked.updated_at != expected_version:
        raise ComplianceConflict(
            f"{locked.request_id} changed since you opened it: nothing was saved; check it and try again."
        )
    if locked.status != AccessRequestStatus.PENDING:
        raise ComplianceConflict(
            f"{locked.request_id} is {locked.get_status_display().lower()}: only a pending request can be {verb}."
        )
    return locked


def _decide(request: AccessRequest, to: str, *, actor, reason: str = "", code: str = "") -> AccessRequest:
    request.status = to
    request.decided_at = timezone.now()
    request.decided_by = _staff(actor)
    request.rejection_reason = reason
    request.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason", "updated_at"])
    audit(
        customer_id=request.customer_id,
        action_type=AuditAction.STATUS_CHANGE,
        action_field="access_request.status",
        old_value=AccessRequestStatus.PENDING,
        new_value=to,
        reason=f"{ACCESS_AUDIT_PREFIX} {request.request_id}: {to.lower()}"
        + (f" ({code})" if code else "")
        + (f": {reason}" if reason else ""),
        actor=audit_actor(actor),
    )
    return request


@requires(PROCESS_ACCESS_REQUEST, what="approve or reject access requests")
def access_request_approve(
    *, request: AccessRequest | int, actor, expected_version: dt.datetime | None = None
) -> AccessRequest:
    """PENDING -> APPROVED: the go-ahead for the customer's data export (the request's page
    links to it). Four eyes: whoever recorded the request may not approve it."""
    with transaction.atomic():
        request = _locked_pending_access(request, expected_version, "approved")
        dsr.require_verified(request)
        if request.recorded_by_id is not None and request.recorded_by_id == getattr(actor, "pk", None):
            raise ComplianceNotAllowed(
                f"You recorded {request.request_id}: another compliance officer must approve it (four eyes)."
            )
        return _decide(request, AccessRequestStatus.APPROVED, actor=actor)


@requires(PROCESS_ACCESS_REQUEST, what="approve or reject access requests")
def access_request_reject(
    *,
    request: AccessRequest | int,
    reason: str,
    actor,
    expected_version: dt.datetime | None = None,
    refusal_reason: str = RefusalReason.OTHER,
) -> AccessRequest:
    """PENDING -> REJECTED, with the reason code from the list (:class:`RefusalReason`) and
    the free text (required: the customer is told why)."""
    reason = _reason(reason, required=True, what="rejection reason")
    dsr.check_refusal_reason(refusal_reason)
    with transaction.atomic():
        request = _locked_pending_access(request, expected_version, "rejected")
        dsr.record_refusal(request, refusal_reason)
        return _decide(request, AccessRequestStatus.REJECTED, actor=actor, reason=reason, code=refusal_reason)


@requires(EXPORT_CUSTOMER_DATA, what="download customer data exports")
def access_request_export(*, request: AccessRequest | int, fmt: str, actor, http_request=None) -> AccessLog:
    """Record the customer's data export produced for an access request, against it.

    APPROVED -> COMPLETED: the download's access-log row is written and the request names it
    (``export_log``, ``completed_at``), audited like the other transitions. A further copy
    from a completed request is recorded in the access log under the request's id and
    changes nothing else. A pending or rejected request gives no export (Conflict). The row
    is written when the download starts, as every export's is (the zip is then streamed).
    """
    if fmt not in export.FORMATS:
        raise ComplianceInvalid(f"The export format must be one of {', '.join(export.FORMATS)}.", field="format")
    pk = request.pk if isinstance(request, AccessRequest) else request
    with transaction.atomic():
        locked = AccessRequest.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise ComplianceInvalid("No such access request.", field="request")
        if locked.status not in (AccessRequestStatus.APPROVED, AccessRequestStatus.COMPLETED):
            raise ComplianceConflict(
                f"{locked.request_id} is {locked.get_status_display().lower()}: "
                "only an approved request's export can be downloaded."
            )
        log = access_record(
            staff=actor,
            customer_id=locked.customer_id,
            kind=AccessKind.EXPORT,
            detail=f"{locked.request_id} {fmt} archive",
            request=http_request,
        )
        if locked.status == AccessRequestStatus.APPROVED:
            locked.status = AccessRequestStatus.COMPLETED
            locked.completed_at = log.created_at
            locked.export_log = log
            locked.save(update_fields=["status", "completed_at", "export_log", "updated_at"])
            audit(
                customer_id=locked.customer_id,
                action_type=AuditAction.STATUS_CHANGE,
                action_field="access_request.status",
                old_value=AccessRequestStatus.APPROVED,
                new_value=AccessRequestStatus.COMPLETED,
                reason=f"{ACCESS_AUDIT_PREFIX} {locked.request_id}: completed ({fmt} archive exported)",
                actor=audit_actor(actor),
            )
    return log
