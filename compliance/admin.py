"""Compliance console: deletion requests end to end, consent, the audit trail, the access log.

Every write calls :mod:`compliance.services`; every custom page checks its permission on
the server (403), not only by hiding a link.
"""

from __future__ import annotations

import datetime as dt
import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from compliance import conf, dsr, erasure, export, holds, recipients, selectors, services
from compliance.choices import (
    AccessKind,
    AccessRequestStatus,
    ConsentMethod,
    ConsentStatus,
    ConsentType,
    RequestStatus,
)
from compliance.dsr_admin import RequestHandlingAdminMixin, deadline_html, refusal_reason_field, wording_list
from compliance.holds import open_holds
from compliance.models import AccessLog, AccessRequest, AuditLog, ConsentLog, DataDeletionRequest, ErasureRecipient
from customer_ops.admin_base import EstimatedCountPaginator, LogAdmin, RuleAwareAdmin
from customer_ops.bad_input import is_valid_value
from customer_ops.errors import DomainError
from customer_ops.models import Customer
from customer_ops.personal_data import Scope

PROCESS = "compliance.process_datadeletionrequest"
EXPORT = "compliance.export_customer_data"


# --- filters -----------------------------------------------------------------------------


class InputFilter(admin.SimpleListFilter):
    """A filter typed into a box (an id), for columns with too many values to list."""

    template = "admin/compliance/input_filter.html"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def number(self) -> int | None:
        try:
            return int(self.value()) if self.value() else None
        except (TypeError, ValueError):
            return None

    def choices(self, changelist):
        others = [(k, v) for k, v in changelist.get_filters_params().items() if k != self.parameter_name and k != "p"]
        yield {"parameter_name": self.parameter_name, "value": self.value() or "", "others": others}


class CustomerIdFilter(InputFilter):
    title = "customer id"
    parameter_name = "customer_id"
    index_columns = ("customer_id",)

    def queryset(self, request, queryset):
        number = self.number()
        return queryset if number is None else queryset.filter(customer_id=number)


class ActorIdFilter(InputFilter):
    """Staff actors (the audit log's ADMIN/AGENT rows); served by audit_log_actor_idx."""

    title = "staff actor id"
    parameter_name = "actor"
    index_columns = ("actor_type",)

    def queryset(self, request, queryset):
        number = self.number()
        return queryset if number is None else queryset.filter(actor_type__in=["ADMIN", "AGENT"], actor_id=number)


class StaffIdFilter(InputFilter):
    title = "staff member id"
    parameter_name = "staff_id"
    index_columns = ("staff_id",)

    def queryset(self, request, queryset):
        number = self.number()
        return queryset if number is None else queryset.filter(staff_id=number)


class ErasureDeadlineFilter(admin.SimpleListFilter):
    """The statutory deadline (``GDPR_ERASURE_DAYS`` from ``requested_at``): deletion_requests_status_idx."""

    title = "statutory deadline"
    parameter_name = "deadline"
    index_columns = ("request_status",)

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("week", "Due within 7 days")]

    def queryset(self, request, queryset):
        return selectors.by_deadline(queryset, self.value()) if self.value() else queryset


class HoldFilter(admin.SimpleListFilter):
    """Open requests whose customer a legal hold applies to, by the hold's reason."""

    title = "legal hold"
    parameter_name = "held"
    index_columns = ("request_status",)

    def lookups(self, request, model_admin):
        return [(holds.rule_key(rule), f"Held: {rule.reason}") for rule in holds.HOLD_RULES]

    def queryset(self, request, queryset):
        for rule in holds.HOLD_RULES:
            if self.value() == holds.rule_key(rule):
                return holds.held_requests(queryset.filter(request_status__in=selectors.OPEN_REQUESTS), rule)
        return queryset


class CompletedFilter(admin.SimpleListFilter):
    """Erasures carried out since Monday (the compliance home page's "done this week")."""

    title = "completed"
    parameter_name = "completed"
    index_columns = ("request_status",)

    def lookups(self, request, model_admin):
        return [("week", "This week")]

    def queryset(self, request, queryset):
        if self.value() == "week":
            return selectors.completed_this_week(queryset)
        return queryset


class UnconfirmedFilter(admin.SimpleListFilter):
    """Completed erasures with a system that has not confirmed after the confirmation days
    (compliance's home tile; compliance.recipients)."""

    title = "other systems"
    parameter_name = "unconfirmed"
    index_columns = ("request_status",)

    def lookups(self, request, model_admin):
        return [("late", f"A system unconfirmed after {settings.ERASURE_CONFIRMATION_DAYS} days")]

    def queryset(self, request, queryset):
        if self.value() == "late":
            return recipients.unconfirmed_after(queryset)
        return queryset


def _customer_link(customer_id: int):
    return format_html(
        '<a href="{}">#{}</a>', reverse("admin:customer_ops_customer_change", args=[customer_id]), customer_id
    )


# --- consent -----------------------------------------------------------------------------


class ConsentForm(forms.Form):
    customer = forms.IntegerField(label="Customer id", min_value=1)
    consent_type = forms.ChoiceField(choices=ConsentType.choices)
    consent_status = forms.ChoiceField(choices=ConsentStatus.choices)
    consent_method = forms.ChoiceField(choices=ConsentMethod.choices)
    consent_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The text shown.")
    ip_address = forms.GenericIPAddressField(required=False, help_text="The customer's, if known.")
    user_agent = forms.CharField(required=False, max_length=500)

    def clean_customer(self):
        customer = Customer.objects.filter(pk=self.cleaned_data["customer"]).first()
        if customer is None:
            raise forms.ValidationError("No customer with this id.")
        return customer


@admin.register(ConsentLog)
class ConsentLogAdmin(LogAdmin):
    list_display = ["id", "customer_ref", "consent_type", "consent_status", "consent_method", "created_at"]
    list_filter = [CustomerIdFilter, "consent_type", "consent_status", "consent_method"]
    search_fields = ["=customer__id"]
    change_list_template = "admin/compliance/consentlog/change_list.html"

    @admin.display(description="Customer", ordering="customer_id")
    def customer_ref(self, obj):
        return _customer_link(obj.customer_id)

    def get_urls(self):
        return [
            path("record/", self.admin_site.admin_view(self.record_view), name="compliance_consentlog_record"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_record": request.user.has_perm("compliance.add_consentlog")}
        return super().changelist_view(request, extra_context)

    def record_view(self, request):
        if not request.user.has_perm("compliance.add_consentlog"):
            raise PermissionDenied
        form = ConsentForm(request.POST or None, initial={"customer": request.GET.get("customer")})
        if request.method == "POST" and form.is_valid():
            try:
                services.consent_record(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                customer = form.cleaned_data["customer"]
                self.message_user(request, "Consent change recorded.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:customer_ops_customer_change", args=[customer.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "Record a consent change"}
        return TemplateResponse(request, "admin/compliance/form_page.html", {**context, "form": form})


# --- deletion requests -------------------------------------------------------------------


class DeletionRequestForm(forms.ModelForm):
    deletion_scope = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, help_text="Everything = every scope."
    )

    class Meta:
        model = DataDeletionRequest
        fields = ["customer", "deletion_scope", "request_reason", "requested_at"]

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if (
            customer
            and DataDeletionRequest.objects.filter(
                customer=customer, request_status__in=[RequestStatus.PENDING, RequestStatus.PROCESSING]
            ).exists()
        ):
            raise forms.ValidationError("This customer already has an open deletion request.")
        if cleaned.get("requested_at") and cleaned["requested_at"] > timezone.now():
            self.add_error("requested_at", "The request date cannot be in the future.")
        return cleaned


class VersionField(forms.IntegerField):
    """The request's version as the page showed it (``services.deletion_request_version``),
    sent back as ``expected_version``: a request changed meanwhile is refused, not decided
    unseen. Empty (a page from before it was sent): no check."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=0, **kwargs)
        self.error_messages = {
            key: "The page's version is unreadable: reload the page and try again." for key in ("invalid", "min_value")
        }


class ApproveForm(forms.Form):
    version = VersionField()


class RejectForm(forms.Form):
    refusal_reason = refusal_reason_field()
    rejection_reason = forms.CharField(label="Explanation", widget=forms.Textarea(attrs={"rows": 3}))
    version = VersionField()


@admin.register(DataDeletionRequest)
class DataDeletionRequestAdmin(RequestHandlingAdminMixin, RuleAwareAdmin):
    form = DeletionRequestForm
    process_permission = PROCESS
    url_prefix = "compliance_deletion"
    list_select_related = ["handling"]  # the effective deadline per row
    list_display = [
        "request_id",
        "customer_ref",
        "request_status",
        "scopes",
        "requested_at",
        "statutory_deadline",
        "processed_at",
        "completed_at",
    ]
    list_filter = ["request_status", ErasureDeadlineFilter, HoldFilter, CompletedFilter, UnconfirmedFilter]
    search_fields = ["=request_id", "=customer__id"]
    autocomplete_fields = ["customer"]
    readonly_fields = [
        "request_id",
        "customer",
        "request_status",
        "deletion_scope",
        "request_reason",
        "requested_at",
        "statutory_deadline",
        "processed_at",
        "processed_by",
        "completed_at",
        "rejection_reason",
        "created_at",
        "systems_confirmed",
        "handling_summary",
    ]
    change_form_template = "admin/compliance/datadeletionrequest/change_form.html"
    show_facets = admin.ShowFacets.NEVER

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else DeletionRequestForm.Meta.fields

    # Every change is a workflow step (approve, reject, run); the request is the record of the erasure.
    refused_writes = ("change", "delete")

    @admin.display(description="Customer", ordering="customer_id")
    def customer_ref(self, obj):
        return _customer_link(obj.customer_id)

    @admin.display(description="Other systems (erasure fan-out)")
    def systems_confirmed(self, obj):
        rows = list(obj.recipients.order_by("system")) if obj and obj.pk else []
        if not rows:
            return "-"
        closed = "fully closed" if recipients.fully_closed(obj) else "not fully closed"
        link = reverse("admin:compliance_erasurerecipient_changelist") + f"?q={obj.request_id}"
        items = format_html_join("", "<li>{}: {}</li>", ((r.system, r.confirmed_at or r.state) for r in rows))
        return format_html('<ul>{}</ul><p>{} (<a href="{}">details</a>)</p>', items, closed, link)

    @admin.display(description="Scopes")
    def scopes(self, obj):
        return ", ".join(obj.deletion_scope)

    @admin.display(description="Statutory deadline")
    def statutory_deadline(self, obj):
        if obj is None or obj.requested_at is None:
            return "-"
        if obj.request_status == RequestStatus.REJECTED:
            return f"{services.erasure_deadline(obj).due_at:%Y-%m-%d} (rejected)"
        return deadline_html(obj, done_at=obj.completed_at)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.deletion_request_create(
            customer=data["customer"],
            scopes=data["deletion_scope"],
            reason=data.get("request_reason", ""),
            requested_at=data.get("requested_at"),
            actor=request.user,
        )
        obj.pk, obj.request_id, obj._state.adding = created.pk, created.request_id, False

    def get_urls(self):
        return [
            path(
                "<int:pk>/approve/", self.admin_site.admin_view(self.approve_view), name="compliance_deletion_approve"
            ),
            path("<int:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="compliance_deletion_reject"),
            path(
                "<int:pk>/certificate/",
                # POST with CSRF: the download is recorded in the access log, so a cross-site
                # link must not be able to create a "who looked" entry.
                self.admin_site.admin_view(require_POST(self.certificate_view)),
                name="compliance_deletion_certificate",
            ),
            *self.handling_urls(),
            *super().get_urls(),
        ]

    change_select_related = ("customer", "handling")  # the customer link, the deadline

    def get_object(self, request, object_id, from_field=None):
        # One read per page view (change_view's; changeform_view asks again).
        memo = request.__dict__.setdefault("_deletion_requests", {})
        key = (str(object_id), from_field)
        if key not in memo:
            memo[key] = super().get_object(request, object_id, from_field)
        return memo[key]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The version first, the request and its plan after: what the officer sees is never
        # older than the version the decision sends back (a write between is a conflict).
        version = None
        if request.user.has_perm(PROCESS) and str(object_id).isdigit():
            version = services.deletion_request_version_of(int(object_id))
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None and self.has_view_permission(request, obj):
            can_process = version is not None and obj.request_status == RequestStatus.PENDING
            if not can_process:
                version = None
            run = getattr(obj, "erasure", None) if obj.request_status != RequestStatus.PENDING else None
            if obj.request_status == RequestStatus.PENDING:
                plan = erasure.plan_for(obj)
            else:
                plan = run.plan if run else None
            recorder_id, recorder_name = services.deletion_request_recorder(obj)
            extra_context.update(
                recorder=recorder_name,
                job_every=conf.ERASURE_JOB_EVERY_MINUTES,
                recorded_by_you=recorder_id is not None and recorder_id == request.user.pk,
                next_job_run=next_job_run() if obj.request_status == RequestStatus.PROCESSING else None,
                plan=plan,
                plan_tables=[t for t in (plan or {}).get("tables", []) if t["rows"] or t["kept"]],
                run=run,
                report=_report(run),
                holds=open_holds(obj.customer_id) if obj.request_status in {"PENDING", "PROCESSING"} else [],
                can_process=can_process,
                can_extend=request.user.has_perm(PROCESS) and obj.request_status in selectors.OPEN_REQUESTS,
                refusal_wording=wording_list(),
                version=version,
                reject_form=RejectForm(initial={"version": version}),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _processable(self, request, pk) -> DataDeletionRequest:
        if not request.user.has_perm(PROCESS):
            raise PermissionDenied
        return get_object_or_404(DataDeletionRequest, pk=pk)

    def approve_view(self, request, pk):
        obj = self._processable(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:compliance_datadeletionrequest_change", args=[pk]))
        form = ApproveForm(request.POST)
        if not form.is_valid():
            for message in form.errors.get("version", []):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:compliance_datadeletionrequest_change", args=[pk]))
        try:
            services.deletion_request_approve(
                request=obj, actor=request.user, expected_version=form.cleaned_data["version"]
            )
        except DomainError as error:
            self.show_refusal(request, error)
        else:
            self.message_user(
                request,
                f"{obj.request_id} approved: the erasure job carries it out at {next_job_run():%H:%M} UTC "
                f"(it runs every {conf.ERASURE_JOB_EVERY_MINUTES} minutes); this page shows its progress.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:compliance_datadeletionrequest_change", args=[pk]))

    def reject_view(self, request, pk):
        obj = self._processable(request, pk)
        form = RejectForm(request.POST or None, initial={"version": services.deletion_request_version(obj)})
        if request.method == "POST" and form.is_valid():
            try:
                services.deletion_request_reject(
                    request=obj,
                    reason=form.cleaned_data["rejection_reason"],
                    refusal_reason=form.cleaned_data["refusal_reason"],
                    actor=request.user,
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                self.message_user(request, f"{obj.request_id} rejected.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_datadeletionrequest_change", args=[pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": f"Reject {obj.request_id}"}
        return TemplateResponse(request, "admin/compliance/form_page.html", {**context, "form": form})

    def certificate_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(DataDeletionRequest.objects.select_related("erasure"), pk=pk)
        run = getattr(obj, "erasure", None)
        if run is None:
            raise PermissionDenied
        try:
            document = erasure.certificate(run)
        except DomainError as error:  # not completed: no certificate yet
            self.show_refusal(request, error)
            return HttpResponseRedirect(reverse("admin:compliance_datadeletionrequest_change", args=[pk]))
        services.access_record(
            staff=request.user,
            customer_id=obj.customer_id,
            kind=AccessKind.CERTIFICATE,
            detail=obj.request_id,
            request=request,
        )
        response = HttpResponse(json.dumps(document, indent=2, sort_keys=True), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="erasure-certificate-{obj.request_id}.json"'
        return response


def next_job_run(now: dt.datetime | None = None) -> dt.datetime:
    """When ``process_deletion_requests`` next starts: the next multiple of
    ``ERASURE_JOB_EVERY_MINUTES`` past the hour (the cron schedule), in UTC."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    every = conf.ERASURE_JOB_EVERY_MINUTES
    start = now.replace(minute=0, second=0, microsecond=0)
    return start + dt.timedelta(minutes=every * (now.minute // every + 1))


def _report(run) -> list[dict]:
    if run is None:
        return []
    plan = {t["step"]: t for t in run.plan.get("tables", [])}
    rows = []
    for step, progress in sorted(run.progress.items()):
        planned = plan.get(step, {})
        if not (progress["rows"] or progress["held"] or planned.get("rows")):
            continue
        rows.append(
            {
                "table": planned.get("table", step),
                "action": planned.get("action", ""),
                "planned": planned.get("rows", 0),
                "done": progress["rows"],
                "held": len(progress["held"]),
                "finished": progress["done"],
            }
        )
    return rows


# --- access requests (right of access) ---------------------------------------------------

PROCESS_ACCESS = "compliance.process_accessrequest"


class AccessRequestForm(forms.ModelForm):
    class Meta:
        model = AccessRequest
        fields = ["customer", "request_reason"]

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if customer and selectors.pending_access_request(customer.pk) is not None:
            raise forms.ValidationError("This customer already has a pending access request.")
        return cleaned


class PendingAccessFilter(admin.SimpleListFilter):
    """Open requests (pending, or approved with no export yet) by effective deadline
    (:func:`compliance.selectors.by_deadline`, as the deletion list's), and those awaiting a
    decision. access_requests_status_idx."""

    title = "statutory deadline"
    parameter_name = "deadline"
    index_columns = ("status",)

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("week", "Due within 7 days"), ("pending", "Awaiting a decision")]

    def queryset(self, request, queryset):
        if self.value() in ("overdue", "week"):
            return selectors.by_deadline(queryset, self.value())
        if self.value() == "pending":
            return selectors.access_requests_pending(queryset)
        return queryset


@admin.register(AccessRequest)
class AccessRequestAdmin(RequestHandlingAdminMixin, RuleAwareAdmin):
    """Right-of-access requests: recorded here or by the privacy portal, decided under four
    eyes; an approved request's page offers the customer's data export, whose download
    completes the request (recorded against it and in the access log, like every export)."""

    form = AccessRequestForm
    process_permission = PROCESS_ACCESS
    url_prefix = "compliance_access"
    list_display = [
        "request_id",
        "customer_ref",
        "status",
        "requested_at",
        "deadline",
        "recorded",
        "decided_at",
        "completed_at",
    ]
    # "Recorded by" names the staff member; the deadline reads the handling row
    list_select_related = ["recorded_by", "handling"]
    change_select_related = ("customer", "recorded_by", "handling")  # the page's links and deadline
    list_filter = ["status", PendingAccessFilter]
    search_fields = ["=request_id", "=customer__id"]
    autocomplete_fields = ["customer"]
    readonly_fields = [
        "request_id",
        "customer",
        "status",
        "request_reason",
        "requested_at",
        "recorded",
        "decided_at",
        "decided_by",
        "rejection_reason",
        "completion",
        "deadline",
        "handling_summary",
        "exports",
    ]
    change_form_template = "admin/compliance/accessrequest/change_form.html"
    show_facets = admin.ShowFacets.NEVER
    refused_writes = ("change", "delete")  # every change is a decision (approve, reject)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else AccessRequestForm.Meta.fields

    @admin.display(description="Customer", ordering="customer_id")
    def customer_ref(self, obj):
        return _customer_link(obj.customer_id)

    @admin.display(description="Deadline")
    def deadline(self, obj):
        if obj is None or obj.requested_at is None:
            return "-"
        if obj.status in selectors.OPEN_ACCESS_REQUESTS:
            return deadline_html(obj)
        if obj.status == AccessRequestStatus.COMPLETED:
            return deadline_html(obj, done_at=obj.completed_at)
        return f"{dsr.due_at(obj):%Y-%m-%d} ({obj.get_status_display().lower()})"

    @admin.display(description="Completed by the export")
    def completion(self, obj):
        if obj is None or obj.export_log_id is None:
            return "-"
        log = obj.export_log
        return f"{obj.completed_at:%Y-%m-%d %H:%M} by {_staff_name(log.staff)}: {log.detail}"

    @admin.display(description="Exports downloaded for this request")
    def exports(self, obj):
        rows = selectors.request_exports(obj) if obj is not None and obj.pk else []
        if not rows:
            return "-"
        return format_html_join(
            "",
            "<div>{} by {}: {}</div>",
            ((f"{r.created_at:%Y-%m-%d %H:%M}", _staff_name(r.staff), r.detail) for r in rows),
        )

    @admin.display(description="Recorded by")
    def recorded(self, obj):
        if obj.recorded_by_id:
            return _staff_name(obj.recorded_by)
        return obj.recorded_via or "-"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.access_request_create(
            customer=data["customer"], reason=data.get("request_reason", ""), actor=request.user
        )
        obj.pk, obj.request_id, obj._state.adding = created.pk, created.request_id, False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as error:  # a pending request recorded meanwhile (the form checked before)
            self.show_refusal(request, error)
            return HttpResponseRedirect(reverse("admin:compliance_accessrequest_add"))

    def get_urls(self):
        return [
            path("<int:pk>/approve/", self.admin_site.admin_view(self.approve_view), name="compliance_access_approve"),
            path("<int:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="compliance_access_reject"),
            *self.handling_urls(),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None and self.has_view_permission(request, obj):
            pending = obj.status == AccessRequestStatus.PENDING
            exportable = obj.status in (AccessRequestStatus.APPROVED, AccessRequestStatus.COMPLETED)
            extra_context.update(
                can_process=pending and request.user.has_perm(PROCESS_ACCESS),
                recorded_by_you=obj.recorded_by_id is not None and obj.recorded_by_id == request.user.pk,
                can_export=exportable and request.user.has_perm(EXPORT),
                completed=obj.status == AccessRequestStatus.COMPLETED,
                can_extend=obj.status in selectors.OPEN_ACCESS_REQUESTS and request.user.has_perm(PROCESS_ACCESS),
                refusal_wording=wording_list(access=True),
                version=obj.updated_at.isoformat(),
                reject_form=RejectForm(),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _decision(self, request, pk) -> tuple[AccessRequest, dt.datetime | None]:
        if not request.user.has_perm(PROCESS_ACCESS):
            raise PermissionDenied
        obj = get_object_or_404(AccessRequest, pk=pk)
        version = parse_datetime(request.POST.get("version") or "") if request.method == "POST" else None
        return obj, version

    def approve_view(self, request, pk):
        obj, version = self._decision(request, pk)
        if request.method == "POST":
            try:
                services.access_request_approve(request=obj, actor=request.user, expected_version=version)
            except DomainError as error:
                self.show_refusal(request, error)
            else:
                self.message_user(
                    request,
                    f"{obj.request_id} approved: download the customer's data export below to complete it.",
                    messages.SUCCESS,
                )
        return HttpResponseRedirect(reverse("admin:compliance_accessrequest_change", args=[pk]))

    def reject_view(self, request, pk):
        obj, version = self._decision(request, pk)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.access_request_reject(
                    request=obj,
                    reason=form.cleaned_data["rejection_reason"],
                    refusal_reason=form.cleaned_data["refusal_reason"],
                    actor=request.user,
                    expected_version=version,
                )
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                self.message_user(request, f"{obj.request_id} rejected.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:compliance_accessrequest_change", args=[pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": f"Reject {obj.request_id}"}
        return TemplateResponse(request, "admin/compliance/form_page.html", {**context, "form": form})


def _staff_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "-"


# --- audit log ---------------------------------------------------------------------------


@admin.register(AuditLog)
class AuditLogAdmin(LogAdmin):
    list_display = [
        "created_at",
        "customer_ref",
        "action_type",
        "action_field",
        "old_value",
        "new_value",
        "action_reason",
        "actor_type",
        "actor_name",
        "ip_address",
    ]
    # Each served by an index: customer (audit_log_customer_idx), actor (audit_log_actor_idx),
    # date (audit_log_created_idx); action and actor types are small enums on top of those.
    list_filter = [
        CustomerIdFilter,
        ActorIdFilter,
        "action_type",
        "actor_type",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=customer__id"]

    @admin.display(description="Customer", ordering="customer_id")
    def customer_ref(self, obj):
        trail = reverse("admin:compliance_auditlog_trail", args=[obj.customer_id])
        return format_html('{} <a href="{}" title="whole trail">(trail)</a>', _customer_link(obj.customer_id), trail)

    def get_urls(self):
        return [
            path(
                "customer/<int:customer_id>/trail/",
                self.admin_site.admin_view(self.trail_view),
                name="compliance_auditlog_trail",
            ),
            *super().get_urls(),
        ]

    def trail_view(self, request, customer_id):
        """A customer's whole trail, oldest first, a page at a time (keyset on created_at, id)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        rows = AuditLog.objects.filter(customer_id=customer_id).order_by("created_at", "id")
        after_id = request.GET.get("after") or "0"
        if not is_valid_value(AuditLog._meta.pk, after_id):
            raise BadRequest("after= takes the id of an audit entry.")
        after = AuditLog.objects.filter(pk=after_id, customer_id=customer_id).first()
        if after is not None:
            rows = rows.filter(Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, id__gt=after.pk))
        page = list(rows[: conf.AUDIT_TRAIL_PAGE_SIZE + 1])
        more = len(page) > conf.AUDIT_TRAIL_PAGE_SIZE
        page = page[: conf.AUDIT_TRAIL_PAGE_SIZE]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Audit trail of customer #{customer.pk}",
            "customer": customer,
            "rows": page,
            "next_after": page[-1].pk if more else None,
        }
        return TemplateResponse(request, "admin/compliance/auditlog/trail.html", context)


# --- access log --------------------------------------------------------------------------


@admin.register(AccessLog)
class AccessLogAdmin(LogAdmin):
    list_display = ["created_at", "staff", "customer_ref", "kind", "detail", "ip_address"]
    list_filter = [CustomerIdFilter, StaffIdFilter, "kind", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["staff"]
    paginator = EstimatedCountPaginator

    @admin.display(description="Customer", ordering="customer_id")
    def customer_ref(self, obj):
        return _customer_link(obj.customer_id)

    def get_urls(self):
        return [
            path(
                "export/<int:customer_id>/",
                self.admin_site.admin_view(self.export_view),
                name="compliance_customer_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, customer_id):
        """Right of access: the customer's data as one zip, streamed; the download is recorded.

        POST only (with the admin's CSRF check): a download writes an access-log row, so a
        cross-site link or an image tag must not be able to make one."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(EXPORT):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        fmt = request.POST.get("format", "json")
        if fmt not in export.FORMATS:
            fmt = "json"
        # From an approved access request's page: the download completes the request and is
        # recorded against it; from elsewhere, in the access log only.
        answered = selectors.exportable_access_request(customer.pk, request.POST.get("access_request", ""))
        if answered is not None:
            services.access_request_export(request=answered, fmt=fmt, actor=request.user, http_request=request)
        else:
            services.access_record(
                staff=request.user,
                customer_id=customer.pk,
                kind=AccessKind.EXPORT,
                detail=f"{fmt} archive",
                request=request,
            )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            export.stream_customer(customer.pk, user=request.user, fmt=fmt), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-{stamp}-{fmt}.zip"'
        return response


class WaiverForm(ActionForm):
    waiver_reason = forms.CharField(required=False, label="Why it will not confirm", max_length=500)


class OpenRecipientFilter(admin.SimpleListFilter):
    title = "confirmation"
    parameter_name = "state"
    index_columns = ("notified_at",)  # erasure_recipients_open_idx (partial: the open ones)

    def lookups(self, request, model_admin):
        return [
            ("open", "Not confirmed (nor waived)"),
            ("late", f"Not confirmed after {settings.ERASURE_CONFIRMATION_DAYS} days"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(recipients.OPEN)
        if self.value() == "late":
            late = timezone.now() - dt.timedelta(days=settings.ERASURE_CONFIRMATION_DAYS)
            return queryset.filter(recipients.OPEN, notified_at__lte=late)
        return queryset


@admin.register(ErasureRecipient)
class ErasureRecipientAdmin(RuleAwareAdmin):
    """The systems a completed erasure was sent to (``data_subject_request.completed``) and
    whether each confirmed; the compliance admin records why one will not (the action)."""

    refused_writes = ("add", "change", "delete")
    list_display = ["request", "system", "state", "notified_at", "confirmed_at", "waived_at", "waiver_reason"]
    list_select_related = ["request"]
    list_filter = [OpenRecipientFilter, "system"]
    search_fields = ["=request__request_id"]
    ordering = ["-notified_at", "-id"]
    action_form = WaiverForm
    actions = ["waive"]

    def has_waive_permission(self, request):
        return request.user.has_perm(recipients.PROCESS)

    @admin.action(description="Record why it will not confirm (reason above)", permissions=["waive"])
    def waive(self, request, queryset):
        reason = request.POST.get("waiver_reason", "")
        for recipient in queryset:
            try:
                recipients.erasure_recipient_waive(recipient=recipient, reason=reason, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{recipient.system}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{recipient.system}: recorded.")
