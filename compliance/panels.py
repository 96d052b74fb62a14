"""Customer-page panels of compliance: consent state, and data protection (GDPR requests, export)."""

from __future__ import annotations

from compliance.choices import ConsentType
from compliance.models import DataDeletionRequest
from compliance.selectors import current_consents
from compliance.services import erasure_deadline
from customer_ops.registry import register_panel


def _consent(customer, request) -> dict:
    state = current_consents(customer.pk)
    return {
        "consents": [(ConsentType(t).label, row) for t, row in state.items()],
        "can_record": request.user.has_perm("compliance.add_consentlog"),
    }


def _data_protection(customer, request) -> dict:
    requests = list(DataDeletionRequest.objects.filter(customer=customer).order_by("-requested_at")[:5])
    return {
        "requests": [(r, erasure_deadline(r)) for r in requests],
        "can_export": request.user.has_perm("compliance.export_customer_data"),
        "can_add": request.user.has_perm("compliance.add_datadeletionrequest"),
        "can_view_audit": request.user.has_perm("compliance.view_auditlog"),
        "can_view_access": request.user.has_perm("compliance.view_accesslog"),
    }


register_panel(
    key="consent",
    title="Consent (current state, from the consent log)",
    template="compliance/panels/consent.html",
    context=_consent,
    order=80,
    permission="compliance.view_consentlog",
)
register_panel(
    key="data_protection",
    title="Data protection",
    template="compliance/panels/data_protection.html",
    context=_data_protection,
    order=90,
    permission="compliance.view_datadeletionrequest",
)
