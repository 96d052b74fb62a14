"""The data-subject-request pages shared by the deletion- and access-request admins: identity
verification, the deadline's extension, and the handling summary with the customer-facing
wording of a refusal. Every write goes through :mod:`compliance.dsr`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from compliance import dsr
from compliance.choices import RefusalReason, VerificationMethod
from compliance.wording import customer_wording
from customer_ops.deadlines import Deadline, DueState
from customer_ops.errors import DomainError


class VerifyForm(forms.Form):
    method = forms.ChoiceField(label="How the identity was verified", choices=VerificationMethod.choices)
    reference = forms.CharField(
        label="Reference", max_length=dsr.TEXT_MAX, help_text="Ticket, document check or message id: what proves it."
    )


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label="Extend by", coerce=int, choices=[(1, "One further month"), (2, "Two further months")]
    )
    reason = forms.CharField(
        label="Why (complexity, number of requests)", widget=forms.Textarea(attrs={"rows": 3}), max_length=dsr.TEXT_MAX
    )
    customer_told_on = forms.DateField(
        label="Date the customer was told", help_text="YYYY-MM-DD, within the original month (art. 12(3))."
    )


def refusal_reason_field() -> forms.ChoiceField:
    """The refusal's reason from the list; each reason's customer-facing wording is its help."""
    return forms.ChoiceField(label="Reason (from the list)", choices=RefusalReason.choices)


def wording_list(*, access: bool = False):
    """Each refusal reason with what the customer is told, for the pages that refuse (of an
    access request with ``access``, else of a deletion request)."""
    return format_html(
        '<dl class="refusal-wording">{}</dl>',
        format_html_join(
            "", "<dt>{}</dt><dd>{}</dd>", ((r.label, customer_wording(r, access=access)) for r in RefusalReason)
        ),
    )


def deadline_html(request, done_at=None) -> str:
    """The effective deadline with its state, marked "extended" once extended."""
    deadline = Deadline(due_at=dsr.due_at(request), done_at=done_at)
    state = deadline.state(soon=dt.timedelta(days=7))
    label = {DueState.BREACHED: "OVERDUE", DueState.DUE_SOON: "due within 7 days"}.get(state, state.value)
    handling = dsr.cached_handling(request)
    extended = ", extended" if handling is not None and handling.extended_until is not None else ""
    return format_html(
        '<span class="due due-{}">{} ({}{})</span>', state.value, f"{deadline.due_at:%Y-%m-%d}", label, extended
    )


class RequestHandlingAdminMixin:
    """Adds ``<pk>/verify/`` and ``<pk>/extend/`` and the ``handling_summary`` read-only field."""

    process_permission: str
    url_prefix: str  # e.g. "compliance_access": names "<prefix>_verify", "<prefix>_extend"

    def handling_urls(self):
        return [
            path("<int:pk>/verify/", self.admin_site.admin_view(self.verify_view), name=f"{self.url_prefix}_verify"),
            path("<int:pk>/extend/", self.admin_site.admin_view(self.extend_view), name=f"{self.url_prefix}_extend"),
        ]

    def handling_summary(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        row = dsr.shown_handling(obj)
        parts = []
        if row is not None and row.verified_at is not None:
            parts.append(
                format_html(
                    "<p>Identity verified: {} (ref. {}) on {} by {}.</p>",
                    row.get_verification_method_display(),
                    row.verification_reference,
                    f"{row.verified_at:%Y-%m-%d %H:%M}",
                    row.verified_by or "-",
                )
            )
        else:
            parts.append(format_html("<p>{}</p>", "Identity not verified yet: approval needs it."))
        if row is not None and row.extended_until is not None:
            parts.append(
                format_html(
                    "<p>Deadline extended to {} (customer told on {}): {}</p>",
                    f"{row.extended_until:%Y-%m-%d}",
                    row.customer_told_on,
                    row.extension_reason,
                )
            )
        if row is not None and row.refusal_reason:
            parts.append(
                format_html(
                    "<p>Refused: {}. The customer is told: <q>{}</q></p>",
                    row.get_refusal_reason_display(),
                    customer_wording(row.refusal_reason, access=row.access_request_id is not None),
                )
            )
        return format_html_join("", "{}", ((p,) for p in parts))

    handling_summary.short_description = "Data-subject request handling"

    def _handled(self, request, pk):
        if not request.user.has_perm(self.process_permission):
            raise PermissionDenied
        return get_object_or_404(self.model, pk=pk)

    def _form_page(self, request, obj, form, title):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": f"{title} {obj.request_id}"}
        return TemplateResponse(request, "admin/compliance/form_page.html", {**context, "form": form})

    def _done(self, request, obj, message):
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        )

    def verify_view(self, request, pk):
        obj = self._handled(request, pk)
        form = VerifyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                dsr.verify_identity(request=obj, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                return self._done(request, obj, f"{obj.request_id}: identity verification recorded.")
        return self._form_page(request, obj, form, "Record identity verification for")

    def extend_view(self, request, pk):
        obj = self._handled(request, pk)
        form = ExtendForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                handling = dsr.extend_deadline(request=obj, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                self.show_refusal(request, error, form=form)
            else:
                return self._done(
                    request, obj, f"{obj.request_id}: deadline extended to {handling.extended_until:%Y-%m-%d}."
                )
        return self._form_page(request, obj, form, "Extend the deadline of")
