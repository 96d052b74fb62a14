"""``fraud_alert_daily``: the dashboard's fraud-alert figures, kept by triggers.

Not a spec table: fraud alerts per UTC day (of ``created_at``), severity and service (of the
alert's order; NULL for the alerts that name none), so that the dashboard's "fraud alerts
per day by severity" chart reads a few rows a day instead of counting every alert of the
range (at 300,000 customers about 6,000 alerts a month).

Kept by statement-level triggers on ``customer_fraud_alerts`` (migration
0017_fraud_alert_daily), exactly like ``analytics_platform_hourly`` on orders: each statement
adds its net change per day, severity and service once, so the figures equal the plain count
of the alerts at every commit and the live days need no separate path. A day's row whose
count falls to zero is deleted. ``generate_data``, which loads with triggers off, rebuilds
it (``fraud_alert_daily_rebuild()``). An alert's service is its order's at the time of the
write: an order's service type is not expected to change (the platform's orders keep it);
should one change, the rebuild recomputes every day.
"""

from __future__ import annotations

from functools import partial

from django.db import models

from customer_ops import counter_triggers, db
from customer_ops.choices import ServiceType
from fraud.choices import AlertSeverity


class AlertDaily(models.Model):
    day = models.DateField()
    service_type = models.TextField(choices=ServiceType.choices, null=True)
    alert_severity = models.TextField(choices=AlertSeverity.choices)
    alerts = models.IntegerField()

    # No personal_data declaration: platform-wide counts, no customer column.

    class Meta:
        db_table = "fraud_alert_daily"
        verbose_name_plural = "fraud alert daily figures"
        ordering = ["-day", "service_type", "alert_severity"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "alert_severity"], name="fraud_alert_daily_unique", nulls_distinct=False
            ),
            db.enum_check("fraud_alert_daily", "service_type", ServiceType, null=True),
            db.enum_check("fraud_alert_daily", "alert_severity", AlertSeverity),
            # No check on ``alerts``: PostgreSQL checks an upsert's proposed row (the delta,
            # which may be negative) before it finds the conflict. Zero rows are deleted.
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type or '-'} {self.alert_severity}: {self.alerts}"


# Recompute every row from the source: for loads that skip triggers (generate_data).
rebuild_alert_daily = partial(counter_triggers.rebuild, "fraud_alert_daily")
