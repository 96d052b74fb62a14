from django.contrib import admin

from analytics.models import (
    ActivityLog,
    DailyAnalytics,
    LoginHistory,
    OrdersSummary,
    Referral,
    ReferralReward,
    ServiceAnalytics,
)
from customer_ops.admin_base import EstimatedCountPaginator, LogAdmin, RuleAwareAdmin


@admin.register(ActivityLog)
class ActivityLogAdmin(LogAdmin):
    # Fraud evidence: linked from the customer page and alerts, e.g. ?customer__id__exact=<id>
    # &activity_type=PAYMENT_FAILED (activity_log_customer_idx) or ?device_id=<id> (activity_log_device_idx).
    list_display = ["id", "customer", "activity_type", "service_type", "order", "device_id", "ip_address", "created_at"]
    list_filter = ["activity_type", "service_type"]
    search_fields = ["=customer__id", "=device_id", "=ip_address"]
    list_select_related = ["customer", "order"]


@admin.register(LoginHistory)
class LoginHistoryAdmin(LogAdmin):
    # Fraud evidence: failed logins by IP or device, linked from the customer page, alerts and the
    # linked-accounts summary as ?customer__id__exact=<id>&login_success__exact=0, ?device_id=<id>,
    # ?ip_address=<ip> (login_history_customer_idx / _device_idx / _ip_idx).
    list_display = [
        "id",
        "customer",
        "login_method",
        "login_success",
        "failure_reason",
        "device_type",
        "device_id",
        "ip_address",
        "ip_location",
        "created_at",
    ]
    list_filter = ["login_success", "login_method", "device_type"]
    search_fields = ["=customer__id", "=device_id", "=ip_address"]
    list_select_related = ["customer"]


class AggregateAdmin(RuleAwareAdmin):
    """The pre-aggregated tables: written by jobs, read by people."""

    paginator = EstimatedCountPaginator
    list_select_related = ["customer"]
    search_fields = ["=customer__id", "=customer__email"]
    autocomplete_fields = ["customer"]

    def has_add_permission(self, request):
        return False


@admin.register(DailyAnalytics)
class DailyAnalyticsAdmin(AggregateAdmin):
    list_display = [
        "analytics_date",
        "customer",
        "total_orders",
        "completed_orders",
        "cancelled_orders",
        "total_spent",
        "app_opens",
        "time_spent_minutes",
    ]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(ServiceAnalytics)
class ServiceAnalyticsAdmin(AggregateAdmin):
    list_display = [
        "customer",
        "service_type",
        "total_orders",
        "cancellation_rate",
        "total_spent",
        "average_order_value",
        "last_order_at",
    ]
    list_filter = ["service_type"]
    readonly_fields = ["created_at", "last_updated_at"]


@admin.register(OrdersSummary)
class OrdersSummaryAdmin(AggregateAdmin):
    list_display = [
        "customer",
        "service_type",
        "total_orders",
        "total_spent",
        "average_order_value",
        "last_order_at",
        "favorite_merchant_id",
    ]
    list_filter = ["service_type"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Referral)
class ReferralAdmin(RuleAwareAdmin):
    list_display = [
        "referral_code",
        "referrer_customer",
        "referred_customer",
        "referral_status",
        "completed_orders",
        "required_orders",
        "completion_deadline",
    ]
    list_filter = ["referral_status", "referrer_reward_given", "referred_reward_given"]
    search_fields = ["=referral_code", "=referrer_customer__id", "=referred_customer__id"]
    list_select_related = ["referrer_customer", "referred_customer"]
    autocomplete_fields = ["referrer_customer", "referred_customer"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(ReferralReward)
class ReferralRewardAdmin(RuleAwareAdmin):
    list_display = ["id", "referral", "customer", "reward_type", "reward_amount", "reward_status", "processed_at"]
    list_filter = ["reward_status", "reward_type"]
    search_fields = ["=customer__id", "=referral__referral_code", "=coupon_code"]
    list_select_related = ["referral", "customer"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["referral"]
    readonly_fields = ["created_at"]
