"""django-import-export resources: CSV/XLSX exports of the analytics tables.

Exports are read-only (the tables are written by the jobs); the admin exports exactly the
rows of the filtered change list. Customers appear by id only: no personal data leaves
through an analytics export.
"""

from __future__ import annotations

from import_export import resources

from analytics.jobs import DAILY_METRICS
from analytics.models import DailyAnalytics, OrdersSummary, Referral, ReferralReward, ServiceAnalytics


class DailyAnalyticsResource(resources.ModelResource):
    class Meta:
        model = DailyAnalytics
        fields = ["id", "customer", "analytics_date", *DAILY_METRICS]
        export_order = fields


class ServiceAnalyticsResource(resources.ModelResource):
    class Meta:
        model = ServiceAnalytics
        exclude = ["created_at", "last_updated_at"]


class OrdersSummaryResource(resources.ModelResource):
    class Meta:
        model = OrdersSummary
        exclude = ["created_at", "updated_at"]


class ReferralResource(resources.ModelResource):
    class Meta:
        model = Referral
        exclude = ["updated_at"]


class ReferralRewardResource(resources.ModelResource):
    class Meta:
        model = ReferralReward
        fields = [
            "id",
            "referral",
            "customer",
            "reward_type",
            "reward_amount",
            "reward_status",
            "processed_at",
            "created_at",
        ]
