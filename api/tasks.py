"""The worker's tasks (procrastinate; discovered by ``procrastinate.contrib.django``).

``make worker`` runs ``manage.py procrastinate worker``: it LISTENs for new jobs, takes one
with ``FOR UPDATE SKIP LOCKED`` (so two workers never run the same job), and runs
:func:`deliver`. A failed attempt raises :class:`~api.webhooks.delivery.DeliveryFailed`;
:class:`DeliveryRetry` schedules the same job again at the time the attempt recorded
(the schedule is :data:`api.webhooks.delivery.RETRY_DELAYS`). Keeping the job, rather than
deferring a new one, keeps its place in its lock's order.

A worker killed mid-job leaves its job ``doing``; :func:`retry_stalled_jobs` (every minute,
on whichever worker runs) puts the jobs of workers without a heartbeat for
:data:`STALLED_AFTER_SECONDS` back to ``todo`` (procrastinate's recipe).
"""

from __future__ import annotations

import datetime as dt

from django.db import close_old_connections
from procrastinate import RetryDecision
from procrastinate.contrib.django import app
from procrastinate.retry import BaseRetryStrategy

from api.webhooks import delivery
from api.webhooks.fanout import QUEUE, TASK

STALLED_AFTER_SECONDS = 60  # six missed heartbeats (the worker beats every 10 s)


class DeliveryRetry(BaseRetryStrategy):
    """Retry a failed attempt at its recorded ``retry_at``; anything else (the database
    briefly gone, a bug) after a minute. The task itself stops the retries (``FAILED``)."""

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, delivery.DeliveryFailed):
            return RetryDecision(retry_at=exception.retry_at)
        return RetryDecision(retry_in={"seconds": 60})


@app.task(name=TASK, queue=QUEUE, retry=DeliveryRetry())
def deliver(delivery_id: int) -> str:
    # Each job runs in a pool thread with its own connection: drop it if it went stale.
    close_old_connections()
    try:
        return delivery.attempt(delivery_id)
    finally:
        close_old_connections()


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(name="webhooks.retry_stalled_jobs", queue=QUEUE, queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    return await retry_stalled(context.app)


async def retry_stalled(procrastinate_app, seconds: float = STALLED_AFTER_SECONDS) -> int:
    manager = procrastinate_app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=seconds)
    for job in stalled:
        await manager.retry_job(job, retry_at=dt.datetime.now(dt.UTC))
    await manager.prune_stalled_workers(seconds_since_heartbeat=seconds)
    return len(list(stalled))
