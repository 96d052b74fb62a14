"""Dashboard chart of fraud alerts per day by severity (counts only: no customer is shown,
so the dashboard's analysts and leads may see it). One query over ``fraud_alert_daily``
(fraud/models_daily.py), which triggers keep equal to the alerts at every commit: a few rows
a day whatever the number of alerts, the live days included."""

from __future__ import annotations

from django.db.models import Sum

from customer_ops.registry import register_chart
from fraud.choices import AlertSeverity
from fraud.models_daily import AlertDaily


def alerts_per_day(f: dict) -> dict:
    rows = AlertDaily.objects.filter(day__gte=f["first"], day__lte=f["last"])
    if f["service_type"]:
        rows = rows.filter(service_type=f["service_type"])  # alerts without an order have none
    counts = {
        (row["day"], row["alert_severity"]): row["n"]
        for row in rows.order_by().values("day", "alert_severity").annotate(n=Sum("alerts"))
    }
    return {
        "labels": [d.isoformat() for d in f["days"]],
        "datasets": [
            {"label": s.label, "data": [counts.get((d, s.value), 0) for d in f["days"]]} for s in AlertSeverity
        ],
        "stacked": True,
    }


register_chart(key="fraud_alerts", title="Fraud alerts per day by severity", data=alerts_per_day, kind="bar", order=60)
