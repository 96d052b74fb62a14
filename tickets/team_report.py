"""The lead's team report: per agent and week, and per category and week, the tickets
resolved, the median first-reply and resolution times, the SLA met share and the customers'
satisfaction. Kept by :func:`run_team_weekly` (a daily job of ``run_daily_jobs``) in
``support_agent_weekly`` and ``support_category_weekly``; the report page reads those rows
only (a quarter: 13 weeks x agents rows), never the tickets.

Definitions (one place; the test's plain-Python reference follows them):

* a ticket counts in the week (Monday, UTC) of its ``resolved_at``, for the agent in
  ``resolved_by`` (tickets resolved by nobody count in the category rows only);
* first reply: whole minutes from ``created_at`` to the first AGENT message
  (``tickets_first_response``), 0 at least; resolution: ``resolution_time_minutes``;
  medians are ``percentile_cont(0.5)`` (the mean of the middle two for an even count);
* SLA met: the first reply by ``created_at + first-response target`` and ``resolved_at`` by
  ``created_at + resolution target`` (``settings.SUPPORT_SLA``, by the ticket's priority);
* satisfaction: the average and count of ``customer_satisfaction_rating`` given.

Ratings and reopenings arrive after the week: each run recomputes every week that overlaps
its days or the :data:`LOOKBACK` before them (whole weeks, upserted; weeks whose tickets
all went away are removed), so a daily run keeps the last weeks exact and a run over every
day rebuilds everything.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from customer_ops.db import upsert_set
from customer_ops.deadlines import ticket_sla_targets
from customer_ops.registry import register_daily_job

LOOKBACK = dt.timedelta(days=28)
FIGURES = ["resolved", "first_replies", "first_reply_median", "resolution_median", "sla_met", "ratings", "rating_sum"]

_FACTS = """
    WITH targets (priority, first_response, resolution) AS (
        SELECT * FROM unnest(%(priorities)s::text[], %(first_response)s::interval[], %(resolution)s::interval[])
    ),
    facts AS MATERIALIZED (
        SELECT date_trunc('week', t.resolved_at AT TIME ZONE 'UTC')::date AS week,
               t.resolved_by AS agent_id, t.issue_category,
               -- greatest() skips NULLs: no agent reply must stay NULL, not become 0
               CASE WHEN f.first_response_at IS NOT NULL
                    THEN greatest(0, floor(extract(epoch FROM f.first_response_at - t.created_at) / 60))::int
               END AS first_reply,
               t.resolution_time_minutes AS resolution,
               (f.first_response_at IS NOT NULL AND f.first_response_at <= t.created_at + g.first_response
                AND t.resolved_at <= t.created_at + g.resolution) AS met,
               t.customer_satisfaction_rating AS rating
        FROM customer_tickets t
        JOIN targets g ON g.priority = t.priority
        LEFT JOIN tickets_first_response f ON f.ticket_id = t.id
        WHERE t.resolved_at >= %(start)s AND t.resolved_at < %(end)s
    )
"""

_AGGREGATES = """
    count(*)::int AS resolved, count(first_reply)::int AS first_replies,
    (percentile_cont(0.5) WITHIN GROUP (ORDER BY first_reply))::numeric(12, 1) AS first_reply_median,
    (percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution))::numeric(12, 1) AS resolution_median,
    (count(*) FILTER (WHERE met))::int AS sla_met, count(rating)::int AS ratings,
    coalesce(sum(rating), 0)::int AS rating_sum
"""


def _upsert_sql(table: str, key: str, where: str) -> str:
    return f"""
    {_FACTS},
    computed AS MATERIALIZED (
        SELECT week, {key}, {_AGGREGATES} FROM facts {where} GROUP BY week, {key}
    ),
    upserted AS (
        INSERT INTO {table} AS t (week, {key}, {", ".join(FIGURES)}, updated_at)
        SELECT week, {key}, {", ".join(FIGURES)}, now() FROM computed
        ON CONFLICT (week, {key}) DO UPDATE SET updated_at = now(), {upsert_set("t", FIGURES)}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM {table} t
        WHERE t.week >= %(start)s::date AND t.week < %(end)s::date
          AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.week = t.week AND c.{key} = t.{key})
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
    """


AGENT_WEEKLY_SQL = _upsert_sql("support_agent_weekly", "agent_id", "WHERE agent_id IS NOT NULL")
CATEGORY_WEEKLY_SQL = _upsert_sql("support_category_weekly", "issue_category", "")


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weeks_of(days) -> tuple[dt.datetime, dt.datetime]:
    """The whole weeks (UTC) a run over ``days`` recomputes: [start, end)."""
    start = monday(days.first - LOOKBACK)
    end = monday(days.last) + dt.timedelta(days=7)
    return (dt.datetime.combine(start, dt.time(), dt.UTC), dt.datetime.combine(end, dt.time(), dt.UTC))


def run_team_weekly(days) -> str:
    start, end = weeks_of(days)
    first_response, resolution = ticket_sla_targets("first_response"), ticket_sla_targets("resolution")
    priorities = list(first_response)
    params = {
        "start": start,
        "end": end,
        "priorities": priorities,
        "first_response": [first_response[p] for p in priorities],
        "resolution": [resolution[p] for p in priorities],
    }
    results = []
    with transaction.atomic(), connection.cursor() as cursor:
        for label, sql in [("agents", AGENT_WEEKLY_SQL), ("categories", CATEGORY_WEEKLY_SQL)]:
            cursor.execute(sql, params)
            rows, written, deleted = cursor.fetchone()
            results.append(f"{label}: {rows} week rows computed, {written} written, {deleted} stale removed")
    return f"weeks {start:%Y-%m-%d}..{end:%Y-%m-%d}: " + "; ".join(results)


register_daily_job(key="support_team_weekly", label="support team report", run=run_team_weekly, order=55)


# --- The tickets behind each figure -----------------------------------------------------


def figure_tickets(qs, figure: str):
    """The tickets of ``qs`` that ``figure`` counts, by the definitions above (the queue's
    "report figure" filter, which the report's links pair with the week and the agent or
    category): ``None`` for an unknown figure.

    * ``first_reply``: with a first agent reply (the first-reply median's tickets);
    * ``sla_met`` / ``sla_missed``: the SLA met, or not (no reply counts as missed);
    * ``rated``: with a satisfaction rating (the average's and the count's tickets).

    The resolved count and the resolution median are of every resolved ticket (the week's
    filter alone).
    """
    from django.db.models import BooleanField, Case, F, Q, Value, When

    from customer_ops.deadlines import target_expression

    resolved = qs.filter(resolved_at__isnull=False)
    if figure == "first_reply":
        return resolved.filter(first_reply__isnull=False)
    if figure == "rated":
        return resolved.filter(customer_satisfaction_rating__isnull=False)
    if figure in ("sla_met", "sla_missed"):
        kinds = ("first_response", "resolution")
        due = {kind: F("created_at") + target_expression("priority", ticket_sla_targets(kind)) for kind in kinds}
        met = Q(first_reply__first_response_at__lte=due["first_response"], resolved_at__lte=due["resolution"])
        # A CASE, not ~Q: a missing reply or target (NULL) is "not met", as in _FACTS.
        flag = Case(When(met, then=Value(True)), default=Value(False), output_field=BooleanField())
        return resolved.alias(report_sla_met=flag).filter(report_sla_met=figure == "sla_met")
    return None


# --- The report page's reads ------------------------------------------------------------

QUARTER_WEEKS = 13


def report_rows(start: dt.date, end: dt.date) -> tuple[list, list]:
    """(agent rows, category rows) of the weeks in [start, end): two indexed queries
    (the tables' unique keys lead with ``week``)."""
    from tickets.models import AgentWeekly, CategoryWeekly

    agents = list(
        AgentWeekly.objects.filter(week__gte=start, week__lt=end)
        .select_related("agent")
        .only("agent__first_name", "agent__last_name", "agent__username", *["week", *FIGURES])
        .order_by("agent__first_name", "agent__last_name", "agent_id", "-week")
    )
    categories = list(CategoryWeekly.objects.filter(week__gte=start, week__lt=end).order_by("issue_category", "-week"))
    return agents, categories
