"""Trust scores: the list, recalculation, the page that explains a score, and the fraud flag."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from simple_history.admin import SimpleHistoryAdmin

from customer_ops.admin_base import WRITES, EstimatedCountPaginator, RuleAwareAdmin
from customer_ops.models import Customer
from customer_ops.statements import STAND_IN, kept_rows
from fraud import conf, scoring, services
from fraud.admin.common import (
    FraudMedia,
    ReadOnlyHistory,
    customer_link,
    customer_panels,
    form_page,
    redirect_to,
    require,
    run,
)
from fraud.admin.common import severity_badge as badge
from fraud.forms import ConfirmFraudForm
from fraud.jobs import next_requested_run, recalculate_trust_scores, trust_inputs
from fraud.models import TrustRecalculation, TrustScore

RECALCULATE = "fraud.recalculate_trustscore"
CONFIRM = "fraud.confirm_fraud_trustscore"


def _summary(result) -> str:
    return (
        f"{result.customers} trust score(s) recalculated in {result.seconds:.2f}s; "
        f"{result.history_rows} moved, {len(result.risk_changes)} risk-level change(s)."
    )


@kept_rows(TrustScore.history.model, "pk")
def _latest_versions():
    """The score's last 16 versions, newest first, for its movements (a kept statement:
    customer_ops.statements)."""
    return TrustScore.history.model.objects.filter(id=STAND_IN).select_related("history_user")[:16]


@admin.register(TrustScore)
class TrustScoreAdmin(ReadOnlyHistory, SimpleHistoryAdmin, RuleAwareAdmin):
    list_display = ["customer", "trust_score", "fraud_score", "risk", "flags", "last_calculated_at"]
    list_filter = ["risk_level", "is_suspicious", "requires_review", "is_fraudulent"]
    search_fields = ["=customer__id", "=customer__email"]
    list_select_related = ["customer"]
    change_select_related = ("customer",)  # the page's panels and link
    list_per_page = 100
    paginator = EstimatedCountPaginator  # one row per customer: as big as the customer base
    show_facets = admin.ShowFacets.NEVER
    actions = ["recalculate_selected"]
    change_form_template = "admin/fraud/trustscore/change_form.html"
    change_list_template = "admin/fraud/trustscore/change_list.html"
    history_list_display = ["trust_score", "fraud_score", "risk_level"]
    fields = [
        "customer_page",
        "trust_score",
        "fraud_score",
        "risk_level",
        "is_fraudulent",
        "is_suspicious",
        "requires_review",
        "last_calculated_at",
    ]
    readonly_fields = ["customer_page"]
    Media = FraudMedia

    # Scores are the engine's ("auto-updated by the system"); the fraud flag is the
    # analysts' through its own page. Nothing is edited in place.
    refused_writes = WRITES

    def has_recalculate_permission(self, request):
        return request.user.has_perm(RECALCULATE)

    @admin.display(description="Risk", ordering="risk_level")
    def risk(self, obj):
        return badge(obj.risk_level, obj.get_risk_level_display())

    @admin.display(description="Flags")
    def flags(self, obj):
        shown = [("critical", "fraud", obj.is_fraudulent), ("high", "suspicious", obj.is_suspicious)]
        shown.append(("medium", "review", obj.requires_review))
        return format_html_join(" ", '<span class="badge badge-{}">{}</span>', [(c, t) for c, t, on in shown if on])

    @admin.display(description="Customer")
    def customer_page(self, obj):
        return customer_link(obj.customer)

    # --- pages -----------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recalculate-all/", view(self.recalculate_all_view), name="fraud_trustscore_recalculate_all"),
            path(
                "customer/<int:customer_id>/recalculate/",
                view(self.recalculate_customer_view),
                name="fraud_trustscore_recalculate_customer",
            ),
            path("<path:object_id>/confirm-fraud/", view(self.confirm_view), name="fraud_trustscore_confirm"),
            path("<path:object_id>/clear-fraud/", view(self.clear_view), name="fraud_trustscore_clear"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_recalculate": self.has_recalculate_permission(request),
            "recalculation": TrustRecalculation.objects.select_related("requested_by").first(),  # the latest
            "next_run": next_requested_run(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Here rather than in change_view: the page's object is read once, by the admin.
        score = obj
        if score is not None and self.has_view_permission(request, score):
            inputs = trust_inputs([score.customer_id])[score.customer_id]
            now = scoring.compute(inputs)
            stored = {k: getattr(score, k) for k in now.as_row()}
            history = _latest_versions(pk=score.pk)
            context.update(
                inputs=inputs,
                current=now,
                explanation=[(c, getattr(score, c.field)) for c in scoring.explain(inputs, now)],
                signals=scoring.signal_lines(inputs),
                stale=score.last_calculated_at is None or now.as_row() != stored,
                movements=scoring.movements(history)[:15],
                component_labels=scoring.COMPONENT_LABELS,
                conf=conf,
                thresholds=conf.RISK_THRESHOLDS,
                can_recalculate=self.has_recalculate_permission(request),
                can_confirm=request.user.has_perm(CONFIRM),
                customer_panels=customer_panels(request, score.customer),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Recalculate selected trust scores", permissions=["recalculate"])
    def recalculate_selected(self, request, queryset):
        # Bounded work in the request ("select all" over every customer is the job's).
        ids = list(queryset.values_list("customer_id", flat=True)[: conf.RECALCULATE_IN_REQUEST_MAX + 1])
        if len(ids) > conf.RECALCULATE_IN_REQUEST_MAX:
            self.message_user(
                request,
                f"More than {conf.RECALCULATE_IN_REQUEST_MAX:,} scores selected: use \u201cRecalculate all\u201d, "
                "which the scheduled job runs.",
                messages.WARNING,
            )
            return
        self.message_user(request, _summary(recalculate_trust_scores(ids)), messages.SUCCESS)

    def recalculate_all_view(self, request):
        """Queue a full recalculation for the job: it takes minutes at scale, never a request."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require(request, RECALCULATE)
        queued, new = services.trust_recalculation_request(actor=request.user)
        when = timezone.localtime(next_requested_run()).strftime("%H:%M")
        self.message_user(
            request,
            ("Full recalculation queued" if new else "A full recalculation is already queued or running")
            + f": the job starts it at {when} at the latest; this page shows its progress.",
            messages.SUCCESS if new else messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:fraud_trustscore_changelist"))

    def recalculate_customer_view(self, request, customer_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require(request, RECALCULATE)
        customer = get_object_or_404(Customer, pk=customer_id)
        self.message_user(request, _summary(recalculate_trust_scores([customer.pk])), messages.SUCCESS)
        score = TrustScore.objects.get(customer=customer)
        next_url = request.POST.get("next")
        if next_url == "trust":
            return redirect_to(score)
        return HttpResponseRedirect(reverse("admin:customer_ops_customer_change", args=[customer.pk]))

    def _score(self, request, object_id, permission: str) -> TrustScore:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        score = self.get_object(request, object_id)
        if score is None:
            raise Http404
        return score

    def confirm_view(self, request, object_id):
        score = self._score(request, object_id, CONFIRM)
        form = ConfirmFraudForm(request.POST or None, initial={"version": services.row_version(score)})
        if request.method == "POST" and form.is_valid():
            kwargs = {"notes": form.cleaned_data["notes"], "expected_version": form.cleaned_data["version"]}
            done = "Fraud confirmed: the customer is flagged as fraudulent and CRITICAL."
            if run(request, services.trust_confirm_fraud, done, customer=score.customer, actor=request.user, **kwargs):
                return redirect_to(score)
        return form_page(
            self,
            request,
            title=f"Confirm customer #{score.customer_id} as fraudulent",
            form=form,
            obj=score,
            intro="Only an analyst's confirmation sets the fraud flag; the engine never does. "
            "The customer stays CRITICAL until the confirmation is withdrawn.",
            extra={"submit_label": "Confirm fraud"},
        )

    def clear_view(self, request, object_id):
        score = self._score(request, object_id, CONFIRM)
        form = ConfirmFraudForm(request.POST or None, initial={"version": services.row_version(score)})
        if request.method == "POST" and form.is_valid():
            kwargs = {"notes": form.cleaned_data["notes"], "expected_version": form.cleaned_data["version"]}
            done = "Fraud confirmation withdrawn; the scores were recalculated."
            if run(request, services.trust_clear_fraud, done, customer=score.customer, actor=request.user, **kwargs):
                return redirect_to(score)
        return form_page(
            self,
            request,
            title=f"Withdraw the fraud confirmation of customer #{score.customer_id}",
            form=form,
            obj=score,
            extra={"submit_label": "Withdraw"},
        )
