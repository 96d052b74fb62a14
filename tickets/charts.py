"""Dashboard charts of support: tickets opened and resolved per day, the median resolution
time by category, and refund amounts per day. One or two queries each, whatever the range,
over the tables that ``run_daily_jobs`` keeps (``tickets.jobs.run_ticket_daily``) and, for
the last ``RAW_DAYS`` days, the hours triggers keep (``support_ticket_hourly``,
tickets/models_hourly.py) or the resolved tickets and refunds themselves."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass

from customer_ops.dates import split_range
from customer_ops.registry import register_chart
from customer_ops.replica import read_connection
from tickets.choices import IssueCategory
from tickets.models import CATEGORY_BUCKET_EDGES, RESOLUTION_BUCKET_EDGES


def _labels(f: dict) -> list[str]:
    return [d.isoformat() for d in f["days"]]


def _split(f: dict) -> dict:
    """The range split at ``RAW_DAYS`` ago (customer_ops.dates): older days from the support
    tables run_daily_jobs keeps, the recent ones from the hours triggers keep or the tickets
    and refunds themselves."""
    return split_range(f)


_SERVICE = "(%(service)s = '' OR service_type = %(service)s)"

_PER_DAY_SQL = f"""
    SELECT day, sum(opened), sum(resolved) FROM support_ticket_daily
     WHERE day BETWEEN %(first)s AND %(last)s AND day < %(raw_first)s AND {_SERVICE}
     GROUP BY day
    UNION ALL
    SELECT (hour AT TIME ZONE 'UTC')::date, sum(opened), sum(resolved) FROM support_ticket_hourly
     WHERE hour >= %(raw_start)s AND hour < %(end)s AND {_SERVICE}
     GROUP BY 1
"""


def tickets_per_day(f: dict) -> dict:
    opened: Counter = Counter()
    resolved: Counter = Counter()
    with read_connection().cursor() as cursor:  # the replica inside read_replica()
        cursor.execute(_PER_DAY_SQL, _split(f))
        for day, n_opened, n_resolved in cursor.fetchall():
            opened[day] += n_opened
            resolved[day] += n_resolved
    return {
        "labels": _labels(f),
        "datasets": [
            {"label": "Opened", "data": [opened[d] for d in f["days"]]},
            {"label": "Resolved", "data": [resolved[d] for d in f["days"]]},
        ],
    }


# Resolved tickets with a resolution time, per category and bucket, over the range: older days
# from a daily histogram table the job keeps, the live days from ``live`` (below).
def _buckets_sql(histograms: str, of_service: str, live: str) -> str:
    return f"""
    SELECT issue_category, b.i - 1, sum(b.n)
      FROM {histograms} d, unnest(d.resolution_histogram) WITH ORDINALITY b(n, i)
     WHERE day BETWEEN %(first)s AND %(last)s AND day < %(raw_first)s AND {of_service} AND b.n > 0
     GROUP BY 1, 2
    UNION ALL
    {live}
"""


# The live days' buckets of a chosen service: from its tickets resolved since yesterday.
_LIVE_TICKETS = f"""
    SELECT issue_category, width_bucket(resolution_time_minutes, %(edges)s::int[]), count(*)
      FROM customer_tickets
     WHERE resolved_at >= %(raw_start)s AND resolved_at < %(end)s AND {_SERVICE}
       AND resolution_time_minutes IS NOT NULL
     GROUP BY 1, 2
"""
# ... and of every service: from the histograms triggers keep per day and category
# (support_category_resolved, tickets/models_hourly.py), two rows a category.
_LIVE_HISTOGRAMS = """
    SELECT issue_category, b.i - 1, sum(b.n)
      FROM support_category_resolved d, unnest(d.resolution_histogram) WITH ORDINALITY b(n, i)
     WHERE day >= %(raw_first)s AND day <= %(last)s AND b.n > 0
     GROUP BY 1, 2
"""


# The tickets per minute value within one bucket per category (the buckets holding the medians).
def _minutes_sql(of_service: str) -> str:
    return f"""
    WITH wanted AS (SELECT * FROM unnest(%(categories)s::text[], %(low)s::int[], %(high)s::int[]) w(cat, low, high))
    SELECT m.issue_category, m.minutes, sum(m.tickets)
      FROM wanted w JOIN support_resolution_minutes_daily m
        ON m.issue_category = w.cat AND m.minutes >= w.low AND m.minutes < w.high
     WHERE m.day BETWEEN %(first)s AND %(last)s AND m.day < %(raw_first)s AND {of_service}
     GROUP BY 1, 2
    UNION ALL
    SELECT t.issue_category, t.resolution_time_minutes, count(*)
      FROM wanted w JOIN customer_tickets t
        ON t.issue_category = w.cat AND t.resolution_time_minutes >= w.low AND t.resolution_time_minutes < w.high
     WHERE t.resolved_at >= %(raw_start)s AND t.resolved_at < %(end)s AND {_SERVICE}
     GROUP BY 1, 2
"""


@dataclass(frozen=True)
class _MedianPlan:
    """Where the median reads a range's buckets and minutes, and the buckets' edges."""

    buckets_sql: str
    minutes_sql: str
    edges: list[int]

    def bounds(self, bucket: int) -> tuple[int, int]:
        """Minutes ``[low, high)`` of a bucket (the last one is open-ended)."""
        low = self.edges[bucket - 1] if bucket > 0 else 0
        high = self.edges[bucket] if bucket < len(self.edges) else 2**31 - 1
        return low, high


# A service chosen: its rows of the per-service histograms (half-octave buckets) and its live
# tickets. Every service (the default view): the histograms run_ticket_daily keeps over the
# services, one row a day per category in eighth-octave buckets (support_category_daily), and
# the live days' from the triggers' table, so that the second query reads every service's
# minutes of a bucket about a quarter as wide.
_PLANS = {
    True: _MedianPlan(
        _buckets_sql("support_ticket_daily", "service_type = %(service)s", _LIVE_TICKETS),
        _minutes_sql("m.service_type = %(service)s"),
        RESOLUTION_BUCKET_EDGES,
    ),
    False: _MedianPlan(
        _buckets_sql("support_category_daily", "true", _LIVE_HISTOGRAMS), _minutes_sql("true"), CATEGORY_BUCKET_EDGES
    ),
}


def _nth(counts: Counter, n: int, skipped: int) -> int | None:
    """The ``n``-th (0-based) value of a multiset given as ``{value: count}``, of which the
    first ``skipped`` values lie before ``counts``; None if it holds fewer."""
    seen = skipped
    for value in sorted(counts):
        seen += counts[value]
        if seen > n:
            return value
    return None


def median_resolution_by_category(f: dict) -> dict:
    """The median resolution time per category of the tickets resolved in the range, exactly
    ``percentile_cont(0.5)`` over them, in two queries whatever the range: the buckets first,
    then the minutes of the (at most two) buckets that hold each category's middle tickets.

    The live days' buckets and minutes are two statements over the tickets: a ticket resolved
    or reopened between them makes a bucket's minutes disagree with its count. The reading is
    then done again (twice at most; a third disagreeing reading is shown as it is)."""
    for _ in range(3):
        medians, consistent = _medians(f)
        if consistent:
            break
    return {
        "labels": [c.label for c in IssueCategory],
        "datasets": [
            {
                "label": "Median minutes to resolve",
                "data": [round(medians[c.value], 1) if c.value in medians else None for c in IssueCategory],
            }
        ],
    }


def _medians(f: dict) -> tuple[dict[str, float], bool]:
    """``({category: median}, whether each middle bucket's minutes added up to its count)``."""
    plan = _PLANS[bool(f["service_type"])]
    params = {**_split(f), "edges": plan.edges}
    with read_connection().cursor() as cursor:
        cursor.execute(plan.buckets_sql, params)
        buckets: dict[str, Counter] = defaultdict(Counter)
        for category, bucket, n in cursor.fetchall():
            buckets[category][bucket] += n

        # Each category's middle positions (one for an odd count, two for an even one), the
        # bucket holding each, and how many tickets lie in the buckets before it.
        middles: dict[str, list[tuple[int, int, int]]] = {}
        for category, per_bucket in buckets.items():
            total = sum(per_bucket.values())
            middles[category] = []
            for position in sorted({(total - 1) // 2, total // 2}):
                before = 0
                for bucket in sorted(per_bucket):
                    if before + per_bucket[bucket] > position:
                        middles[category].append((position, bucket, before))
                        break
                    before += per_bucket[bucket]
        wanted = sorted({(c, b) for c, rows in middles.items() for _, b, _ in rows})
        minutes: dict[tuple[str, int], Counter] = defaultdict(Counter)
        if wanted:
            bounds = [plan.bounds(b) for _, b in wanted]
            cursor.execute(
                plan.minutes_sql,
                {
                    **params,
                    "categories": [c for c, _ in wanted],
                    "low": [low for low, _ in bounds],
                    "high": [high for _, high in bounds],
                },
            )
            for category, value, n in cursor.fetchall():
                minutes[(category, bisect_right(plan.edges, value))][value] += n

    consistent = all(minutes[(c, b)].total() == buckets[c][b] for c, b in wanted)
    medians = {}
    for category, rows in middles.items():
        values = [_nth(minutes[(category, b)], p, before) for p, b, before in rows]
        if None not in values:
            medians[category] = sum(values) / len(values)
    return medians, consistent


_REFUNDS_SQL = f"""
    SELECT day, sum(requested), sum(approved) FROM support_refund_daily
     WHERE day BETWEEN %(first)s AND %(last)s AND day < %(raw_first)s AND {_SERVICE}
     GROUP BY day
    UNION ALL
    SELECT (r.created_at AT TIME ZONE 'UTC')::date,
           coalesce(sum(r.requested_amount), 0), coalesce(sum(r.approved_amount), 0)
      FROM customer_refund_requests r
     WHERE r.created_at >= %(raw_start)s AND r.created_at < %(end)s {{of_service}}
     GROUP BY 1
"""
# A service chosen: each recent refund's order looked up by its primary key.
_OF_SERVICE = "AND EXISTS (SELECT 1 FROM orders o WHERE o.id = r.order_id AND o.service_type = %(service)s)"


def refund_amounts(f: dict) -> dict:
    requested: Counter = Counter()
    approved: Counter = Counter()
    with read_connection().cursor() as cursor:
        cursor.execute(_REFUNDS_SQL.format(of_service=_OF_SERVICE if f["service_type"] else ""), _split(f))
        for day, day_requested, day_approved in cursor.fetchall():
            requested[day] += day_requested
            approved[day] += day_approved
    return {
        "labels": _labels(f),
        "datasets": [
            {"label": "Requested", "data": [float(requested[d]) for d in f["days"]]},
            {"label": "Approved", "data": [float(approved[d]) for d in f["days"]]},
        ],
    }


register_chart(key="tickets_per_day", title="Tickets opened and resolved per day", data=tickets_per_day, order=30)
register_chart(
    key="median_resolution",
    title="Median resolution time by category (minutes)",
    data=median_resolution_by_category,
    kind="bar",
    order=40,
)
register_chart(key="refund_amounts", title="Refund amounts per day", data=refund_amounts, kind="bar", order=50)
