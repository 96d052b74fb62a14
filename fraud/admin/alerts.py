"""Fraud alerts: the triage queue, readable evidence, and the actions on an alert."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from simple_history.admin import SimpleHistoryAdmin

from customer_ops.admin_base import WRITES, RuleAwareAdmin
from customer_ops.durations import since
from customer_ops.errors import DomainError
from fraud import conf, precision, selectors, services, services_review
from fraud.admin.claims import ClaimedQueueMixin
from fraud.admin.common import (
    CappedImportMixin,
    DefaultChoiceFilter,
    FraudMedia,
    ReadOnlyHistory,
    customer_link,
    customer_panels,
    evidence_html,
    form_page,
    redirect_to,
    require,
    run,
    severity_badge,
)
from fraud.choices import AlertSeverity
from fraud.forms import ActionForm, PrecisionPeriodForm, ResolveForm, VersionField
from fraud.models import FraudAlert
from fraud.resources import FraudAlertResource

WORK = "fraud.change_fraudalert"
BULK_DECIDE = services.BULK_DECIDE
_SEVERITY_LABELS = dict(AlertSeverity.choices)  # not get_alert_severity_display's dict per row


class AlertStatusFilter(DefaultChoiceFilter):
    """Open alerts (the triage queue) by default."""

    title = "status"
    parameter_name = "status"
    index_columns = ("is_resolved",)
    default = "open"

    def lookups(self, request, model_admin):
        return [("open", "Open (triage queue)"), ("resolved", "Resolved"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(is_resolved=False)  # fraud_alerts_unresolved_idx
        if self.value() == "resolved":
            return queryset.filter(is_resolved=True)
        return queryset


@admin.register(FraudAlert)
class FraudAlertAdmin(ClaimedQueueMixin, ReadOnlyHistory, CappedImportMixin, SimpleHistoryAdmin, RuleAwareAdmin):
    claim_relation, done_field, label, waiting, done_word = "review", "is_resolved", "Alert", "open alert", "resolved"
    work_permission, service_kwarg = WORK, "alert"
    claim_of = staticmethod(services_review.alert_claim_of)
    claim_service = staticmethod(services.alert_claim)
    take_next_service = staticmethod(services.alert_take_next)
    reassign_service = staticmethod(services.alert_reassign)
    resource_classes = [FraudAlertResource]
    list_display = [
        "id",
        "customer",
        "alert_type",
        "severity",
        "age",
        "is_resolved",
        "held_by",
        "action_summary",
        "created_at",
    ]
    list_display_links = ["id"]
    list_filter = [AlertStatusFilter, "alert_severity", "alert_type"]
    search_fields = ["=id", "=customer__id", "=customer__email"]
    # The claim and its holder come with the page's one query (a reverse one-to-one join).
    list_select_related = ["customer", "review", "review__claimed_by"]
    change_select_related = ("customer",)  # the page's panels and link
    list_deferred = (
        *("order", "alert_description", "evidence", "action_taken_at", "action_taken_by"),
        *("resolved_at", "resolution_notes"),
        *("customer__email", "customer__phone", "customer__status", "customer__created_at", "customer__updated_at"),
        # The claim's holder and expiry only (the "held by" column).
        *("review__outcome", "review__reason_code", "review__decided_by", "review__decided_at"),
        *("review__alert_type", "review__model_version", "review__updated_at"),
        *("review__claimed_by__password", "review__claimed_by__last_login", "review__claimed_by__is_superuser"),
        *("review__claimed_by__email", "review__claimed_by__is_staff", "review__claimed_by__is_active"),
        "review__claimed_by__date_joined",
    )
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    change_form_template = "admin/fraud/fraudalert/change_form.html"
    import_export_change_list_template = "admin/fraud/fraudalert/change_list.html"  # + take next, report
    actions = ["resolve_selected"]
    history_list_display = ["is_resolved", "action_taken", "resolution_notes"]
    fieldsets = [
        (
            None,
            {"fields": ["customer_page", "order", "alert_type", "alert_severity", "alert_description", "created_at"]},
        ),
        ("Evidence", {"fields": ["evidence_display"]}),
        (
            "Handling",
            {
                "fields": [
                    "action_taken",
                    "action_taken_at",
                    "action_taken_by",
                    "is_resolved",
                    "resolved_at",
                    "resolution_notes",
                ]
            },
        ),
    ]
    readonly_fields = ["customer_page", "evidence_display"]
    Media = FraudMedia

    # Alerts come from the detection systems (or an import, or a suspicious activity);
    # they change only through the services below, and are never deleted.
    refused_writes = WRITES

    def has_work_permission(self, request):
        return request.user.has_perm(WORK)

    def has_bulk_decide_permission(self, request):
        return request.user.has_perm(BULK_DECIDE)

    def has_import_permission(self, request):
        return request.user.has_perm("fraud.add_fraudalert")

    def get_queryset(self, request):
        # Annotate before ordering: the queue is ordered by the severity rank.
        qs = self.model._default_manager.get_queryset().annotate(severity_rank=selectors.SEVERITY_RANK)
        return qs.order_by(*self.get_ordering(request))

    def object_query_key(self, request):
        return ()  # the same annotation for every request; only the ordering varies

    def get_ordering(self, request):
        if request.GET.get("status", "open") == "open":
            return ["severity_rank", "created_at", "id"]  # most severe, then oldest
        return ["-created_at", "-id"]

    @admin.display(description="Severity", ordering="severity_rank")
    def severity(self, obj):
        return severity_badge(obj.alert_severity, _SEVERITY_LABELS.get(obj.alert_severity, obj.alert_severity))

    @admin.display(description="Age")
    def age(self, obj):
        return since(obj.created_at, timezone.now())

    @admin.display(description="Action taken")
    def action_summary(self, obj):
        return (obj.action_taken[:60] + "…") if len(obj.action_taken) > 60 else obj.action_taken

    @admin.display(description="Customer")
    def customer_page(self, obj):
        return customer_link(obj.customer)

    @admin.display(description="Evidence")
    def evidence_display(self, obj):
        return evidence_html(obj.evidence)

    # --- pages -----------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/record-action/", view(self.record_action_view), name="fraud_fraudalert_action"),
            path("<path:object_id>/resolve/", view(self.resolve_view), name="fraud_fraudalert_resolve"),
            path("<path:object_id>/reassign/", view(self.reassign_view), name="fraud_fraudalert_reassign"),
            path("take-next/", view(self.take_next_view), name="fraud_fraudalert_take_next"),
            path("precision/", view(self.precision_view), name="fraud_fraudalert_precision"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        alert = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if alert is not None and self.has_view_permission(request, alert):
            can_work = self.has_work_permission(request) and not alert.is_resolved
            extra_context.update(self.claim_context(request, alert))
            block_query = {
                "customer": alert.customer_id,
                "alert": alert.pk,
                "block_reason": f"Fraud alert #{alert.pk}: {alert.get_alert_type_display()}",
                "block_reason_code": alert.alert_type,
            }
            extra_context.update(
                can_work=can_work,
                action_form=ActionForm(initial={"action_taken": alert.action_taken}),
                version=VersionField().prepare_value(services.row_version(alert)),
                resolve_form=ResolveForm(),
                can_block=request.user.has_perm("fraud.add_block"),
                block_url=f"{reverse('admin:fraud_block_add')}?{urlencode(block_query)}",
                customer_panels=customer_panels(request, alert.customer),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def precision_view(self, request):
        """Precision per alert type and per model version over a chosen period."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        initial = {"start": today - dt.timedelta(days=conf.PRECISION_DAYS - 1), "end": today}
        form = PrecisionPeriodForm(request.GET if "start" in request.GET else None, initial=initial)
        period = form.cleaned_data if form.is_bound and form.is_valid() else initial
        start = dt.datetime.combine(period["start"], dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(period["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        by_type = precision.by_alert_type(start, end)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Alert precision",
            "form": form,
            "period": period,
            "by_type": by_type,
            "by_model": precision.by_model_version(start, end),
            "overall": precision.total(by_type),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/fraud/fraudalert/precision.html", context)

    def _alert_for_work(self, request, object_id) -> FraudAlert:
        require(request, WORK)
        alert = self.get_object(request, object_id)
        if alert is None:
            raise Http404
        return alert

    def record_action_view(self, request, object_id):
        alert = self._alert_for_work(request, object_id)
        form = ActionForm(request.POST or None, initial={"version": services.row_version(alert)})
        if request.method == "POST" and form.is_valid():
            done = f"Action recorded on alert #{alert.pk}."
            kwargs = {"action": form.cleaned_data["action_taken"], "expected_version": form.cleaned_data["version"]}
            if run(request, services.alert_record_action, done, alert=alert, actor=request.user, **kwargs):
                return redirect_to(alert)
        return form_page(self, request, title=f"Record the action taken on alert #{alert.pk}", form=form, obj=alert)

    def resolve_view(self, request, object_id):
        alert = self._alert_for_work(request, object_id)
        form = ResolveForm(request.POST or None, initial={"version": services.row_version(alert)})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            kwargs = {"alert": alert, "notes": data["notes"], "action": data["action_taken"], "actor": request.user}
            kwargs |= {"outcome": data["outcome"], "reason_code": data["reason_code"]}
            kwargs["expected_version"] = data["version"]
            if run(request, services.alert_resolve, f"Alert #{alert.pk} resolved.", **kwargs):
                return redirect_to(alert)
        return form_page(self, request, title=f"Resolve alert #{alert.pk}", form=form, obj=alert)

    @admin.action(description="Decide selected alerts with one outcome", permissions=["bulk_decide"])
    def resolve_selected(self, request, queryset):
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            data = form.cleaned_data
            try:
                resolved, skipped = services.alerts_resolve(
                    alerts=list(queryset),
                    outcome=data["outcome"],
                    reason_code=data["reason_code"],
                    notes=data["notes"],
                    actor=request.user,
                )
            except DomainError as error:
                self.show_refusal(request, error)
                return None
            note = f" ({skipped} already resolved, left as they were)" if skipped else ""
            self.message_user(request, f"{resolved} alert(s) resolved{note}.", messages.SUCCESS)
            return None
        return form_page(
            self,
            request,
            title=f"Decide {queryset.count()} alert(s) with one outcome",
            form=form,
            extra={"bulk_action": "resolve_selected", "selected": queryset},
        )


def alert_link(alert) -> str:
    url = reverse("admin:fraud_fraudalert_change", args=[alert.pk])
    return format_html('<a href="{}">alert #{}</a>', url, alert.pk)
