"""Dashboard charts of the orders: orders per service per day and the cancellation rate.

Each ``data(f)`` gets the dashboard's filters (:func:`analytics.filters.dashboard_filters`)
and returns Chart.js data; one query each, over ``orders_created_idx``.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from customer_ops.choices import ServiceType
from customer_ops.models import Order
from customer_ops.registry import register_chart


def _orders(f: dict):
    orders = Order.objects.filter(created_at__gte=f["start"], created_at__lt=f["end"])
    if f["service_type"]:
        orders = orders.filter(service_type=f["service_type"])
    return orders.annotate(day=TruncDate("created_at", tzinfo=dt.UTC)).order_by()


def orders_per_service(f: dict) -> dict:
    counts = {
        (row["day"], row["service_type"]): row["n"]
        for row in _orders(f).values("day", "service_type").annotate(n=Count("id"))
    }
    services = [s for s in ServiceType if not f["service_type"] or s == f["service_type"]]
    return {
        "labels": [d.isoformat() for d in f["days"]],
        "datasets": [{"label": s.label, "data": [counts.get((d, s.value), 0) for d in f["days"]]} for s in services],
        "stacked": True,
    }


def cancellation_rate(f: dict) -> dict:
    per_day = {
        row["day"]: row
        for row in _orders(f).values("day").annotate(n=Count("id"), cancelled=Count("id", filter=Q(status="CANCELLED")))
    }

    def rate(day):
        row = per_day.get(day)
        return round(100 * row["cancelled"] / row["n"], 2) if row else None

    return {
        "labels": [d.isoformat() for d in f["days"]],
        "datasets": [{"label": "Cancelled, % of orders placed", "data": [rate(d) for d in f["days"]]}],
    }


register_chart(
    key="orders_per_service", title="Orders per service per day", data=orders_per_service, kind="bar", order=10
)
register_chart(
    key="cancellation_rate", title="Cancellation rate per day (%)", data=cancellation_rate, kind="line", order=20
)
