"""Dashboard charts of the orders: orders per service per day and the cancellation rate.

Each ``data(f)`` gets the dashboard's filters (:func:`analytics.filters.dashboard_filters`)
and returns Chart.js data; one small query each: the days of ``analytics_platform_daily``
(:func:`analytics.dashboard.platform_days`) and the last two days' hours (``analytics_platform_hourly``).
"""

from __future__ import annotations

from analytics.dashboard import platform_days
from customer_ops.choices import ServiceType
from customer_ops.registry import register_chart


def orders_per_service(f: dict) -> dict:
    per_day = platform_days(f)
    services = [s for s in ServiceType if not f["service_type"] or s == f["service_type"]]
    return {
        "labels": [d.isoformat() for d in f["days"]],
        "datasets": [
            {"label": s.label, "data": [_get(per_day, d, s.value, "total_orders") for d in f["days"]]} for s in services
        ],
        "stacked": True,
    }


def cancellation_rate(f: dict) -> dict:
    per_day = platform_days(f)

    def rate(day):
        total = sum(row["total_orders"] for (d, _), row in per_day.items() if d == day)
        cancelled = sum(row["cancelled_orders"] for (d, _), row in per_day.items() if d == day)
        return round(100 * cancelled / total, 2) if total else None

    return {
        "labels": [d.isoformat() for d in f["days"]],
        "datasets": [{"label": "Cancelled, % of orders placed", "data": [rate(d) for d in f["days"]]}],
    }


def _get(per_day: dict, day, service: str, key: str) -> int:
    row = per_day.get((day, service))
    return row[key] if row else 0


register_chart(
    key="orders_per_service", title="Orders per service per day", data=orders_per_service, kind="bar", order=10
)
register_chart(
    key="cancellation_rate", title="Cancellation rate per day (%)", data=cancellation_rate, kind="line", order=20
)
