"""The lead's team report page and its CSV export (tickets.team_report). Each figure links
to the queue filtered to the tickets it counts: resolved that week, by that agent or in
that category (ResolvedWeekFilter, ResolvedByFilter), and of those the ones the figure is
computed from (ReportFigureFilter: with a first reply, SLA met or missed, rated)."""

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


class ReportFigureFilter(admin.SimpleListFilter):
    """The queue's "team report figure": of the resolved tickets, those a figure counts
    (``team_report.figure_tickets``); offered only when set."""

    title = "team report figure"
    parameter_name = "figure"
    # The report's links pair it with resolved_week, a range of customer_tickets_resolved_idx;
    # alone it still reads resolved tickets only (resolved_at IS NOT NULL, that index's predicate).
    index_columns = ("resolved_at",)
    LABELS = {
        "first_reply": "with a first reply",
        "sla_met": "SLA met",
        "sla_missed": "SLA missed",
        "rated": "rated by the customer",
    }

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, self.LABELS.get(value, value))] if value else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        tickets = team_report.figure_tickets(queryset, self.value())
        return queryset.none() if tickets is None else tickets


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


def _cells(row, **group) -> list[tuple]:
    """The page's figures of ``row``, each with the link to its tickets, and for the SLA the
    link to the missed ones: ``(value, url, missed count, missed url)``."""
    figures = _figures(row)
    resolved = _queue(**group, resolved_week=row.week)

    def only(figure: str) -> str:
        return _queue(**group, resolved_week=row.week, figure=figure)

    return [
        (figures[0], resolved, None, None),
        (figures[1], only("first_reply"), None, None),
        (figures[2], resolved, None, None),
        (figures[3], only("sla_met"), row.resolved - row.sla_met, only("sla_missed")),
        (figures[4], only("rated"), None, None),
        (figures[5], only("rated"), None, None),
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
    agent_rows = [(row.agent_name, row.week, _cells(row, resolved_by=row.agent_id)) for row in agents]
    category_rows = [
        (row.get_issue_category_display(), row.week, _cells(row, issue_category__exact=row.issue_category))
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
