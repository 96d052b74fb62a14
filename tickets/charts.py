"""Dashboard charts of support: tickets opened and resolved per day, the median resolution
time by category, and refund amounts per day. One query each, whatever the range."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from customer_ops.registry import register_chart
from tickets.choices import IssueCategory, RefundStatus
from tickets.models import RefundRequest


def _labels(f: dict) -> list[str]:
    return [d.isoformat() for d in f["days"]]


def tickets_per_day(f: dict) -> dict:
    service = f["service_type"]
    sql = """
        SELECT 'opened', (created_at AT TIME ZONE 'UTC')::date, count(*) FROM customer_tickets
         WHERE created_at >= %(start)s AND created_at < %(end)s AND (%(service)s = '' OR service_type = %(service)s)
         GROUP BY 2
        UNION ALL
        SELECT 'resolved', (resolved_at AT TIME ZONE 'UTC')::date, count(*) FROM customer_tickets
         WHERE resolved_at >= %(start)s AND resolved_at < %(end)s AND (%(service)s = '' OR service_type = %(service)s)
         GROUP BY 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": f["start"], "end": f["end"], "service": service})
        counts = {(kind, day): n for kind, day, n in cursor.fetchall()}
    return {
        "labels": _labels(f),
        "datasets": [
            {"label": "Opened", "data": [counts.get(("opened", d), 0) for d in f["days"]]},
            {"label": "Resolved", "data": [counts.get(("resolved", d), 0) for d in f["days"]]},
        ],
    }


def median_resolution_by_category(f: dict) -> dict:
    sql = """
        SELECT issue_category, percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_time_minutes)
        FROM customer_tickets
        WHERE resolved_at >= %(start)s AND resolved_at < %(end)s AND resolution_time_minutes IS NOT NULL
          AND (%(service)s = '' OR service_type = %(service)s)
        GROUP BY issue_category
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": f["start"], "end": f["end"], "service": f["service_type"]})
        medians = dict(cursor.fetchall())
    return {
        "labels": [c.label for c in IssueCategory],
        "datasets": [
            {
                "label": "Median minutes to resolve",
                "data": [round(medians[c.value], 1) if c.value in medians else None for c in IssueCategory],
            }
        ],
    }


def refund_amounts(f: dict) -> dict:
    # Every status listed, so that refund_requests_status_idx (status, created_at) serves the range.
    refunds = RefundRequest.objects.filter(
        refund_status__in=RefundStatus.values, created_at__gte=f["start"], created_at__lt=f["end"]
    )
    if f["service_type"]:
        refunds = refunds.filter(order__service_type=f["service_type"])
    per_day = {
        row["day"]: row
        for row in refunds.annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .order_by()
        .values("day")
        .annotate(requested=Sum("requested_amount"), approved=Sum("approved_amount"), n=Count("id"))
    }

    def amount(day, key):
        row = per_day.get(day)
        return float(row[key] or 0) if row else 0

    return {
        "labels": _labels(f),
        "datasets": [
            {"label": "Requested", "data": [amount(d, "requested") for d in f["days"]]},
            {"label": "Approved", "data": [amount(d, "approved") for d in f["days"]]},
        ],
    }


register_chart(key="tickets_per_day", title="Tickets opened and resolved per day", data=tickets_per_day, order=30)
register_chart(
    key="median_resolution",
    title="Median resolution time by category (minutes)",
    data=median_resolution_by_category,
    kind="bar",
    order=40,
)
register_chart(key="refund_amounts", title="Refund amounts per day", data=refund_amounts, kind="bar", order=50)
