"""Shared plumbing of the support console's admin views (ticket and refund pages)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from customer_ops import jinja2_env
from customer_ops.admin_base import RuleAwareAdmin
from customer_ops.datetimes import held_here


class ServiceOnlyHistoryAdmin(SimpleHistoryAdmin, RuleAwareAdmin):
    """simple-history's History pages, read-only: a revert would bypass the services."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("Past versions are read-only; changes go through the workflow actions.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    # Workflow records are never deleted (and are PROTECTed by foreign keys)
    refused_writes = ("delete",)


def admin_context(model_admin: admin.ModelAdmin, request, obj, title: str) -> dict:
    opts = model_admin.model._meta
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "original": obj,
        "title": title,
        "has_view_permission": True,
    }


def request_memo(request) -> dict:
    """A dict kept for one request, shared with its copies (tickets.saved_views builds the
    queue's change list once per view on copies of the home page's request)."""
    return request.__dict__.setdefault("_tickets_memo", {})


def thread_html(entries, request) -> list:
    """Each thread entry's ``<li>`` (``tickets/jinja2/tickets/thread_entry.html``), for the
    ticket page and the live thread's new entries. Jinja2, as the customer panels: a long
    thread in Django's engine cost about 0.15 ms an entry."""
    with held_here():
        return [jinja2_env.render("tickets/thread_entry.html", {"entry": entry}, request) for entry in entries]
