"""Admin of refund requests: raise (from a ticket or an order), the approval screen, processing.

Every write goes through ``tickets.services.refunds``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from customer_ops.errors import DomainError
from customer_ops.models import Order
from customer_ops.panels import render_panels
from tickets import conf, forms, selectors
from tickets.admin.common import ServiceOnlyHistoryAdmin, admin_context
from tickets.choices import RefundStatus
from tickets.models import RefundOrigin, RefundRequest, Ticket
from tickets.services import refunds as services

# action -> (permission of its URL, form, refund status it applies to)
ACTIONS = {
    "approve": (services.APPROVE, forms.ApproveForm, RefundStatus.PENDING),
    "reject": (services.APPROVE, forms.RejectForm, RefundStatus.PENDING),
    "process": (services.PROCESS, forms.ProcessForm, RefundStatus.APPROVED),
    "complete": (services.PROCESS, forms.ConfirmForm, RefundStatus.PROCESSING),
}


def run_action(action: str, refund: RefundRequest, data: dict, user) -> str:
    version = data.get("version")
    if action == "approve":
        services.refund_approve(
            refund=refund, approved_amount=data["approved_amount"], actor=user, expected_version=version
        )
        return f"{refund.refund_request_id} approved for {data['approved_amount']}."
    if action == "reject":
        services.refund_reject(refund=refund, reason=data["rejection_reason"], actor=user, expected_version=version)
        return f"{refund.refund_request_id} rejected."
    if action == "process":
        services.refund_start_processing(
            refund=refund, refund_mode=data["refund_mode"], actor=user, expected_version=version
        )
        return f"{refund.refund_request_id} is being processed."
    if action == "complete":
        services.refund_complete(refund=refund, actor=user, expected_version=version)
        return f"{refund.refund_request_id} completed."
    raise ValueError(action)


class ApprovalFilter(admin.SimpleListFilter):
    """The lead's approval queue: pending, within their limit, not their own (the home page links here)."""

    title = "approval"
    parameter_name = "approval"
    index_columns = ("refund_status",)

    def lookups(self, request, model_admin):
        return [("mine", "Waiting for my approval")] if request.user.has_perm(services.APPROVE) else []

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return selectors.awaiting_approval(queryset, user=request.user, limit=services.approval_limit(request.user))
        return queryset


@admin.register(RefundRequest)
class RefundRequestAdmin(ServiceOnlyHistoryAdmin):
    list_display = [
        "refund_request_id",
        "customer",
        "order",
        "refund_type",
        "requested_amount",
        "approved_amount",
        "refund_status",
        "created_at",
    ]
    list_filter = [ApprovalFilter, "refund_status", "refund_type", "refund_mode"]
    search_fields = ["=refund_request_id", "=order__order_number", "=customer__email"]
    list_select_related = ["customer", "order"]
    show_facets = admin.ShowFacets.NEVER

    class Media:
        css = {"all": ["tickets/support.css"]}

    # Status and amounts change only through the approval workflow; never deleted (as every
    # workflow record: ServiceOnlyHistoryAdmin).
    refused_writes = ("change", "delete")

    def get_ordering(self, request):
        if request.GET.get(ApprovalFilter.parameter_name) == "mine":
            return ["created_at", "id"]  # the approval queue: oldest first
        return super().get_ordering(request)

    # --- URLs ---------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path(f"<int:pk>/{action}/", wrap(self.action_view), {"action": action}, name=f"tickets_refund_{action}")
            for action in ACTIONS
        ]
        return custom + super().get_urls()

    # --- raise ---------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        ticket = None
        ticket_pk = request.POST.get("ticket") or request.GET.get("ticket")
        if ticket_pk and str(ticket_pk).isdigit():
            ticket = Ticket.objects.select_related("customer").filter(pk=int(ticket_pk)).first()
        if request.method == "POST":
            form = forms.RaiseRefundForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    refund = services.refund_raise(
                        order=form.order,
                        refund_type=data["refund_type"],
                        refund_reason_code=data["refund_reason_code"],
                        refund_reason=data["refund_reason"],
                        refund_description=data["refund_description"],
                        requested_amount=data["requested_amount"],
                        refund_items=data["refund_items"] or None,
                        ticket=ticket,
                        actor=request.user,
                    )
                except DomainError as error:
                    self.show_refusal(request, error, form=form, not_allowed_403=True)
                else:
                    self.message_user(
                        request,
                        f"Refund request {refund.refund_request_id} raised for {refund.requested_amount}: "
                        "waiting for a lead's approval.",
                        messages.SUCCESS,
                    )
                    if ticket is not None:
                        return HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
                    return HttpResponseRedirect(reverse("admin:tickets_refundrequest_change", args=[refund.pk]))
        else:
            initial = {"ticket": ticket.pk if ticket else None}
            order_pk = request.GET.get("order")
            if order_pk and order_pk.isdigit():
                order = Order.objects.filter(pk=int(order_pk)).first()
                if order is not None:
                    initial["order_number"] = order.order_number
                    initial["refund_description"] = f"From ticket {ticket.ticket_id}." if ticket else ""
            form = forms.RaiseRefundForm(initial=initial)
        allowed = None
        order = getattr(form, "order", None)
        if order is None and form.initial.get("order_number"):
            order = Order.objects.filter(order_number=form.initial["order_number"]).first()
        if order is not None:
            allowed = selectors.refundable_amount(order)
        context = {
            **admin_context(self, request, None, "Raise a refund request"),
            "form": form,
            "ticket": ticket,
            "order": order,
            "refundable": allowed,
            "delivery_fee_max": conf.REFUND_DELIVERY_FEE_MAX,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/tickets/refundrequest/raise.html", context)

    # --- the approval screen -------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self.render_refund(request, int(object_id))

    def render_refund(self, request, pk: int, *, bound=None):
        refund = RefundRequest.objects.select_related("customer", "order", "processed_by").filter(pk=pk).first()
        if refund is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        if not self.has_view_permission(request, refund):
            raise PermissionDenied
        user = request.user
        origin = RefundOrigin.objects.select_related("raised_by", "ticket").filter(refund=refund).first()
        version = forms.version_of(refund)
        forms_ = {
            "approve": forms.ApproveForm(initial={"version": version, "approved_amount": refund.requested_amount}),
            "reject": forms.RejectForm(initial={"version": version}),
            "process": forms.ProcessForm(initial={"version": version}),
            "complete": forms.ConfirmForm(initial={"version": version}),
        }
        if bound is not None:
            forms_[bound[0]] = bound[1]
        show = {
            action: refund.refund_status == status and user.has_perm(perm)
            for action, (perm, _form, status) in ACTIONS.items()
        }
        own = origin is not None and origin.raised_by_id == user.pk
        limit = services.approval_limit(user) if show["approve"] else None
        context = {
            **admin_context(self, request, refund, f"Refund request {refund.refund_request_id}"),
            "refund": refund,
            "origin": origin,
            "own_request": own,
            "approval_limit": limit,
            "committed_elsewhere": selectors.committed_refunds(refund.order_id, exclude_pk=refund.pk),
            "approved_on_order": selectors.approved_refunds(refund.order_id),
            "forms": forms_,
            "show": show,
            "panels": render_panels(refund.customer, request, only=conf.REFUND_APPROVAL_PANELS),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/tickets/refundrequest/approval.html", context)

    def action_view(self, request, pk: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        perm, form_class, _status = ACTIONS[action]
        refund = get_object_or_404(RefundRequest, pk=pk)
        if not request.user.has_perm(perm):
            raise PermissionDenied
        form = form_class(request.POST)
        if form.is_valid():
            try:
                done = run_action(action, refund, form.cleaned_data, request.user)
            except DomainError as error:  # above the approval limit: on the amount field, not a 403
                if not self.show_refusal(request, error, form=form, not_allowed_403=True, conflict_reloads=True):
                    return self.render_refund(request, pk)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:tickets_refundrequest_change", args=[pk]))
        return self.render_refund(request, pk, bound=(action, form))
