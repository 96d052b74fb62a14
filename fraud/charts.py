"""Dashboard chart of fraud alerts per day by severity (counts only: no customer is shown,
so the dashboard's analysts and leads may see it). One query over fraud_alerts_created_idx."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import TruncDate

from customer_ops.models import Order
from customer_ops.registry import register_chart
from fraud.choices import AlertSeverity
from fraud.models import FraudAlert


def alerts_per_day(f: dict) -> dict:
    alerts = FraudAlert.objects.filter(created_at__gte=f["start"], created_at__lt=f["end"])
    if f["service_type"]:
        # Most alerts name no order: EXISTS over the alert's own order (a primary-key probe per
        # alert with one) instead of a join that hashes every order of the service.
        orders = Order.objects.filter(pk=OuterRef("order_id"), service_type=f["service_type"])
        alerts = alerts.filter(order__isnull=False).filter(Exists(orders))
    counts = {
        (row["day"], row["alert_severity"]): row["n"]
        for row in alerts.annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .order_by()
        .values("day", "alert_severity")
        .annotate(n=Count("id"))
    }
    return {
        "labels": [d.isoformat() for d in f["days"]],
        "datasets": [
            {"label": s.label, "data": [counts.get((d, s.value), 0) for d in f["days"]]} for s in AlertSeverity
        ],
        "stacked": True,
    }


register_chart(key="fraud_alerts", title="Fraud alerts per day by severity", data=alerts_per_day, kind="bar", order=60)
