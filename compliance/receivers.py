"""Receivers that record reads of personal data in the access log."""

from __future__ import annotations

from compliance.choices import AccessKind
from compliance.services import access_record


def customer_page_opened(sender, customer, request, **kwargs) -> None:
    access_record(
        staff=request.user, customer_id=customer.pk, kind=AccessKind.VIEW, detail="customer page", request=request
    )


def field_revealed(sender, customer_id, model, field, request, **kwargs) -> None:
    access_record(
        staff=request.user,
        customer_id=customer_id,
        kind=AccessKind.REVEAL,
        detail=f"{model._meta.db_table}.{field}",
        request=request,
    )
