"""Admin of disputes (the legal team's console).

Every write goes through :mod:`tickets.services.disputes`: the details form through
``dispute_update`` / ``dispute_create``, status changes through the transition page.
The legal fields are left out, on the server, of the form, the list, the search, the
export and the history for anyone without ``tickets.view_legal_dispute``.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export import resources
from simple_history.admin import SimpleHistoryAdmin

from customer_ops.admin_base import ExportAdminMixin, RuleAwareAdmin
from customer_ops.deadlines import DueState
from customer_ops.errors import DomainError
from tickets.choices import DisputeStatus
from tickets.models import Dispute
from tickets.services import disputes as svc

READONLY = [
    "dispute_id",
    "dispute_status",
    "resolution",
    "resolution_amount",
    "refund_amount",
    "resolved_at",
    "resolved_by",
    "response_due",
    "created_at",
    "updated_at",
]


class DisputeResource(resources.ModelResource):
    """Export for every role: no legal fields."""

    class Meta:
        model = Dispute
        exclude = svc.LEGAL_FIELDS
        name = "Disputes"


class LegalDisputeResource(resources.ModelResource):
    """Export for the legal team: every column."""

    class Meta:
        model = Dispute
        name = "Disputes with legal fields"


def parse_version(value: str | None) -> dt.datetime | None:
    """The ``updated_at`` a form was loaded with (the optimistic lock), or ``None``."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise forms.ValidationError("This form was altered or is out of date: reload the dispute.") from None


class DisputeForm(forms.ModelForm):
    """Validates with the service's rules, so a bad change is a form error, never a 500."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Dispute
        # The admin narrows this per user (get_fieldsets / get_form): never the legal fields for non-legal.
        fields = [f.name for f in Dispute._meta.fields if f.editable and not f.primary_key]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.updated_at.isoformat()

    def clean_version(self):
        return parse_version(self.cleaned_data.get("version"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = Dispute(**{f.attname: getattr(self.instance, f.attname) for f in Dispute._meta.concrete_fields})
        for name in self.fields:
            if name != "version" and name in cleaned:
                setattr(candidate, name, cleaned[name])
        changed = set(self.changed_data) - {"version", *svc.LEGAL_FIELDS}
        try:
            if self.instance.pk and self.instance.dispute_status in svc.CLOSED and changed:
                raise svc.DisputeError("This dispute is closed: only its legal fields can still change.")
            party = not self.instance.pk or bool({"disputed_against", "disputed_against_id"} & changed)
            svc.dispute_validate(candidate, party=party)
        except svc.DisputeError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(Dispute)
class DisputeAdmin(ExportAdminMixin, SimpleHistoryAdmin, RuleAwareAdmin):
    form = DisputeForm
    list_display = [
        "dispute_id",
        "customer_ref",
        "dispute_type",
        "against",
        "disputed_amount",
        "dispute_status",
        "age",
        "response_due",
        "ticket_link",
        "order_link",
    ]
    list_filter = ["dispute_status", "dispute_type", "disputed_against"]
    search_fields = ["=dispute_id", "=customer__id", "=customer__email", "=order__order_number"]
    list_select_related = ["customer", "order", "ticket"]
    change_select_related = ("customer", "order")  # the page's read-only links
    autocomplete_fields = ["customer", "order"]
    raw_id_fields = ["ticket", "resolved_by"]
    readonly_fields = READONLY
    change_form_template = "admin/tickets/dispute/change_form.html"
    import_export_change_list_template = "admin/tickets/dispute/change_list.html"
    resource_classes = [DisputeResource, LegalDisputeResource]
    show_facets = admin.ShowFacets.NEVER

    # --- what the user may see -----------------------------------------------------------

    def _legal(self, request) -> bool:
        return svc.can_see_legal(request.user)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["dispute_id", "customer", "order", "ticket", "dispute_type", "dispute_status"]}),
            ("Claim", {"fields": ["dispute_reason", "dispute_description", "disputed_against", "disputed_against_id"]}),
            ("Evidence", {"fields": ["evidence_urls", "evidence_description"]}),
            ("Amounts", {"fields": ["disputed_amount", "refund_amount", "resolution_amount"]}),
            ("Outcome", {"fields": ["resolution", "resolved_at", "resolved_by", "response_due"]}),
            ("Record", {"fields": ["created_at", "updated_at"]}),
        ]
        if obj is not None and self.has_change_permission(request, obj):
            fieldsets[-1][1]["fields"].append("version")  # optimistic lock: the form's updated_at
        if obj is None:  # opening a dispute: no outcome yet
            fieldsets = [fs for fs in fieldsets if fs[0] not in {"Outcome", "Record"}]
            fieldsets[0][1]["fields"] = ["customer", "order", "ticket", "dispute_type"]
            fieldsets[3][1]["fields"] = ["disputed_amount"]
        if self._legal(request):
            fieldsets.insert(1, ("Legal (legal team only)", {"fields": list(svc.LEGAL_FIELDS)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.dispute_status in svc.CLOSED:
            readonly += [f for f in svc.DETAIL_FIELDS if f not in readonly]
        return readonly

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if self._legal(request) else [*exclude, *svc.LEGAL_FIELDS]

    def get_list_display(self, request):
        fields = list(super().get_list_display(request))
        if self._legal(request):
            fields.insert(1, "legal_case_number")
        return fields

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if self._legal(request):
            fields.append("=legal_case_number")  # customer_disputes_case_number_idx
        return fields

    def get_export_resource_classes(self, request):
        return [LegalDisputeResource] if self._legal(request) else [DisputeResource]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not self._legal(request):
            qs = qs.defer(*svc.LEGAL_FIELDS)
        return qs

    def object_query_key(self, request):
        return (self._legal(request),)  # get_queryset's one question

    # --- columns -------------------------------------------------------------------------

    @admin.display(description="Customer", ordering="customer_id")
    def customer_ref(self, obj):
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:customer_ops_customer_change", args=[obj.customer_id]),
            obj.customer_id,
        )

    @admin.display(description="Against")
    def against(self, obj):
        return (
            f"{obj.get_disputed_against_display()} #{obj.disputed_against_id}"
            if obj.disputed_against_id
            else obj.get_disputed_against_display()
        )

    @admin.display(description="Age", ordering="created_at")
    def age(self, obj):
        end = obj.resolved_at or timezone.now()
        days = (end - obj.created_at).days
        return f"{days} d" + ("" if obj.resolved_at is None else " (closed)")

    @admin.display(description="Response due")
    def response_due(self, obj):
        if obj is None or obj.created_at is None:
            return "-"
        deadline = svc.dispute_deadline(obj)
        state = deadline.state()
        label = {
            DueState.OK: "on time",
            DueState.DUE_SOON: "due soon",
            DueState.BREACHED: "overdue",
            DueState.MET: "met",
            DueState.MISSED: "missed",
        }[state]
        return format_html(
            '<span class="due due-{}" title="{}">{} ({})</span>',
            state.value,
            deadline.due_at.isoformat(),
            timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M"),
            label,
        )

    @admin.display(description="Ticket")
    def ticket_link(self, obj):
        if not obj.ticket_id:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:tickets_ticket_change", args=[obj.ticket_id]), obj.ticket.ticket_id
        )

    @admin.display(description="Order")
    def order_link(self, obj):
        if not obj.order_id:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:customer_ops_order_change", args=[obj.order_id]),
            obj.order.order_number,
        )

    # --- history: read-only (a revert would write around the services) ---------------------

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # --- writes: services only -------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        fields = {n: form.cleaned_data[n] for n in form.changed_data if n != "version"} if change else None
        try:
            if not change:
                data = {n: form.cleaned_data[n] for n in form.fields if n != "version" and n in form.cleaned_data}
                created = svc.dispute_create(actor=request.user, **data)
                obj.pk, obj.dispute_id, obj._state.adding = created.pk, created.dispute_id, False
                return
            svc.dispute_update(
                dispute=obj,
                actor=request.user,
                expected_version=form.cleaned_data.get("version"),
                **fields,
            )
        except DomainError as error:
            self.show_refusal(request, error)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "action-required/",
                self.admin_site.admin_view(self.action_required_view),
                name=f"{prefix}_action_required",
            ),
            path(
                "<path:object_id>/transition/<str:action>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{prefix}_transition",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Here rather than in change_view: the page's object is read once, by the admin.
        if obj is not None and self.has_change_permission(request, obj):
            context["transitions"] = [
                (action, label)
                for action, (target, label) in TRANSITION_ACTIONS.items()
                if target in svc.TRANSITIONS[obj.dispute_status]
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transition_view(self, request, object_id, action):
        dispute = get_object_or_404(Dispute.objects.select_related("customer"), pk=object_id)
        if not self.has_change_permission(request, dispute):
            raise PermissionDenied
        if action not in TRANSITION_ACTIONS:
            raise PermissionDenied
        target, label = TRANSITION_ACTIONS[action]
        form = TransitionForm(request.POST or None, action=action, initial={"version": dispute.updated_at.isoformat()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            version = data["version"]
            try:
                if action == "investigate":
                    svc.dispute_start_investigation(
                        dispute=dispute, actor=request.user, note=data["note"], expected_version=version
                    )
                elif action == "escalate":
                    svc.dispute_escalate(
                        dispute=dispute, actor=request.user, note=data["note"], expected_version=version
                    )
                elif action == "resolve":
                    svc.dispute_resolve(
                        dispute=dispute,
                        resolution=data["resolution"],
                        resolution_amount=data["resolution_amount"],
                        refund_amount=data["refund_amount"],
                        actor=request.user,
                        expected_version=version,
                    )
                else:
                    svc.dispute_reject(
                        dispute=dispute, resolution=data["resolution"], actor=request.user, expected_version=version
                    )
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                self.message_user(request, f"{dispute.dispute_id}: {label.lower()} done.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:tickets_dispute_change", args=[dispute.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{label}: {dispute.dispute_id}",
            "dispute": dispute,
            "form": form,
            "label": label,
        }
        return TemplateResponse(request, "admin/tickets/dispute/transition.html", context)

    def action_required_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        # Every open dispute, a page at a time: the home page's tile counts them all, and the
        # list must reach each one (open disputes are few; the count is exact).
        page = Paginator(svc.ActionRequired(Dispute.objects.select_related("customer")), ACTION_REQUIRED_PER_PAGE)
        page = page.get_page(request.GET.get("p"))  # junk or out of range: the first or last page
        rows = []
        for dispute in page:
            deadline = svc.dispute_deadline(dispute)
            rows.append(
                {
                    "dispute": dispute,
                    "due_at": deadline.due_at,
                    "state": deadline.state(now),
                    "age": (now - dispute.created_at).days,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Disputes: action required",
            "rows": rows,
            "page": page,
        }
        return TemplateResponse(request, "admin/tickets/dispute/action_required.html", context)


ACTION_REQUIRED_PER_PAGE = 100

TRANSITION_ACTIONS = {
    "investigate": (DisputeStatus.INVESTIGATING, "Start investigation"),
    "escalate": (DisputeStatus.ESCALATED, "Escalate"),
    "resolve": (DisputeStatus.RESOLVED, "Resolve"),
    "reject": (DisputeStatus.REJECTED, "Reject"),
}


class TransitionForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, required=False)  # the dispute's updated_at when loaded
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    resolution_amount = forms.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=0)
    refund_amount = forms.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=0)

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        keep = {"investigate": ["note"], "escalate": ["note"], "reject": ["resolution"]}.get(
            action, ["resolution", "resolution_amount", "refund_amount"]
        ) + ["version"]
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if action == "escalate":
            self.fields["note"].required = True
        if action in {"resolve", "reject"}:
            self.fields["resolution"].required = True
        if action == "resolve":
            self.fields["resolution_amount"].required = True

    def clean_version(self):
        return parse_version(self.cleaned_data.get("version"))
