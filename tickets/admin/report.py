"""The lead's team report page and its CSV export (tickets.team_report). Each figure links
to the queue filtered to the tickets behind it (resolved that week, by that agent or in
that category)."""

from __future__ import annotations

import csv
import datetime as dt
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from customer_ops.spreadsheet import neutralise
from tickets import team_report
from tickets.admin.common import admin_context

PERMISSION = "tickets.view_agentweekly"  # granted to leads (migration 0070)


class ResolvedWeekFilter(admin.SimpleListFilter):
    """The queue's "resolved in the week of" (the team report's links); offered only when set."""

    title = "resolved in the week of"
    parameter_name = "resolved_week"
    index_columns = ("resolved_at",)  # customer_tickets_resolved_idx

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            start = dt.date.fromisoformat(self.value())
        except ValueError:
            return queryset.none()
        begin = dt.datetime.combine(start, dt.time(), dt.UTC)
        return queryset.filter(resolved_at__gte=begin, resolved_at__lt=begin + dt.timedelta(days=7))


class ResolvedByFilter(admin.SimpleListFilter):
    """The queue's "resolved by" (the team report's links); offered only when set."""

    title = "resolved by"
    parameter_name = "resolved_by"
    index_columns = ("resolved_by",)  # tickets_resolved_by_idx

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(resolved_by_id=int(value)) if value.isdigit() else queryset.none()


def _queue(**params) -> str:
    return reverse("admin:tickets_ticket_changelist") + "?" + urlencode(params)


def _period(request) -> tuple[dt.date, dt.date]:
    """The weeks shown: ``?start=YYYY-MM-DD`` (a Monday) and 13 weeks from it; by default the
    last 13 weeks up to this one."""
    this_week = team_report.monday(timezone.now().date())
    try:
        start = team_report.monday(dt.date.fromisoformat(request.GET.get("start", "")))
    except ValueError:
        start = this_week - dt.timedelta(weeks=team_report.QUARTER_WEEKS - 1)
    return start, start + dt.timedelta(weeks=team_report.QUARTER_WEEKS)


def _figures(row) -> list:
    share = row.sla_met_share
    average = row.rating_average
    return [
        row.resolved,
        row.first_reply_median,
        row.resolution_median,
        None if share is None else round(100 * share, 1),
        None if average is None else round(average, 2),
        row.ratings,
    ]


HEADERS = [
    "tickets resolved",
    "median first reply (min)",
    "median resolution (min)",
    "SLA met %",
    "satisfaction (avg)",
    "ratings",
]


def report_view(model_admin, request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    start, end = _period(request)
    agents, categories = team_report.report_rows(start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="team-report-{start}.csv"'
        writer = csv.writer(response)
        writer.writerow(["group", "name", "week", *HEADERS])
        for row in agents:
            writer.writerow([neutralise(v) for v in ["agent", row.agent_name, row.week, *_figures(row)]])
        for row in categories:
            writer.writerow([neutralise(v) for v in ["category", row.issue_category, row.week, *_figures(row)]])
        return response
    agent_rows = [
        (row.agent_name, row.week, _figures(row), _queue(resolved_by=row.agent_id, resolved_week=row.week))
        for row in agents
    ]
    category_rows = [
        (
            row.get_issue_category_display(),
            row.week,
            _figures(row),
            _queue(issue_category__exact=row.issue_category, resolved_week=row.week),
        )
        for row in categories
    ]
    context = {
        **admin_context(model_admin, request, None, "Team report"),
        "start": start,
        "end": end - dt.timedelta(days=1),
        "previous": start - dt.timedelta(weeks=team_report.QUARTER_WEEKS),
        "next": end,
        "headers": HEADERS,
        "agent_rows": agent_rows,
        "category_rows": category_rows,
        "csv_url": reverse("admin:tickets_ticket_team_report") + "?" + urlencode({"start": start, "format": "csv"}),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/tickets/ticket/team_report.html", context)
