"""Suspicious activity: the review queue, review, and raising a fraud alert from a row."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from customer_ops.admin_base import WRITES, RuleAwareAdmin
from customer_ops.errors import DomainError
from fraud import services, services_review
from fraud.admin.claims import ClaimedQueueMixin
from fraud.admin.common import (
    CappedImportMixin,
    DefaultChoiceFilter,
    FraudMedia,
    ReadOnlyHistory,
    customer_link,
    evidence_html,
    form_page,
    redirect_to,
    require,
    run,
)
from fraud.forms import RaiseAlertForm, ReviewForm
from fraud.models import SuspiciousActivity
from fraud.resources import SuspiciousActivityResource

WORK = "fraud.change_suspiciousactivity"


class ReviewQueueFilter(DefaultChoiceFilter):
    """Rows awaiting review (the queue) by default."""

    title = "review"
    parameter_name = "queue"
    index_columns = ("reviewed",)
    default = "awaiting"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting review (queue)"), ("reviewed", "Reviewed"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(requires_review=True, reviewed=False)  # suspicious_review_queue_idx
        if self.value() == "reviewed":
            return queryset.filter(reviewed=True)
        return queryset


@admin.register(SuspiciousActivity)
class SuspiciousActivityAdmin(
    ClaimedQueueMixin, ReadOnlyHistory, CappedImportMixin, SimpleHistoryAdmin, RuleAwareAdmin
):
    claim_relation, done_field, done_word = "claim", "reviewed", "reviewed"
    label, waiting = "Suspicious activity", "suspicious activity"
    work_permission, service_kwarg = WORK, "activity"
    claim_of = staticmethod(services_review.activity_claim_of)
    claim_service = staticmethod(services.activity_claim)
    take_next_service = staticmethod(services.activity_take_next)
    reassign_service = staticmethod(services.activity_reassign)
    resource_classes = [SuspiciousActivityResource]
    list_display = [
        "id",
        "customer",
        "activity_type",
        "detected_by",
        "detection_confidence",
        "risk_score",
        "reviewed",
        "held_by",
        "created_at",
        "raise_alert_link",
    ]
    list_filter = [ReviewQueueFilter, "activity_type", "detected_by"]
    search_fields = ["=id", "=customer__id", "=customer__email"]
    list_select_related = ["customer", "claim", "claim__claimed_by"]  # the holder: a join, not a query per row
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    change_form_template = "admin/fraud/suspiciousactivity/change_form.html"
    import_export_change_list_template = "admin/fraud/suspiciousactivity/change_list.html"  # + take next
    history_list_display = ["reviewed", "review_notes", "action_taken"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "customer_page",
                    "activity_type",
                    "activity_description",
                    "detected_by",
                    "detection_confidence",
                    "risk_score",
                    "created_at",
                ]
            },
        ),
        ("Evidence", {"fields": ["evidence_display", "action_recommended"]}),
        (
            "Review",
            {"fields": ["requires_review", "reviewed", "reviewed_at", "reviewed_by", "review_notes", "action_taken"]},
        ),
    ]
    readonly_fields = ["customer_page", "evidence_display"]
    Media = FraudMedia

    # Detected by the system or the ML models, or imported; reviewed through the pages below.
    refused_writes = WRITES

    def has_import_permission(self, request):
        return request.user.has_perm("fraud.add_suspiciousactivity")

    def get_ordering(self, request):
        if request.GET.get("queue", "awaiting") == "awaiting":
            return ["created_at", "id"]  # oldest first
        return ["-created_at", "-id"]

    @admin.display(description="")
    def raise_alert_link(self, obj):
        url = reverse("admin:fraud_suspiciousactivity_raise_alert", args=[obj.pk])
        return format_html('<a href="{}">Raise alert</a>', url)

    @admin.display(description="Customer")
    def customer_page(self, obj):
        return customer_link(obj.customer)

    @admin.display(description="Evidence")
    def evidence_display(self, obj):
        return evidence_html(obj.evidence)

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if not request.user.has_perm(WORK):
            shown.remove("raise_alert_link")
        return shown

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/review/", view(self.review_view), name="fraud_suspiciousactivity_review"),
            path("<path:object_id>/reassign/", view(self.reassign_view), name="fraud_suspiciousactivity_reassign"),
            path("take-next/", view(self.take_next_view), name="fraud_suspiciousactivity_take_next"),
            path(
                "<path:object_id>/raise-alert/",
                view(self.raise_alert_view),
                name="fraud_suspiciousactivity_raise_alert",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        activity = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if activity is not None:
            can_review = request.user.has_perm(WORK) and not activity.reviewed
            extra_context.update(
                can_work=request.user.has_perm(WORK), can_review=can_review, **self.claim_context(request, activity)
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _activity(self, request, object_id) -> SuspiciousActivity:
        require(request, WORK)
        activity = self.get_object(request, object_id)
        if activity is None:
            raise Http404
        return activity

    def review_view(self, request, object_id):
        activity = self._activity(request, object_id)
        initial = {"action_taken": activity.action_recommended, "version": services.row_version(activity)}
        form = ReviewForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            kwargs = {"activity": activity, "notes": data["notes"], "action_taken": data["action_taken"]}
            kwargs["expected_version"] = data["version"]
            if run(request, services.suspicious_review, "Reviewed.", actor=request.user, **kwargs):
                return redirect_to(activity)
        return form_page(self, request, title=f"Review suspicious activity #{activity.pk}", form=form, obj=activity)

    def raise_alert_view(self, request, object_id):
        """One click from the queue: a form prefilled from the activity, one more to raise it."""
        activity = self._activity(request, object_id)
        initial = {
            "alert_type": services.ALERT_TYPE_FOR_ACTIVITY.get(activity.activity_type),
            "alert_severity": services.severity_for_risk(activity.risk_score),
            "description": activity.activity_description,
        }
        form = RaiseAlertForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                alert = services.suspicious_raise_alert(
                    activity=activity,
                    alert_type=data["alert_type"],
                    severity=data["alert_severity"],
                    description=data["description"],
                    actor=request.user,
                )
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                self.message_user(request, f"Fraud alert #{alert.pk} raised from suspicious activity #{activity.pk}.")
                return HttpResponseRedirect(reverse("admin:fraud_fraudalert_change", args=[alert.pk]))
        return form_page(
            self,
            request,
            title=f"Raise a fraud alert from suspicious activity #{activity.pk}",
            form=form,
            obj=activity,
            intro="The activity's evidence is copied into the alert, and the activity is marked reviewed.",
            extra={"submit_label": "Raise alert"},
        )
