"""The lead's team report: the daily job's weekly rows against a plain-Python computation on
random tickets, idempotence, the page, its links and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import random
import re
import statistics
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from customer_ops.dates import day_range
from tests.assertions import assert_page_shows, explain
from tests.factories import TicketFactory, TicketMessageFactory
from tickets.admin.report import ReportFigureFilter, ResolvedByFilter, ResolvedWeekFilter
from tickets.models import AgentWeekly, CategoryWeekly, Ticket
from tickets.team_report import run_team_weekly

pytestmark = pytest.mark.django_db
CATEGORIES = ["ORDER", "PAYMENT", "DELIVERY", "REFUND"]
PRIORITIES = ["LOW", "MEDIUM", "HIGH", "URGENT", "CRITICAL"]


def _make_tickets(agents, rng: random.Random, now: dt.datetime) -> list[dict]:
    facts = []
    for _ in range(90):
        created = now - dt.timedelta(days=rng.uniform(2, 40), minutes=rng.randint(0, 1000))
        resolution = rng.randint(5, 4000)
        resolved = created + dt.timedelta(minutes=resolution, seconds=rng.randint(0, 59))
        if resolved >= now:
            continue
        agent = rng.choice([*agents, None])
        rating = rng.choice([None, 1, 2, 3, 4, 5])
        priority = rng.choice(PRIORITIES)
        ticket = TicketFactory(
            created_at=created,
            issue_category=rng.choice(CATEGORIES),
            priority=priority,
            status="RESOLVED",
            resolved_at=resolved,
            resolved_by=agent,
            resolution="Done",
            resolution_time_minutes=resolution,
            customer_satisfaction_rating=rating,
        )
        first = None
        if rng.random() < 0.8:
            first = created + dt.timedelta(minutes=rng.randint(0, 600), seconds=rng.randint(0, 59))
            TicketMessageFactory(ticket=ticket, sender_type="AGENT", created_at=first)
            TicketMessageFactory(ticket=ticket, sender_type="AGENT", created_at=first + dt.timedelta(minutes=5))
        facts.append({"ticket": ticket, "agent": agent, "first": first, "rating": rating, "priority": priority})
    return facts


def _reference(facts, key) -> dict:
    """Plain Python, from the definitions in tickets/team_report.py."""
    groups: dict = {}
    for f in facts:
        t = f["ticket"]
        if key == "agent" and f["agent"] is None:
            continue
        day = t.resolved_at.astimezone(dt.UTC).date()
        week = day - dt.timedelta(days=day.weekday())
        group = f["agent"].pk if key == "agent" else t.issue_category
        groups.setdefault((week, group), []).append(f)
    result = {}
    for k, rows in groups.items():
        sla = settings.SUPPORT_SLA
        firsts = [max(0, int((f["first"] - f["ticket"].created_at).total_seconds() // 60)) for f in rows if f["first"]]
        met = sum(
            1
            for f in rows
            if f["first"] is not None
            and f["first"]
            <= f["ticket"].created_at + dt.timedelta(minutes=sla[f["priority"]]["first_response_minutes"])
            and f["ticket"].resolved_at
            <= f["ticket"].created_at + dt.timedelta(minutes=sla[f["priority"]]["resolution_minutes"])
        )
        ratings = [f["rating"] for f in rows if f["rating"] is not None]
        result[k] = (
            len(rows),
            len(firsts),
            Decimal(str(statistics.median(firsts))).quantize(Decimal("0.1")) if firsts else None,
            Decimal(str(statistics.median([f["ticket"].resolution_time_minutes for f in rows]))).quantize(
                Decimal("0.1")
            ),
            met,
            len(ratings),
            sum(ratings),
        )
    return result


def _stored(model, key):
    return {
        (r.week, getattr(r, key)): (
            r.resolved,
            r.first_replies,
            r.first_reply_median,
            r.resolution_median,
            r.sla_met,
            r.ratings,
            r.rating_sum,
        )
        for r in model.objects.all()
    }


@pytest.fixture
def report_data(make_staff):
    from customer_ops.roles import Role

    agents = [make_staff(Role.AGENT, username=f"rep{i}", first_name=f"Rep{i}", last_name="Agent") for i in range(3)]
    now = timezone.now()
    return _make_tickets(agents, random.Random(24), now), now


def test_weekly_rows_equal_a_plain_computation(report_data):
    facts, now = report_data
    run_team_weekly(day_range(now.date() - dt.timedelta(days=20), now.date()))  # + its 28-day look-back
    assert _stored(AgentWeekly, "agent_id") == _reference(facts, "agent")
    assert _stored(CategoryWeekly, "issue_category") == _reference(facts, "category")
    ids = set(AgentWeekly.objects.values_list("id", flat=True))
    run_team_weekly(day_range(now.date() - dt.timedelta(days=20), now.date()))  # idempotent: same rows, same ids
    assert set(AgentWeekly.objects.values_list("id", flat=True)) == ids
    assert _stored(AgentWeekly, "agent_id") == _reference(facts, "agent")


def test_a_rating_given_later_is_picked_up_and_emptied_weeks_removed(report_data):
    facts, now = report_data
    days = day_range(now.date() - dt.timedelta(days=20), now.date())
    run_team_weekly(days)
    unrated = next(f for f in facts if f["rating"] is None and f["ticket"].resolved_at > now - dt.timedelta(days=14))
    Ticket.objects.filter(pk=unrated["ticket"].pk).update(customer_satisfaction_rating=5)
    unrated["rating"] = 5
    Ticket.objects.filter(pk__in=[f["ticket"].pk for f in facts if f["agent"] is None]).update(
        resolved_at=None, resolved_by=None, status="IN_PROGRESS", resolution_time_minutes=None
    )
    kept = [f for f in facts if f["agent"] is not None]
    run_team_weekly(days)
    assert _stored(CategoryWeekly, "issue_category") == _reference(kept, "category")


def _week_of(ticket) -> dt.date:
    day = ticket.resolved_at.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


def _met(f) -> bool:
    sla, t = settings.SUPPORT_SLA[f["priority"]], f["ticket"]
    return (
        f["first"] is not None
        and f["first"] <= t.created_at + dt.timedelta(minutes=sla["first_response_minutes"])
        and t.resolved_at <= t.created_at + dt.timedelta(minutes=sla["resolution_minutes"])
    )


# Per column of the page: the tickets behind the figure, in plain Python.
BEHIND = [
    lambda f: True,  # tickets resolved
    lambda f: f["first"] is not None,  # median first reply: the tickets with one
    lambda f: True,  # median resolution: every resolved ticket
    _met,  # SLA met %: the met ones (the cell's second link: the missed ones)
    lambda f: f["rating"] is not None,  # satisfaction: the rated ones
    lambda f: f["rating"] is not None,  # ratings
]
CELL = re.compile(
    r'<td class="num"><a href="([^"]+)">([^<]+)</a>(?: <small><a href="([^"]+)">(\d+) missed</a></small>)?</td>'
)


def _page_rows(body: str, table: str) -> dict[tuple[str, str], list[tuple]]:
    """{(name, week): [(figure, url, missed count, missed url)] * 6} of one table of the page."""
    part = body[body.index(f'id="{table}"') :]
    part = part[: part.index("</table>")]
    rows = {}
    for name, week, cells in re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td>(.*?)</tr>', part):
        rows[(html.unescape(name), week)] = [
            (value, html.unescape(url), missed, html.unescape(missed_url))
            for url, value, missed_url, missed in CELL.findall(cells)
        ]
    return rows


def _listed(client, url: str) -> list[Ticket]:
    page = client.get(url)
    assert page.status_code == 200, url
    cl = page.context["cl"]
    assert cl.result_count <= cl.list_per_page  # the whole set on one page
    return list(cl.result_list)


def _median_minutes(values) -> str:
    return str(Decimal(str(statistics.median(values))).quantize(Decimal("0.1")))


def _assert_links_open_the_tickets_counted(client, row, cells, facts):
    """Each figure's link lists exactly the tickets the figure counts: the same ids as the
    plain computation, as many as the figure says, and the medians and the average
    recomputed from the rows listed equal the figures shown."""
    resolved, first_median, resolution_median, sla, average, ratings = (cell[0] for cell in cells)
    for column, (_, url, _, _) in enumerate(cells):
        listed = _listed(client, url)
        assert {t.pk for t in listed} == {f["ticket"].pk for f in facts if BEHIND[column](f)}, (column, url)
        if column == 0:
            assert len(listed) == int(resolved) == row.resolved
        elif column == 1:
            assert len(listed) == row.first_replies
            minutes = [
                max(0, int((t.first_reply.first_response_at - t.created_at).total_seconds() // 60)) for t in listed
            ]
            assert _median_minutes(minutes) == first_median
        elif column == 2:
            assert _median_minutes([t.resolution_time_minutes for t in listed]) == resolution_median
        elif column == 3:
            assert len(listed) == row.sla_met and float(sla) == round(100 * len(listed) / int(resolved), 1)
        else:
            assert len(listed) == int(ratings)
            assert float(average) == round(sum(t.customer_satisfaction_rating for t in listed) / len(listed), 2)
    _, _, missed, missed_url = cells[3]
    listed = _listed(client, missed_url)
    assert {t.pk for t in listed} == {f["ticket"].pk for f in facts if not _met(f)}
    assert len(listed) == int(missed) == row.resolved - row.sla_met


def test_each_figure_links_to_the_tickets_it_counts(client, lead, report_data):
    facts, now = report_data
    run_team_weekly(day_range(now.date() - dt.timedelta(days=20), now.date()))
    client.force_login(lead)
    page = client.get(reverse("admin:tickets_ticket_team_report"))
    body = assert_page_shows(page, present=["Per agent and week", "Per category and week"])
    # The busiest rows of each table, with tickets on both sides of every figure.
    agent_row = max(AgentWeekly.objects.select_related("agent"), key=lambda r: (r.resolved, r.sla_met))
    category_row = max(CategoryWeekly.objects.all(), key=lambda r: (r.resolved, r.sla_met))
    for row, table, name, in_row in [
        (agent_row, "report-agents", agent_row.agent_name, lambda f: f["agent"] == agent_row.agent),
        (
            category_row,
            "report-categories",
            category_row.get_issue_category_display(),
            lambda f: f["ticket"].issue_category == category_row.issue_category,
        ),
    ]:
        cells = _page_rows(body, table)[(name, f"{row.week:%Y-%m-%d}")]
        assert len(cells) == 6
        behind = [f for f in facts if in_row(f) and _week_of(f["ticket"]) == row.week]
        assert 0 < row.sla_met < row.resolved and row.ratings and row.first_replies, "a row with every kind of ticket"
        _assert_links_open_the_tickets_counted(client, row, cells, behind)


def test_the_page_exports_csv(client, lead, report_data):
    facts, now = report_data
    run_team_weekly(day_range(now.date() - dt.timedelta(days=20), now.date()))
    client.force_login(lead)
    export = client.get(reverse("admin:tickets_ticket_team_report") + "?format=csv")
    lines = list(csv.reader(io.StringIO(export.content.decode())))
    assert lines[0][:3] == ["group", "name", "week"]
    assert len(lines) == 1 + AgentWeekly.objects.count() + CategoryWeekly.objects.count()


def test_the_csv_never_carries_a_formula(client, lead, make_staff):
    from customer_ops.roles import Role

    evil = make_staff(Role.AGENT, username="evil", first_name="=HYPERLINK(1)", last_name="")
    TicketFactory(status="RESOLVED", resolved_at=timezone.now(), resolved_by=evil, resolution_time_minutes=3)
    run_team_weekly(day_range(timezone.now().date()))
    client.force_login(lead)
    body = client.get(reverse("admin:tickets_ticket_team_report") + "?format=csv").content.decode()
    assert "'=HYPERLINK(1)" in body and ",=HYPERLINK" not in body


@pytest.mark.parametrize("who", ["agent", "fraud"])
def test_only_leads_see_the_report(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("admin:tickets_ticket_team_report")).status_code == 403


def test_report_page_query_budget(client, lead, report_data, django_assert_max_num_queries):
    facts, now = report_data
    run_team_weekly(day_range(now.date() - dt.timedelta(days=20), now.date()))
    client.force_login(lead)
    with django_assert_max_num_queries(10) as queries:
        assert client.get(reverse("admin:tickets_ticket_team_report")).status_code == 200
    print(f"\nteam report page: {len(queries)} queries")


@pytest.mark.parametrize(
    "filter_class, value, index",
    [
        (ResolvedWeekFilter, "2026-11-30", "customer_tickets_resolved_idx"),
        (ResolvedByFilter, "7", "tickets_resolved_by_idx"),
        (ReportFigureFilter, "sla_missed", "customer_tickets_resolved_idx"),
        (ReportFigureFilter, "rated", "customer_tickets_resolved_idx"),
    ],
)
def test_the_report_links_are_served_by_the_partial_resolved_indexes(rf, filter_class, value, index):
    # The premise of the index walker's rule (a comparison implies IS NOT NULL): PostgreSQL
    # reads these partial indexes for the filters' own queries.
    model_admin = admin.site._registry[Ticket]
    request = rf.get("/", {filter_class.parameter_name: value})
    spec = filter_class(request, {filter_class.parameter_name: [value]}, Ticket, model_admin)
    plan = explain(spec.queryset(request, Ticket.objects.all()), bitmap_only=True)
    assert not plan.whole and plan.uses("customer_tickets") == {index}, plan.text
