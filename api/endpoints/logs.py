"""The auth and app systems: login, verification and activity history, appended in batches
of up to 5,000 rows (immutable logs; the monthly partitions take them)."""

from __future__ import annotations

from ninja import Router, Status

from analytics import ingest
from api.auth import Scoped
from api.calls import affected
from api.endpoints.batches import Written, batch_schema, describe
from api.idempotency import idempotent
from customer_ops.scopes import LOGS_WRITE
from fraud import services as fraud

router = Router(tags=["auth and app systems: logs"])

LoginsIn = batch_schema("LoginHistoryIn", ingest.MAX_LOG_ROWS)
VerificationsIn = batch_schema("VerificationHistoryIn", fraud.MAX_LOG_ROWS)
ActivitiesIn = batch_schema("ActivityLogIn", ingest.MAX_LOG_ROWS)


def _written(request, count: int, *, match_lists: bool = False):
    if match_lists:
        # Logins and activities are what the fraud lists match (device, address, domain): raised
        # now, in the batch's transaction, rather than by the next daily job.
        fraud.raise_list_matches_after_ingest()
    affected(request, [f"{count} rows"])  # a log's rows are many and anonymous: the count is the record
    return Status(201, {"written": count, "ids": []})


@router.post(
    "/logs/logins",
    auth=Scoped(LOGS_WRITE),
    response={201: Written},
    summary="Append login history",
    description="Item keys:\n\n" + describe(ingest.LOGIN_FIELDS),
)
@idempotent
def append_logins(request, payload: LoginsIn):
    return _written(request, ingest.login_history_append(items=payload.items, actor=request.auth), match_lists=True)


@router.post(
    "/logs/verifications",
    auth=Scoped(LOGS_WRITE),
    response={201: Written},
    summary="Append verification history",
    description="Item keys:\n\n" + describe(fraud.VERIFICATION_FIELDS),
)
@idempotent
def append_verifications(request, payload: VerificationsIn):
    return _written(request, fraud.verification_history_append(items=payload.items, actor=request.auth))


@router.post(
    "/logs/activities",
    auth=Scoped(LOGS_WRITE),
    response={201: Written},
    summary="Append activity log",
    description="Item keys:\n\n" + describe(ingest.ACTIVITY_FIELDS),
)
@idempotent
def append_activities(request, payload: ActivitiesIn):
    return _written(request, ingest.activity_log_append(items=payload.items, actor=request.auth), match_lists=True)
