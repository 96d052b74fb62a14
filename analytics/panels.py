"""The customer page's analytics panel: lifetime metrics per service, the last 30 days,
and the customer's referrals. Four queries, whatever the customer's history."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, Sum
from django.utils import timezone

from analytics.models import DailyAnalytics, Referral, ServiceAnalytics
from customer_ops.registry import register_panel

RECENT_DAYS = 30


def customer_analytics(customer, request) -> dict:
    since = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=RECENT_DAYS - 1)
    recent = DailyAnalytics.objects.filter(customer=customer, analytics_date__gte=since).aggregate(
        orders=Sum("total_orders"),
        cancelled=Sum("cancelled_orders"),
        spent=Sum("total_spent"),
        app_opens=Sum("app_opens"),
        minutes=Sum("time_spent_minutes"),
        active_days=Count("id"),
    )
    referral = (
        Referral.objects.filter(referred_customer=customer).first()
        if request.user.has_perm("analytics.view_referral")
        else None
    )
    made = (
        Referral.objects.filter(referrer_customer=customer).aggregate(
            total=Count("id"), completed=Count("id", filter=Q(referral_status="COMPLETED"))
        )
        if request.user.has_perm("analytics.view_referral")
        else None
    )
    return {
        "services": list(ServiceAnalytics.objects.filter(customer=customer).order_by("service_type")),
        "recent": recent,
        "recent_days": RECENT_DAYS,
        "referral": referral,
        "referrals_made": made,
    }


register_panel(
    key="analytics",
    title="Analytics",
    template="analytics/panels/customer_analytics.html",
    context=customer_analytics,
    order=60,
    permission="analytics.view_serviceanalytics",
)
