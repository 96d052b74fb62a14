"""Lists: device ids, IP addresses and ranges, email domains. Adding an entry shows its
backtest (what it would have matched over the last 30 days) before it is saved."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from customer_ops.admin_base import BaseAdmin, EstimatedCountPaginator, show_refusal
from customer_ops.errors import DomainError
from customer_ops.widgets import LabelledSplitDateTime
from fraud import lists, services
from fraud.admin.common import FraudMedia, form_page, redirect_to
from fraud.choices import ListKind
from fraud.models import ListEntry

ADD = "fraud.add_listentry"


class ListEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=ListKind.choices, label="Lists a")
    value = forms.CharField(help_text="A device id; an IP address or a CIDR range (203.0.113.0/24); a domain.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    expires_at = forms.SplitDateTimeField(
        required=False, widget=LabelledSplitDateTime, label="Expires", help_text="Empty: no expiry."
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("value"):
            try:
                data["value"], _ = lists.normalise(data["kind"], data["value"])
            except ValueError as error:
                self.add_error("value", str(error))
        return data


@admin.register(ListEntry)
class ListEntryAdmin(BaseAdmin):
    list_display = ["id", "kind", "value", "reason", "added_by", "created_at", "expires_at"]
    list_filter = ["kind"]
    search_fields = ["=value"]  # list_entries_value_idx
    list_select_related = ["added_by"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ["kind", "value", "reason", "added_by", "created_at", "expires_at"]
    readonly_fields = fields
    Media = FraudMedia
    refused_writes = ("change", "delete")  # an entry is added with its reason and expiry, never edited

    def add_view(self, request, form_url="", extra_context=None):
        """Step 1: the form; step 2: its backtest, and "Save entry"; step 3: saved."""
        if not request.user.has_perm(ADD):
            raise PermissionDenied
        form = ListEntryForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if data["confirmed"]:
                try:
                    entry = services.list_entry_add(
                        kind=data["kind"],
                        value=data["value"],
                        reason=data["reason"],
                        expires_at=data["expires_at"],
                        actor=request.user,
                    )
                except DomainError as error:
                    show_refusal(request, error, form=form)
                else:
                    self.message_user(request, f"{entry} is listed.")
                    return redirect_to(entry)
            else:
                result = lists.backtest(data["kind"], data["value"])
                form = ListEntryForm({**request.POST.dict(), "confirmed": "1"})
                form.is_valid()
        return form_page(
            self,
            request,
            title="Add a list entry",
            form=form,
            intro="Before the entry is saved, its backtest shows what it would have matched in the login "
            "history and activity log over the last 30 days.",
            extra={
                "backtest": result,
                "submit_label": "Save entry" if result is not None else "Run the backtest",
            },
        )
