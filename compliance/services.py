"""Compliance workflows: deletion requests, consent changes, the access log.

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

from django.db import transaction

from compliance.choices import (
    AccessKind,
    AuditAction,
    ConsentMethod,
    ConsentStatus,
    ConsentType,
)
from compliance.erasure import (  # the erasure's workflow lives with the erasure; this is the app's service surface
    deletion_request_approve,
    deletion_request_create,
    deletion_request_recorder,
    deletion_request_reject,
    deletion_request_run,
    deletion_request_version,
    erasure_deadline,
)
from compliance.errors import (  # noqa: F401  (ComplianceError re-exported: callers catch it here)
    ComplianceConflict,
    ComplianceError,
    ComplianceInvalid,
    ComplianceNotAllowed,
)
from compliance.models import AccessLog, ConsentLog
from customer_ops.audit import audit
from customer_ops.context import audit_actor
from customer_ops.models import Customer
from customer_ops.permissions import requires

# Permissions (the roles' group grants, as the admin checks them).
RECORD_CONSENT = "compliance.add_consentlog"


__all__ = [
    "ComplianceConflict",
    "ComplianceError",
    "ComplianceInvalid",
    "ComplianceNotAllowed",
    "access_record",
    "consent_record",
    "deletion_request_approve",
    "deletion_request_create",
    "deletion_request_recorder",
    "deletion_request_reject",
    "deletion_request_run",
    "deletion_request_version",
    "erasure_deadline",
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
