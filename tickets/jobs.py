"""Scheduled, idempotent, set-based work of the support console.

:func:`escalate_sla_breaches` -- the SLA escalation policy:

* a ticket that is still open (OPEN or IN_PROGRESS) breaches its **first-response**
  target when no agent has replied by ``created_at + target``, and its **resolution**
  target when it is not resolved by ``created_at + target`` (targets per priority in
  ``settings.SUPPORT_SLA``, read through ``customer_ops.deadlines``);
* each breach is escalated **once**: a row in ``ticket_sla_escalations`` (unique per
  ticket and target) records it and is the lead's flag (the queue's "Escalated to lead"
  view and the red mark in the list);
* on a ticket's first escalation its priority is raised one level (LOW -> MEDIUM -> HIGH
  -> URGENT -> CRITICAL; CRITICAL stays), with an audit entry (actor SYSTEM) and a history
  row; every escalation adds a SYSTEM message to the thread. A raised priority shortens
  the other target, so the run looks again and flags (without raising again) what that
  breaches at once.

Re-running finds the same breaches already recorded and changes nothing. Finding the
breaches and recording them is one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING``; the follow-up writes are batched (one UPDATE, one history INSERT, one message
INSERT), plus one audit call per newly escalated ticket (bounded by the run's new breaches).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from customer_ops.audit import audit
from customer_ops.context import SYSTEM
from customer_ops.db import upsert_set
from customer_ops.deadlines import ticket_sla_targets
from customer_ops.registry import register_daily_job
from tickets.choices import MessageType, Priority, SenderType, TicketStatus
from tickets.models import CATEGORY_BUCKET_EDGES, RESOLUTION_BUCKET_EDGES, SlaEscalation, SlaKind, Ticket, TicketMessage

ESCALATION_ORDER = [Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT, Priority.CRITICAL]


def raised(priority: str) -> str:
    i = ESCALATION_ORDER.index(priority)
    return ESCALATION_ORDER[min(i + 1, len(ESCALATION_ORDER) - 1)]


@dataclass(frozen=True)
class EscalationResult:
    breaches: int  # new breaches recorded this run
    tickets: int  # tickets escalated this run
    raised: int  # of which had their priority raised


_BREACHES_SQL = f"""
WITH targets (priority, first_response, resolution, raised) AS (
    SELECT * FROM unnest(%(priorities)s::text[], %(first_response)s::interval[],
                         %(resolution)s::interval[], %(raised)s::text[])
),
breaches AS (
    SELECT t.id, 'FIRST_RESPONSE' AS kind, t.created_at + g.first_response AS due_at, t.priority, g.raised
      FROM {Ticket._meta.db_table} t JOIN targets g ON g.priority = t.priority
     WHERE t.status IN (%(open)s, %(in_progress)s)
       AND t.created_at + g.first_response < %(now)s
       AND NOT EXISTS (SELECT 1 FROM {TicketMessage._meta.db_table} m
                        WHERE m.ticket_id = t.id AND m.sender_type = %(agent)s)
    UNION ALL
    SELECT t.id, 'RESOLUTION', t.created_at + g.resolution, t.priority, g.raised
      FROM {Ticket._meta.db_table} t JOIN targets g ON g.priority = t.priority
     WHERE t.status IN (%(open)s, %(in_progress)s)
       AND t.created_at + g.resolution < %(now)s
)
INSERT INTO {SlaEscalation._meta.db_table} (ticket_id, kind, due_at, escalated_at, from_priority, to_priority)
SELECT id, kind, due_at, %(now)s, priority, raised FROM breaches
ON CONFLICT (ticket_id, kind) DO NOTHING
RETURNING ticket_id, kind, from_priority, to_priority
"""


def _record_breaches(now: dt.datetime) -> list[tuple]:
    first_response, resolution = ticket_sla_targets("first_response"), ticket_sla_targets("resolution")
    priorities = list(first_response)
    with connection.cursor() as cursor:
        cursor.execute(
            _BREACHES_SQL,
            {
                "priorities": priorities,
                "first_response": [first_response[p] for p in priorities],
                "resolution": [resolution[p] for p in priorities],
                "raised": [raised(p) for p in priorities],
                "open": TicketStatus.OPEN,
                "in_progress": TicketStatus.IN_PROGRESS,
                "agent": SenderType.AGENT,
                "now": now,
            },
        )
        return cursor.fetchall()


@transaction.atomic
def escalate_sla_breaches(*, now: dt.datetime | None = None) -> EscalationResult:
    now = now or timezone.now()
    breaches = raised_count = 0
    escalated_in_run: set[int] = set()
    # A raised priority shortens the targets, so the other target may now be breached too:
    # look again (at most once per target kind) so that a second run finds nothing new.
    for _ in range(len(SlaKind.values)):
        rows = _record_breaches(now)
        if not rows:
            break
        kinds: dict[int, list[str]] = {}
        for ticket_id, kind, _from, _to in rows:
            kinds.setdefault(ticket_id, []).append(kind)
        # Priority is raised on a ticket's first escalation only; later breaches just flag it.
        earlier = escalated_in_run | set(
            SlaEscalation.objects.filter(ticket_id__in=kinds)
            .exclude(escalated_at=now)
            .values_list("ticket_id", flat=True)
        )
        tickets = list(Ticket.objects.select_for_update().filter(pk__in=kinds).order_by("pk"))
        to_raise, messages = [], []
        for ticket in tickets:
            what = " and ".join(k.replace("_", " ").lower() for k in sorted(kinds[ticket.pk]))
            text = f"SLA breached ({what} target): escalated to the team lead"
            new = raised(ticket.priority)
            if ticket.pk not in earlier and new != ticket.priority:
                text += f", priority raised from {Priority(ticket.priority).label} to {Priority(new).label}"
                audit(
                    customer_id=ticket.customer_id,
                    action_type="UPDATE",
                    action_field="customer_tickets.priority",
                    old_value=ticket.priority,
                    new_value=new,
                    reason=f"Ticket {ticket.ticket_id}: SLA breached ({what})",
                    actor=SYSTEM,
                )
                ticket.priority = new
                to_raise.append(ticket)
            messages.append(
                TicketMessage(
                    ticket=ticket,
                    message_text=text + ".",
                    message_type=MessageType.SYSTEM,
                    sender_type=SenderType.SYSTEM,
                    sender_name="System",
                    is_read=True,
                )
            )
        if to_raise:
            bulk_update_with_history(to_raise, Ticket, ["priority"], default_change_reason="SLA escalation")
        TicketMessage.objects.bulk_create(messages)
        escalated_in_run |= set(kinds)
        breaches += len(rows)
        raised_count += len(to_raise)
    return EscalationResult(breaches=breaches, tickets=len(escalated_in_run), raised=raised_count)


# --- the dashboard's support figures (support_ticket_daily, support_resolution_minutes_daily,
# support_category_daily, support_refund_daily) --------------------------------------------

# Tickets resolved in the range, with their resolution-time bucket (0-based, as in
# tickets.models.RESOLUTION_BUCKET_EDGES). A ticket without a service is keyed '' here (the
# tables keep NULL): FULL/equality joins need a non-null key.
_RESOLVED_SQL = """
    SELECT (resolved_at AT TIME ZONE 'UTC')::date AS day, coalesce(service_type, '') AS svc, issue_category,
           resolution_time_minutes AS minutes, width_bucket(resolution_time_minutes, %(edges)s::int[]) AS bucket
    FROM customer_tickets
    WHERE resolved_at >= %(start)s AND resolved_at < %(end)s
"""

TICKET_DAILY_UPSERT_SQL = f"""
    WITH resolved_rows AS MATERIALIZED ({_RESOLVED_SQL}),
    computed AS MATERIALIZED (
        SELECT day, svc, issue_category, sum(opened)::int AS opened, sum(resolved)::int AS resolved
        FROM (
            SELECT (created_at AT TIME ZONE 'UTC')::date AS day, coalesce(service_type, '') AS svc, issue_category,
                   1 AS opened, 0 AS resolved
            FROM customer_tickets WHERE created_at >= %(start)s AND created_at < %(end)s
            UNION ALL
            SELECT day, svc, issue_category, 0, 1 FROM resolved_rows
        ) events
        GROUP BY 1, 2, 3
    ),
    per_bucket AS (
        SELECT day, svc, issue_category, bucket, count(*)::int AS n
        FROM resolved_rows WHERE minutes IS NOT NULL GROUP BY 1, 2, 3, 4
    ),
    histograms AS (
        SELECT k.day, k.svc, k.issue_category, array_agg(coalesce(p.n, 0) ORDER BY g.b) AS histogram
        FROM (SELECT DISTINCT day, svc, issue_category FROM per_bucket) k
        CROSS JOIN generate_series(0, cardinality(%(edges)s::int[])) g(b)
        LEFT JOIN per_bucket p
          ON p.day = k.day AND p.svc = k.svc AND p.issue_category = k.issue_category AND p.bucket = g.b
        GROUP BY 1, 2, 3
    ),
    upserted AS (
        INSERT INTO support_ticket_daily AS t
            (day, service_type, issue_category, opened, resolved, resolution_histogram, updated_at)
        SELECT c.day, nullif(c.svc, ''), c.issue_category, c.opened, c.resolved, coalesce(h.histogram, '{{}}'), now()
        FROM computed c LEFT JOIN histograms h USING (day, svc, issue_category)
        ON CONFLICT (day, service_type, issue_category) DO UPDATE
        SET updated_at = now(), {upsert_set("t", ["opened", "resolved", "resolution_histogram"])}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM support_ticket_daily t
        WHERE t.day BETWEEN %(first)s AND %(last)s
          AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.day = t.day AND c.svc = coalesce(t.service_type, '')
                                                     AND c.issue_category = t.issue_category)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""

RESOLUTION_MINUTES_UPSERT_SQL = f"""
    WITH computed AS MATERIALIZED (
        SELECT day, svc, issue_category, minutes, count(*)::int AS tickets
        FROM ({_RESOLVED_SQL}) r WHERE minutes IS NOT NULL GROUP BY 1, 2, 3, 4
    ),
    upserted AS (
        INSERT INTO support_resolution_minutes_daily AS t (day, service_type, issue_category, minutes, tickets)
        SELECT day, nullif(svc, ''), issue_category, minutes, tickets FROM computed
        ON CONFLICT (day, service_type, issue_category, minutes) DO UPDATE
        SET tickets = EXCLUDED.tickets WHERE t.tickets <> EXCLUDED.tickets
        RETURNING 1
    ),
    stale AS (
        DELETE FROM support_resolution_minutes_daily t
        WHERE t.day BETWEEN %(first)s AND %(last)s
          AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.day = t.day AND c.svc = coalesce(t.service_type, '')
                                                     AND c.issue_category = t.issue_category AND c.minutes = t.minutes)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""


# The resolution times over every service, per day and category, in the finer buckets of
# support_category_daily (the dashboard's default view). Summed from the minutes just written
# in the same transaction, not from the tickets: the median reads a bucket's count here and
# its minutes there, so the two must agree even if a ticket changes between the statements.
CATEGORY_DAILY_UPSERT_SQL = """
    WITH per_bucket AS MATERIALIZED (
        SELECT day, issue_category, width_bucket(minutes, %(category_edges)s::int[]) AS bucket,
               sum(tickets)::int AS n
        FROM support_resolution_minutes_daily
        WHERE day BETWEEN %(first)s AND %(last)s
        GROUP BY 1, 2, 3
    ),
    computed AS MATERIALIZED (
        SELECT k.day, k.issue_category, array_agg(coalesce(p.n, 0) ORDER BY g.b) AS histogram
        FROM (SELECT DISTINCT day, issue_category FROM per_bucket) k
        CROSS JOIN generate_series(0, cardinality(%(category_edges)s::int[])) g(b)
        LEFT JOIN per_bucket p ON p.day = k.day AND p.issue_category = k.issue_category AND p.bucket = g.b
        GROUP BY 1, 2
    ),
    upserted AS (
        INSERT INTO support_category_daily AS t (day, issue_category, resolution_histogram, updated_at)
        SELECT day, issue_category, histogram, now() FROM computed
        ON CONFLICT (day, issue_category) DO UPDATE
        SET updated_at = now(), resolution_histogram = EXCLUDED.resolution_histogram
        WHERE t.resolution_histogram IS DISTINCT FROM EXCLUDED.resolution_histogram
        RETURNING 1
    ),
    stale AS (
        DELETE FROM support_category_daily t
        WHERE t.day BETWEEN %(first)s AND %(last)s
          AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.day = t.day AND c.issue_category = t.issue_category)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""

# Refund requests per day of their creation and service of their order (the refunds of the
# range, each joined to its order through the primary key).
REFUND_DAILY_UPSERT_SQL = f"""
    WITH computed AS MATERIALIZED (
        SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, o.service_type, count(*)::int AS refunds,
               coalesce(sum(r.requested_amount), 0) AS requested, coalesce(sum(r.approved_amount), 0) AS approved
        FROM customer_refund_requests r JOIN orders o ON o.id = r.order_id
        WHERE r.created_at >= %(start)s AND r.created_at < %(end)s
        GROUP BY 1, 2
    ),
    upserted AS (
        INSERT INTO support_refund_daily AS t (day, service_type, refunds, requested, approved, updated_at)
        SELECT day, service_type, refunds, requested, approved, now() FROM computed
        ON CONFLICT (day, service_type) DO UPDATE
        SET updated_at = now(), {upsert_set("t", ["refunds", "requested", "approved"])}
        RETURNING 1
    ),
    stale AS (
        DELETE FROM support_refund_daily t
        WHERE t.day BETWEEN %(first)s AND %(last)s
          AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.day = t.day AND c.service_type = t.service_type)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted), (SELECT count(*) FROM stale)
"""


def run_ticket_daily(days) -> str:
    """Upsert the dashboard's support figures for every day of ``days`` (a
    ``DayRange``-like object: ``first``, ``last``, ``params()``). Idempotent: a re-run writes
    only what changed and removes the rows of days that no longer have tickets."""
    params = {**days.params(), "edges": RESOLUTION_BUCKET_EDGES, "category_edges": CATEGORY_BUCKET_EDGES}
    results = []
    with transaction.atomic(), connection.cursor() as cursor:
        for label, sql in [
            ("support daily", TICKET_DAILY_UPSERT_SQL),
            ("resolution minutes", RESOLUTION_MINUTES_UPSERT_SQL),
            ("category histograms", CATEGORY_DAILY_UPSERT_SQL),
            ("refunds", REFUND_DAILY_UPSERT_SQL),
        ]:
            cursor.execute(sql, params)
            rows, written, deleted = cursor.fetchone()
            results.append(f"{label}: {rows} rows computed, {written} written, {deleted} stale removed")
    return "; ".join(results)


register_daily_job(key="support_daily", label="support figures", run=run_ticket_daily, order=50)


# The lead's team report tables (support_agent_weekly, support_category_weekly).
from tickets import team_report  # noqa: E402, F401  (registers its daily job)
