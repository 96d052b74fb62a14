"""What the fraud admins share: permission checks, the action-form page, service calls that
turn a refusal into a message, and readable evidence."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm

from customer_ops.admin_base import show_refusal
from customer_ops.errors import DomainError
from customer_ops.panels import render_panels
from fraud import conf, import_files
from fraud.panels import PANEL_KEYS


def require(request, permission: str) -> None:
    """403 unless the user holds ``permission`` (hiding a button is not enough)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


def customer_link(customer) -> str:
    url = reverse("admin:customer_ops_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, customer)


def severity_badge(value: str, label: str) -> str:
    # An f-string: format_html's per-argument checks were a visible part of a 100-row list.
    return SafeString(f'<span class="badge badge-{html.escape(value.lower())}">{html.escape(str(label))}</span>')


def evidence_html(evidence) -> str:
    """Evidence JSON as a definition list; nested values pretty-printed."""
    if not evidence:
        return format_html('<span class="panel-empty">{}</span>', "No evidence recorded.")
    if not isinstance(evidence, dict):
        return format_html('<pre class="evidence-json">{}</pre>', json.dumps(evidence, indent=2, sort_keys=True))
    rows = []
    for key, value in sorted(evidence.items()):
        if isinstance(value, dict | list):
            rendered = format_html('<pre class="evidence-json">{}</pre>', json.dumps(value, indent=2, sort_keys=True))
        else:
            rendered = format_html("{}", value)
        rows.append((key.replace("_", " "), rendered))
    return format_html('<dl class="evidence">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))


def run(request, service: Callable[..., object], success: str, **kwargs) -> bool:
    """Call a service; a refusal (any DomainError) becomes an error message and nothing is written."""
    try:
        service(**kwargs)
    except DomainError as error:
        show_refusal(request, error)
        return False
    messages.success(request, success)
    return True


def form_page(modeladmin: admin.ModelAdmin, request, *, title: str, form, obj=None, intro: str = "", extra=None):
    """A small page with one form (record an action, resolve, unblock, review, ...)."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "form": form,
        "original": obj,
        "intro": intro,
        "media": modeladmin.media + form.media,
        **(extra or {}),
    }
    return TemplateResponse(request, "admin/fraud/action_form.html", context)


def redirect_to(obj) -> HttpResponseRedirect:
    opts = obj._meta
    return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))


def customer_panels(request, customer) -> list[dict]:
    """The fraud panels of the customer page, for the alert and trust-score pages."""
    return render_panels(customer, request, only=PANEL_KEYS)


class ReadOnlyHistory:
    """simple-history's past versions are for reading only: a POST there would save the old
    version over the row (a revert) around the services and their audit, and with nothing
    more than the view permission. Put first in the bases, before ``SimpleHistoryAdmin``."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("Past versions are read-only; changes go through the workflow pages.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class FraudMedia:
    css = {"all": ["fraud/fraud.css"]}
    js = ["fraud/fraud.js"]


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A list filter that starts on ``default`` (the work queue) instead of "all", and
    lists every choice, "all" included, explicitly."""

    default: str

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


# --- imports of the ML pipeline's files ------------------------------------------------------


class BoundedCSV(CSV):
    """CSV read row by row and refused past :data:`fraud.conf.IMPORT_MAX_ROWS` rows."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8")
        return import_files.read_csv(in_stream, max_rows=conf.IMPORT_MAX_ROWS)


class BoundedXLSX(XLSX):
    """XLSX checked unopened (its zip directory), then read streamed and refused past
    :data:`fraud.conf.IMPORT_MAX_ROWS` rows."""

    def create_dataset(self, in_stream, **kwargs):
        return import_files.read_xlsx(in_stream, max_rows=conf.IMPORT_MAX_ROWS)


class CappedImportForm(ImportForm):
    """CSV or XLSX only, and at most :data:`fraud.conf.IMPORT_MAX_BYTES`: the file is read
    whole in the request (validated as one transaction)."""

    EXTENSIONS = (".csv", ".xlsx")

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if not upload.name.lower().endswith(self.EXTENSIONS):
            raise forms.ValidationError("Import a CSV or XLSX file (.csv, .xlsx).")
        if upload.size > conf.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; at most {filesizeformat(conf.IMPORT_MAX_BYTES)} "
                "can be imported at once. Split it into smaller files."
            )
        return upload


class CappedImportMixin(ImportMixin):
    """django-import-export's import, restricted to CSV/XLSX files of bounded size and rows
    (fraud/import_files.py)."""

    import_form_class = CappedImportForm
    import_formats = [BoundedCSV, BoundedXLSX]

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, import_files.RefusedFile):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)
