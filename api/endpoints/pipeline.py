"""The ML fraud pipeline: fraud alerts and suspicious activities, in batches of up to 1,000."""

from __future__ import annotations

from ninja import Router, Status

from api.auth import Scoped
from api.calls import affected
from api.endpoints.batches import Written, batch_schema, describe
from api.idempotency import idempotent
from customer_ops.scopes import FRAUD_WRITE
from fraud import services

router = Router(tags=["ML pipeline: fraud"])

AlertsIn = batch_schema("FraudAlertsIn", services.MAX_DETECTIONS)
ActivitiesIn = batch_schema("SuspiciousActivitiesIn", services.MAX_DETECTIONS)


@router.post(
    "/fraud/alerts",
    auth=Scoped(FRAUD_WRITE),
    response={201: Written},
    summary="Create fraud alerts",
    description="Open, unresolved alerts for the fraud team. Item keys:\n\n" + describe(services.ALERT_FIELDS),
)
@idempotent
def create_fraud_alerts(request, payload: AlertsIn):
    alerts = services.fraud_alerts_create(items=payload.items, actor=request.auth)
    ids = [alert.pk for alert in alerts]
    affected(request, ids)
    return Status(201, {"written": len(ids), "ids": ids})


@router.post(
    "/fraud/suspicious-activities",
    auth=Scoped(FRAUD_WRITE),
    response={201: Written},
    summary="Record suspicious activities",
    description="Unreviewed activities for the fraud team. Item keys:\n\n" + describe(services.ACTIVITY_FIELDS),
)
@idempotent
def create_suspicious_activities(request, payload: ActivitiesIn):
    activities = services.suspicious_activities_create(items=payload.items, actor=request.auth)
    ids = [activity.pk for activity in activities]
    affected(request, ids)
    return Status(201, {"written": len(ids), "ids": ids})
