"""The real worker (procrastinate) delivering committed events: in order per customer and
subscription, a worker killed mid-delivery, two workers at once.

Committed data across connections and processes: transactional tests
(``serialized_rollback`` brings back the roles the migrations made). The in-process worker
runs until the queue is idle (``wait=False``); the subprocess workers are ``manage.py
procrastinate worker``, as ``make worker`` runs it, on the test database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from procrastinate.contrib.django import app
from psycopg.types.json import Jsonb

from api.models import WebhookDelivery
from api.tasks import retry_stalled
from api.webhooks import delivery
from api.webhooks.services import subscription_create
from customer_ops.choices import EventType
from customer_ops.context import SYSTEM
from customer_ops.roles import Role
from fraud.services import block_customer
from tests import factories as f
from tests.api.webhook_receiver import Receiver
from tests.production.env import database_url

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def close_worker_threads_connections(monkeypatch):
    """Test harness: the in-process worker runs each job in a pool thread with its own Django
    connection; close it after the job, so the test database can be flushed and dropped."""
    attempt = delivery.attempt

    def attempt_then_close(delivery_id):
        try:
            return attempt(delivery_id)
        finally:
            connection.close()

    monkeypatch.setattr(delivery, "attempt", attempt_then_close)


# Delivery jobs a worker could take now: due, and first of their lock (a later one waits).
DUE = """SELECT count(*) FROM procrastinate_jobs j WHERE status = 'todo'
         AND task_name = 'webhooks.deliver' AND (scheduled_at IS NULL OR scheduled_at <= now())
         AND NOT EXISTS (SELECT FROM procrastinate_jobs e WHERE e.lock = j.lock AND e.id < j.id
                         AND e.status IN ('todo', 'doing'))"""


def run_worker() -> None:
    """One in-process worker, until no job is due. A worker with ``wait=False`` stops when
    its fetch finds nothing, which it may do while a later job of a lock waits for an
    earlier one still running: run it again while a delivery job is due."""
    for _ in range(10):
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(queues=["webhooks"], wait=False, install_signal_handlers=False, listen_notify=False)
        if not sql(DUE)[0][0]:
            return
    raise AssertionError("delivery jobs still due after ten worker runs")


@pytest.fixture(autouse=True)
def empty_queue():
    """Test harness: the flush between transactional tests leaves procrastinate's tables
    (not Django models) alone; a job left by one test must not reach the next."""
    yield
    sql("DELETE FROM procrastinate_jobs")
    sql("DELETE FROM procrastinate_workers")


def sql(statement: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def worker_process() -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        # The embedded PostgreSQL's HOST is a socket directory: database_url() quotes it.
        "DATABASE_URL": database_url(connection.settings_dict),
        "WORKER_CONCURRENCY": "2",
    }
    env.pop("DATABASE_OWNER_URL", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "webhooks"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def _subscribe(receiver):
    client = f.ApiClientFactory(name="order-approval")
    sub, receiver.secret = subscription_create(
        client=client, url=receiver.url, event_types=[EventType.BLOCK_CREATED], actor=SYSTEM
    )
    return sub


def _block(customer, fraud, service="FOOD"):
    return block_customer(customer=customer, block_type="SERVICE_BLOCK", service_type=service, reason="x", actor=fraud)


def test_one_customers_events_wait_for_an_earlier_retry_while_others_go_on(receiver, make_staff):
    _subscribe(receiver)
    fraud, a, b = make_staff(Role.FRAUD), f.CustomerFactory(), f.CustomerFactory()
    a1, a2, b1 = _block(a, fraud, "FOOD"), _block(a, fraud, "RIDE"), _block(b, fraud, "FOOD")
    receiver.fail = lambda body: body["data"]["block_id"] == a1.pk  # a1 fails once

    run_worker()  # several jobs at once: a1 and b1 race, a2 waits behind a1 (its lock)
    got = sorted((r.body["data"]["block_id"], r.status) for r in receiver.received)
    assert got == [(a1.pk, 500), (b1.pk, 200)]
    first = WebhookDelivery.objects.get(event__data__block_id=a1.pk)
    assert (first.status, first.attempts) == ("PENDING", 1)
    # The worker scheduled the same job at the time the attempt recorded (the schedule's 1 minute).
    [(scheduled_at,)] = sql(
        "SELECT scheduled_at FROM procrastinate_jobs WHERE status = 'todo' AND lock = %s AND args = %s",
        [f"webhook-{first.subscription_id}-{a.pk}", Jsonb({"delivery_id": first.pk})],
    )
    assert scheduled_at == first.next_attempt_at

    sql("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")  # the clock moves on
    run_worker()
    assert [r.body["data"]["block_id"] for r in receiver.acknowledged()] == [b1.pk, a1.pk, a2.pk]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"DELIVERED"}


def test_a_worker_killed_mid_delivery_delivers_after_a_restart(receiver, make_staff):
    _subscribe(receiver)
    receiver.hold = threading.Event()  # the receiver keeps the first request open
    block = _block(f.CustomerFactory(), make_staff(Role.FRAUD))
    worker = worker_process()
    try:
        assert receiver.arrived.wait(60), "the worker never delivered"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    deliver_jobs = "SELECT status FROM procrastinate_jobs WHERE task_name = 'webhooks.deliver'"
    assert sql(deliver_jobs) == [("doing",)]  # its job, stranded (beside the periodic check's)

    receiver.hold.set()
    receiver.hold = None
    # Its heartbeat stops; a minute on, the periodic stalled-job check puts the job back.
    sql("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")

    async def check():
        async with app.open_async():
            return await retry_stalled(app)

    with app.replace_connector(app.connector.get_worker_connector()):
        # At least the delivery; the periodic check's own job too when the kill caught it running.
        assert asyncio.run(check()) >= 1
    assert sql(deliver_jobs) == [("todo",)]  # the delivery is put back
    run_worker()

    row = WebhookDelivery.objects.get()
    assert row.status == "DELIVERED"
    assert [r.body["data"]["block_id"] for r in receiver.received] == [block.pk, block.pk]
    assert len({r.event_id for r in receiver.received}) == 1  # at most a duplicate, same event id


def test_two_workers_never_deliver_one_attempt_twice(receiver, make_staff):
    _subscribe(receiver)
    fraud = make_staff(Role.FRAUD)
    customers = [f.CustomerFactory() for _ in range(30)]
    workers = [worker_process(), worker_process()]
    try:
        wait_for(lambda: sql("SELECT count(*) FROM procrastinate_workers")[0][0] >= 2, what="two workers")
        for customer in customers:  # committed one by one, while both workers listen
            _block(customer, fraud)
        wait_for(lambda: WebhookDelivery.objects.filter(status="DELIVERED").count() == 30, what="30 deliveries")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
    deliveries = [r.delivery for r in receiver.received]
    assert len(deliveries) == 30 and len(set(deliveries)) == 30
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
