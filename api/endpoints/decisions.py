"""Order approval: may this customer order this service now, and why. On the path of every
order on the platform, so it costs two queries: the token check and the decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404
from ninja import Query, Router, Schema

from api.auth import Scoped
from api.endpoints.common import choice
from customer_ops.choices import ServiceType
from customer_ops.scopes import DECISIONS_READ
from fraud.selectors import order_decision

router = Router(tags=["order approval"])


class ServiceQuery(Schema):
    service: choice(ServiceType)


class BlockOut(Schema):
    block_type: str
    service_type: str | None = None  # null: a block of every service
    until: dt.datetime | None = None  # null: until someone lifts it


class DecisionOut(Schema):
    customer_id: int
    service: choice(ServiceType)
    may_order: bool
    may_pay: bool
    customer_status: str
    blocks: list[BlockOut]
    risk_level: str
    trust_score: Decimal
    fraud_score: Decimal
    requires_review: bool


@router.get(
    "/customers/{customer_id}/decision",
    auth=Scoped(DECISIONS_READ),
    response=DecisionOut,
    summary="The order-time decision",
)
def decision(request, customer_id: int, query: Query[ServiceQuery]):
    """Whether the customer may order the service now: false for an account that is not
    active or a block in force for that service or every service (listed with its end);
    `may_pay` is false under a payment block too. The risk level, the trust and fraud scores
    and `requires_review` are reported for the caller's own rules."""
    if not 1 <= customer_id <= 2**63 - 1:
        raise Http404(f"No customer {customer_id}.")
    found = order_decision(customer_id, query.service)
    if found is None:
        raise Http404(f"No customer {customer_id}.")
    return found
