"""Benchmark: webhook delivery by the real worker (``manage.py procrastinate worker``, as
``make worker`` runs it) to a receiver on 127.0.0.1.

    DATABASE_URL=postgres://.../<a scratch database> DEBUG=true .venv/bin/python bench/events.py \
        [--events 2000] [--workers 1 4] [--rate 50] [--seconds 20]

It writes (a client, a subscription, events, deliveries): run it on a scratch database
(``make run``'s or ``createdb -T``'s copy), never on one someone uses.

Two figures per worker count:

- **throughput**: ``--events`` events are committed while no worker runs (a backlog), then
  the workers start; events delivered per second from the first to the last arrival.
- **lag**: with the workers running, changes are committed at ``--rate`` per second for
  ``--seconds``; the lag of each event is its arrival at the receiver minus its commit
  (the time the committing transaction returned), p50 and p99.

Events are ``block.created`` written with ``customer_ops.events.emit`` in their own
transaction, as the fraud service writes one with a block (the fan-out, the delivery rows
and the job are written in that transaction, exactly as in production); one customer per
event, cycled over 500 customers, so the per-customer ordering lock rarely serialises them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from api.models import ApiClient, WebhookSubscription  # noqa: E402
from api.webhooks.services import subscription_create  # noqa: E402
from customer_ops.choices import EventType  # noqa: E402
from customer_ops.context import SYSTEM  # noqa: E402
from customer_ops.events import emit  # noqa: E402
from customer_ops.models import Customer  # noqa: E402

arrivals: dict[str, float] = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        now = time.time()
        with lock:
            arrivals.setdefault(json.loads(body)["id"], now)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def receiver() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hooks"


def commit_event(customer_id: int) -> tuple[str, float]:
    with transaction.atomic():
        event = emit(EventType.BLOCK_CREATED, customer_id=customer_id, block_id=0, block_type="BENCH")
    return str(event.event_id), time.time()


def start_workers(n: int) -> list[subprocess.Popen]:
    command = [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "webhooks"]
    return [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)


def wait_for(ids, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            if all(i in arrivals for i in ids):
                return True
        time.sleep(0.05)
    return False


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def throughput(workers_n: int, customers: list[int], events: int) -> float:
    ids = [commit_event(customers[i % len(customers)])[0] for i in range(events)]
    workers = start_workers(workers_n)
    try:
        if not wait_for(ids, timeout=600):
            raise SystemExit(f"only {sum(i in arrivals for i in ids)} of {events} events arrived in 10 minutes")
    finally:
        stop(workers)
    times = [arrivals[i] for i in ids]
    return events / max(max(times) - min(times), 1e-6)


def lag(workers_n: int, customers: list[int], rate: float, seconds: float) -> list[float]:
    workers = start_workers(workers_n)
    time.sleep(3)  # the workers connect and LISTEN
    committed: dict[str, float] = {}
    try:
        start, n = time.time(), 0
        while time.time() - start < seconds:
            event_id, at = commit_event(customers[n % len(customers)])
            committed[event_id] = at
            n += 1
            time.sleep(max(0.0, start + n / rate - time.time()))
        if not wait_for(committed, timeout=120):
            raise SystemExit("events still undelivered two minutes after the load")
    finally:
        stop(workers)
    return [(arrivals[i] - at) * 1000 for i, at in committed.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rate", type=float, default=50, help="changes committed per second (lag run)")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    customers = list(Customer.objects.order_by("id").values_list("id", flat=True)[:500])
    if not customers:
        raise SystemExit("no customers: run on a database with data (make run's, or generate_data's)")
    client, _ = ApiClient.objects.get_or_create(name="bench-events", defaults={"scopes": ["webhooks:manage"]})
    WebhookSubscription.objects.filter(client=client).update(status="DELETED")
    subscription_create(client=client, url=receiver(), event_types=[EventType.BLOCK_CREATED], actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        print(
            f"PostgreSQL {cursor.fetchone()[0]}, {os.cpu_count()} CPUs, worker concurrency "
            f"{os.environ.get('WORKER_CONCURRENCY', '4')} per worker"
        )
    print(
        f"{'workers':>7} | {'events/s (backlog of ' + str(args.events) + ')':>28} | "
        f"{'lag p50':>8} | {'lag p99':>8} | at {args.rate:g} changes/s for {args.seconds:g} s"
    )
    for n in args.workers:
        rate = throughput(n, customers, args.events)
        lags = lag(n, customers, args.rate, args.seconds)
        print(f"{n:>7} | {rate:>28.0f} | {percentile(lags, 50):>6.0f}ms | {percentile(lags, 99):>6.0f}ms |")


if __name__ == "__main__":
    main()
