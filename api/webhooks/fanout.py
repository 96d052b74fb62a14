"""Fan-out: each new event to each subscription that wants it, in the emitting transaction.

Registered with :func:`customer_ops.events.on_events` (``api.apps``), so it runs inside the
transaction of the change: one statement inserts a delivery row per event and live
subscription of its type, another defers one procrastinate job per delivery
(``procrastinate_defer_jobs_v1``, the function procrastinate's own ``defer`` calls), so
a rolled-back change leaves neither, and a committed one has both. A set of 10,000 events
(the trust engine's) is still a few statements.

Ordering: every job of one subscription and customer carries the lock
``webhook-<subscription>-<customer>``; procrastinate runs the jobs of a lock one at a time
in id order, and a job waiting for its retry keeps the later ones of its lock waiting. So
one subscription hears one customer's events in the order they were written, while other
customers' deliveries go on. A paused subscription's deliveries are written ``HELD``,
without a job, and deferred in order on resume.
"""

from __future__ import annotations

from django.db import connection

from compliance.recipients import erasure_recipients_expect
from customer_ops.choices import EventType

QUEUE = "webhooks"
TASK = "webhooks.deliver"

JOBS_SQL = """
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(%(queue)s, %(task)s, 0, 'webhook-' || subscription_id || '-' || customer_id, NULL,
                   jsonb_build_object('delivery_id', id), NULL)::procrastinate_job_to_defer_v1
        FROM {rows} ORDER BY id
    )) AS ids"""

# One delivery per event and live subscription of its type (a paused one's HELD, no job).
FAN_OUT_SQL = """
INSERT INTO api_webhook_deliveries
    (subscription_id, event_id, customer_id, status, attempts, last_error, created_at)
SELECT s.id, e.id, e.customer_id, CASE WHEN s.status = 'ACTIVE' THEN 'PENDING' ELSE 'HELD' END, 0, '', now()
FROM event_outbox e
JOIN api_webhook_subscriptions s
  ON s.status <> 'DELETED' AND s.event_types @> ARRAY[e.event_type]::varchar[]
WHERE e.id = ANY(%(ids)s)
ORDER BY e.id, s.id
RETURNING id, status
"""

# The systems an erasure's completion reaches: compliance expects each to confirm.
RECIPIENTS_SQL = """
SELECT e.data ->> 'request_id', c.name
FROM api_webhook_deliveries d
JOIN event_outbox e ON e.id = d.event_id
JOIN api_webhook_subscriptions s ON s.id = d.subscription_id
JOIN api_clients c ON c.id = s.client_id
WHERE d.id = ANY(%(ids)s) AND e.event_type = %(erasure)s
"""


def fan_out(event_ids: list[int]) -> None:
    # Three set-based statements, not one with CTEs: a CTE that only calls a function runs
    # only if the statement reads it, and the planner may skip it (no job deferred at all).
    with connection.cursor() as cursor:
        cursor.execute(FAN_OUT_SQL, {"ids": event_ids})
        deliveries = cursor.fetchall()
    if not deliveries:
        return
    defer_deliveries(sorted(pk for pk, status in deliveries if status == "PENDING"))
    with connection.cursor() as cursor:
        cursor.execute(
            RECIPIENTS_SQL, {"ids": [pk for pk, _ in deliveries], "erasure": EventType.DATA_SUBJECT_REQUEST_COMPLETED}
        )
        recipients: dict[str, set[str]] = {}
        for request_id, system in cursor.fetchall():
            recipients.setdefault(request_id, set()).add(system)
    for request_id, systems in recipients.items():
        erasure_recipients_expect(request_id=request_id, systems=sorted(systems))


def defer_deliveries(delivery_ids: list[int]) -> None:
    """Jobs for existing deliveries (resume, replay), in delivery order, in the caller's transaction."""
    if not delivery_ids:
        return
    sql = JOBS_SQL.format(
        rows="(SELECT id, subscription_id, customer_id FROM api_webhook_deliveries WHERE id = ANY(%(ids)s)) AS r"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": delivery_ids, "queue": QUEUE, "task": TASK})
