"""The privacy portal: file a customer's deletion request (with its scope) or access
request. Both enter the compliance team's four-eyes workflow in the back-office; the API
itself erases and exports nothing."""

from __future__ import annotations

import datetime as dt
import typing

from ninja import Field, Router, Schema, Status

from api.auth import Scoped
from api.calls import affected
from api.endpoints.common import choice, customer_or_404
from api.idempotency import idempotent
from compliance.choices import AccessRequestStatus, RequestStatus
from compliance.services import access_request_create, deletion_request_create
from customer_ops.personal_data import Scope
from customer_ops.scopes import PRIVACY_WRITE

router = Router(tags=["privacy portal"])

CustomerId = typing.Annotated[int, Field(ge=1, le=2**63 - 1)]
Reason = typing.Annotated[str, Field(max_length=2000, description="The customer's words, if any.")]


class DeletionIn(Schema):
    customer_id: CustomerId
    scopes: list[choice(Scope)] = Field(min_length=1, max_length=len(Scope.values))
    reason: Reason = ""


class DeletionOut(Schema):
    request_id: str
    status: choice(RequestStatus)
    scopes: list[choice(Scope)]
    requested_at: dt.datetime


class AccessIn(Schema):
    customer_id: CustomerId
    reason: Reason = ""


class AccessOut(Schema):
    request_id: str
    status: choice(AccessRequestStatus)
    requested_at: dt.datetime


@router.post(
    "/privacy/deletion-requests",
    auth=Scoped(PRIVACY_WRITE),
    response={201: DeletionOut},
    summary="File a deletion request",
)
@idempotent
def file_deletion_request(request, payload: DeletionIn):
    """Records the request (PENDING); a compliance officer approves or rejects it. One open
    request per customer (409 while one is open)."""
    filed = deletion_request_create(
        customer=customer_or_404(payload.customer_id),
        scopes=list(dict.fromkeys(payload.scopes)),
        reason=payload.reason,
        actor=request.auth,
    )
    affected(request, [filed.request_id])
    return Status(
        201,
        {
            "request_id": filed.request_id,
            "status": filed.request_status,
            "scopes": filed.deletion_scope,
            "requested_at": filed.requested_at,
        },
    )


@router.post(
    "/privacy/access-requests", auth=Scoped(PRIVACY_WRITE), response={201: AccessOut}, summary="File an access request"
)
@idempotent
def file_access_request(request, payload: AccessIn):
    """Records the request (PENDING); a second compliance officer approves it before the
    customer's data export is released. One pending request per customer (409)."""
    filed = access_request_create(
        customer=customer_or_404(payload.customer_id), reason=payload.reason, actor=request.auth
    )
    filed.refresh_from_db(fields=["requested_at", "status"])
    affected(request, [filed.request_id])
    return Status(201, {"request_id": filed.request_id, "status": filed.status, "requested_at": filed.requested_at})
