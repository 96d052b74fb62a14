from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from analytics import dashboard, resources, services
from analytics.choices import HoldStatus
from analytics.filters import dashboard_filters
from analytics.models import (
    ActivityLog,
    DailyAnalytics,
    Dashboard,
    LoginHistory,
    OrdersSummary,
    Referral,
    ReferralReward,
    RewardHold,
    ServiceAnalytics,
)
from customer_ops.admin_base import (
    WRITES,
    EstimatedCountPaginator,
    ExportAdminMixin,
    LogAdmin,
    ReadOnlyAdminMixin,
    RecentValuesListFilter,
    RuleAwareAdmin,
)
from customer_ops.errors import DomainError
from customer_ops.masking import PersonalDataMaskingMixin
from customer_ops.registry import charts
from customer_ops.replica import read_alias, read_replica


@admin.register(ActivityLog)
class ActivityLogAdmin(PersonalDataMaskingMixin, LogAdmin):
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
    # device_type is free text: its choices come from recent rows, not a DISTINCT over the log.
    list_filter = ["login_success", "login_method", ("device_type", RecentValuesListFilter)]
    search_fields = ["=customer__id", "=device_id", "=ip_address"]
    list_select_related = ["customer"]


class ExportViewMixin(ExportAdminMixin):
    """CSV/XLSX export of the filtered change list, for whoever may view the table."""

    def has_export_permission(self, request):
        # import-export allows every staff member by default: exports follow view rights.
        return self.has_view_permission(request)


class AggregateAdmin(ExportViewMixin, RuleAwareAdmin):
    """The pre-aggregated tables: written by jobs, read by people."""

    paginator = EstimatedCountPaginator
    list_select_related = ["customer"]
    search_fields = ["=customer__id"]
    autocomplete_fields = ["customer"]
    show_facets = admin.ShowFacets.NEVER

    # The jobs own every column.
    refused_writes = WRITES

    def export_action(self, request):
        # Rows the jobs refresh daily, as the dashboard's: the read replica (if any) serves the
        # export (docs/scaling.md). The right to export is checked on the primary first.
        if not self.has_export_permission(request):
            raise PermissionDenied
        with read_replica():
            return super().export_action(request)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # The CSV streams after the view has returned, outside read_replica(): pin its alias.
        return super()._do_file_export(file_format, request, queryset.using(read_alias()), export_form=export_form)


@admin.register(DailyAnalytics)
class DailyAnalyticsAdmin(AggregateAdmin):
    resource_classes = [resources.DailyAnalyticsResource]
    list_display = [
        "analytics_date",
        "customer_id",
        "total_orders",
        "completed_orders",
        "cancelled_orders",
        "total_spent",
        "app_opens",
        "time_spent_minutes",
    ]
    list_display_links = ["analytics_date"]
    list_select_related = []
    # daily_analytics_date_idx serves the date filter and the default ordering.
    list_filter = [("analytics_date", admin.DateFieldListFilter)]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(ServiceAnalytics)
class ServiceAnalyticsAdmin(AggregateAdmin):
    resource_classes = [resources.ServiceAnalyticsResource]
    list_display = [
        "customer_id",
        "service_type",
        "total_orders",
        "cancellation_rate",
        "total_spent",
        "average_order_value",
        "last_order_at",
        "favorite_merchant_ids",
    ]
    list_display_links = ["customer_id", "service_type"]
    list_select_related = []
    # Ordered by the unique (customer_id, service_type) index: a page stops early.
    list_filter = ["service_type"]
    readonly_fields = ["created_at", "last_updated_at"]


@admin.register(OrdersSummary)
class OrdersSummaryAdmin(AggregateAdmin):
    resource_classes = [resources.OrdersSummaryResource]
    list_display = [
        "customer_id",
        "service_type",
        "total_orders",
        "total_spent",
        "average_order_value",
        "last_order_at",
        "favorite_merchant_id",
    ]
    list_display_links = ["customer_id", "service_type"]
    list_select_related = []
    list_filter = ["service_type"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Referral)
class ReferralAdmin(ExportViewMixin, RuleAwareAdmin):
    resource_classes = [resources.ReferralResource]
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
    # The referral job owns progress and status; rewards are given through the reward services.
    readonly_fields = [
        "referral_status",
        "completed_orders",
        "completed_at",
        "referrer_reward_given",
        "referrer_reward_given_at",
        "referred_reward_given",
        "referred_reward_given_at",
        "created_at",
        "updated_at",
    ]


@admin.register(ReferralReward)
class ReferralRewardAdmin(ExportViewMixin, RuleAwareAdmin):
    resource_classes = [resources.ReferralRewardResource]
    list_display = [
        "id",
        "referral",
        "customer",
        "reward_type",
        "reward_amount",
        "reward_status",
        "hold_status",
        "processed_at",
    ]
    list_filter = ["reward_status", "reward_type"]
    search_fields = ["=customer__id", "=referral__referral_code", "=coupon_code"]
    list_select_related = ["referral", "customer", "hold"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["referral"]
    readonly_fields = ["created_at"]

    @admin.display(description="Fraud hold")
    def hold_status(self, obj):
        hold = getattr(obj, "hold", None)
        return hold.get_status_display() if hold else "—"

    # Rewards are created by the referral job and move only through analytics.services.
    refused_writes = ("add", "change")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("release", "Release: the reward is paid"), ("fail", "Fail: the reward is never paid")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@admin.register(RewardHold)
class RewardHoldAdmin(RuleAwareAdmin):
    """The fraud team's queue of held referral rewards, with the release/fail decision."""

    list_display = ["id", "reward", "reward_customer", "signals", "status", "created_at", "decided_by"]
    list_filter = ["status"]  # reward_hold_status_idx
    list_select_related = ["reward", "reward__customer", "decided_by"]
    search_fields = ["=reward__customer__id"]
    readonly_fields = [
        "reward",
        "shared_signals",
        "status",
        "decided_by",
        "decided_at",
        "decision_reason",
        "created_at",
    ]
    change_form_template = "admin/analytics/rewardhold/change_form.html"

    @admin.display(description="Customer")
    def reward_customer(self, obj):
        return obj.reward.customer

    @admin.display(description="Shared")
    def signals(self, obj):
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in (obj.shared_signals or {}).items() if v) or "—"

    refused_writes = ("add", "delete")

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="analytics_rewardhold_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_decide"] = request.user.has_perm(services.DECIDE_HOLD_PERMISSION)
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, pk: int):
        if not request.user.has_perm(services.DECIDE_HOLD_PERMISSION):
            raise PermissionDenied
        hold = get_object_or_404(RewardHold.objects.select_related("reward__customer", "reward__referral"), pk=pk)
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decide = (
                services.reward_hold_release
                if form.cleaned_data["decision"] == "release"
                else services.reward_hold_fail
            )
            try:
                decide(hold=hold, actor=request.user, reason=form.cleaned_data["reason"])
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                messages.success(request, f"Hold {hold.pk}: {form.cleaned_data['decision']}d.")
                return redirect(reverse("admin:analytics_rewardhold_change", args=[hold.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Decide on held reward {hold.reward_id}",
            "hold": hold,
            "form": form,
            "decided": hold.status != HoldStatus.HELD,
        }
        return TemplateResponse(request, "admin/analytics/rewardhold/decide.html", context)


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The analytics dashboard (for analysts and support leads: ``view_dashboard``)."""

    refused_writes = WRITES

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        filterset, f = dashboard_filters(request.GET)
        visible = [c for c in charts.ordered() if c.permission is None or request.user.has_perm(c.permission)]
        # Pre-aggregated, day-old data: the read replica (if any) serves it (docs/scaling.md).
        with read_replica():
            chart_data = {c.key: {"kind": c.kind, "title": c.title, **_chart_payload(c.data(f))} for c in visible}
            kpis = dashboard.kpis(f)
            cohorts = dashboard.cohort_retention(f)
            comparison = dashboard.referred_vs_organic(f)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Analytics dashboard",
            "filter": filterset,
            "f": f,
            "kpis": kpis,
            "charts": visible,
            "chart_data": chart_data,
            "cohorts": cohorts,
            "comparison": comparison,
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def _chart_payload(data: dict) -> dict:
    data = dict(data)
    stacked = bool(data.pop("stacked", False))
    return {"data": data, "stacked": stacked}
