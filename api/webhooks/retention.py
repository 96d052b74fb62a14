"""The outbox's retention: events past :data:`~customer_ops.models.OUTBOX_RETENTION` go,
with their finished deliveries and procrastinate's record of their failed jobs.

An event is kept while any of its deliveries can still be sent (``PENDING``, or ``HELD``
for a paused subscription, however old): a receiver never misses an event to the purge.
The age test is the database's (``now()``), the one the outbox's append-only trigger
applies, so the job never asks for a delete the trigger refuses. Two set-based
statements in one transaction, then procrastinate's own clean-up of its jobs; the outbox's
BRIN index on ``created_at`` finds the old events without reading the month that is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.db import connection, transaction
from procrastinate.contrib.django import app

from api.models import DeliveryStatus
from api.webhooks.fanout import QUEUE
from customer_ops.models import OUTBOX_RETENTION

FINISHED = [DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED]

DELIVERIES_SQL = """
DELETE FROM api_webhook_deliveries d
USING event_outbox e
WHERE e.id = d.event_id
  AND e.created_at < now() - %(retention)s
  AND d.status = ANY(%(finished)s)
"""

EVENTS_SQL = """
DELETE FROM event_outbox e
WHERE e.created_at < now() - %(retention)s
  AND NOT EXISTS (SELECT FROM api_webhook_deliveries d WHERE d.event_id = e.id)
"""


@dataclass(frozen=True)
class Purged:
    deliveries: int
    events: int


def purge_expired() -> Purged:
    """Delete the events past retention whose deliveries are all finished, and those deliveries."""
    params = {"retention": OUTBOX_RETENTION, "finished": [str(s) for s in FINISHED]}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DELIVERIES_SQL, params)
        deliveries = cursor.rowcount
        cursor.execute(EVENTS_SQL, params)
        events = cursor.rowcount
    # Successful jobs are deleted as they finish (PROCRASTINATE_WORKER_DEFAULTS); the failed
    # and cancelled ones stay for inspection until the retention, then procrastinate's own
    # clean-up removes them.
    async_to_sync(app.job_manager.delete_old_jobs)(
        nb_hours=int(OUTBOX_RETENTION.total_seconds() // 3600),
        queue=QUEUE,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )
    return Purged(deliveries=deliveries, events=events)
