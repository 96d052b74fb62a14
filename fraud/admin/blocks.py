"""Blocks: who is blocked from what, block (from an alert or by hand) and lift."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from customer_ops.admin_base import RuleAwareAdmin
from customer_ops.errors import DomainError
from fraud import services
from fraud.admin.common import FraudMedia, ReadOnlyHistory, customer_link, form_page, redirect_to, require, run
from fraud.choices import BlockType
from fraud.forms import BlockForm, ReasonForm
from fraud.models import Block
from fraud.selectors import block_in_force, blocks_ending_q, in_force_q

WORK = "fraud.change_block"


class BlockStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"
    index_columns = ("is_unblocked",)

    def lookups(self, request, model_admin):
        return [
            ("in_force", "In force"),
            ("expired", "Expired, not lifted yet"),
            ("lifted", "Lifted"),
            ("ending", "Ending within 24 hours"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "in_force":
            return queryset.filter(in_force_q(now))
        if self.value() == "expired":
            return queryset.filter(is_unblocked=False, auto_unblock=True, blocked_until__lte=now)
        if self.value() == "lifted":
            return queryset.filter(is_unblocked=True)
        if self.value() == "ending":
            return queryset.filter(blocks_ending_q(now))
        return queryset


@admin.register(Block)
class BlockAdmin(ReadOnlyHistory, SimpleHistoryAdmin, RuleAwareAdmin):
    list_display = ["id", "customer", "block_type", "scope", "blocked_by", "blocked_at", "blocked_until", "status"]
    list_filter = [BlockStatusFilter, "block_type", "service_type", "blocked_by"]
    search_fields = ["=customer__id", "=customer__email", "=block_reason_code"]
    list_select_related = ["customer"]
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    actions = ["lift_selected"]
    change_form_template = "admin/fraud/block/change_form.html"
    history_list_display = ["is_unblocked", "blocked_until", "unblock_reason"]
    fieldsets = [
        (None, {"fields": ["customer_page", "block_type", "service_type", "status"]}),
        ("Why", {"fields": ["block_reason", "block_reason_code", "block_notes"]}),
        ("Who and when", {"fields": ["blocked_by", "blocked_by_staff", "blocked_by_name", "blocked_at"]}),
        ("Lifetime", {"fields": ["blocked_until", "auto_unblock"]}),
        ("Lifted", {"fields": ["is_unblocked", "unblocked_at", "unblocked_by", "unblock_reason"]}),
    ]
    readonly_fields = ["customer_page", "status"]
    Media = FraudMedia

    # Blocks are created and lifted through the services (the pages below), never edited
    # in place or deleted: the history of who was blocked when is evidence.
    refused_writes = ("change", "delete")

    def has_work_permission(self, request):
        return request.user.has_perm(WORK)

    @admin.display(description="Scope")
    def scope(self, obj):
        if obj.block_type == BlockType.ACCOUNT_BLOCK:
            return "everything"
        return obj.get_service_type_display() if obj.service_type else "all services"

    @admin.display(description="Status")
    def status(self, obj):
        if obj.is_unblocked:
            return "lifted"
        if block_in_force(obj):
            return "in force"
        return "expired"

    @admin.display(description="Customer")
    def customer_page(self, obj):
        return customer_link(obj.customer)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<path:object_id>/lift/", view(self.lift_view), name="fraud_block_lift"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        block = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if block is not None:
            extra_context["can_lift"] = self.has_work_permission(request) and not block.is_unblocked
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """Block a customer: a form that calls ``services.block_customer`` (prefilled from the
        query string, e.g. by an alert's "Block this customer")."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {key: request.GET[key] for key in BlockForm.base_fields if key in request.GET}
        initial.setdefault("auto_unblock", True)
        form = BlockForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                block = services.block_customer(
                    customer=data["customer"],
                    block_type=data["block_type"],
                    service_type=data["service_type"] or None,
                    reason=data["block_reason"],
                    reason_code=data["block_reason_code"],
                    notes=data["block_notes"],
                    blocked_until=data["blocked_until"],
                    auto_unblock=data["auto_unblock"],
                    alert=data["alert"],
                    actor=request.user,
                )
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                messages.success(request, f"{block} created.")
                return redirect_to(block)
        return form_page(self, request, title="Block a customer", form=form, extra={"submit_label": "Block"})

    def lift_view(self, request, object_id):
        require(request, WORK)
        block = self.get_object(request, object_id)
        if block is None:
            raise Http404
        form = ReasonForm(request.POST or None, initial={"version": services.row_version(block)})
        if request.method == "POST" and form.is_valid():
            kwargs = {"reason": form.cleaned_data["reason"], "expected_version": form.cleaned_data["version"]}
            if run(request, services.unblock, f"Block #{block.pk} lifted.", block=block, actor=request.user, **kwargs):
                return redirect_to(block)
        return form_page(self, request, title=f"Lift block #{block.pk}", form=form, obj=block)

    @admin.action(description="Lift selected blocks with one reason", permissions=["work"])
    def lift_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                lifted, skipped = services.unblock_many(
                    blocks=list(queryset), reason=form.cleaned_data["reason"], actor=request.user
                )
            except DomainError as error:
                self.show_refusal(request, error)
                return None
            note = f" ({skipped} already lifted)" if skipped else ""
            self.message_user(request, f"{lifted} block(s) lifted{note}.", messages.SUCCESS)
            return None
        return form_page(
            self,
            request,
            title=f"Lift {queryset.count()} block(s)",
            form=form,
            extra={"bulk_action": "lift_selected", "selected": queryset},
        )
