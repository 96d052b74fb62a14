"""Time and peak memory of a right-of-access export (streamed zip) of a customer with a long history.

    DATABASE_URL=... DEBUG=true .venv/bin/python bench/export.py [--activity 100000] [--logins 50000] [--format csv]

Plants one customer (kept between runs, found again by its email) with ``--activity``
activity-log rows and ``--logins`` login rows over the last 30 days, plus a few tickets,
disputes and blocks with history, through SQL (``INSERT ... SELECT generate_series``).
Then downloads the export through the real view (the test client: URL, permission,
access log, ``StreamingHttpResponse``) twice: once timed, once under ``tracemalloc`` for
the peak of Python allocations while streaming (the second run is slower: tracemalloc
traces every allocation). A second, small customer (1,000 rows) is exported the same way
so the two peaks can be compared: constant memory means they are about the same.
It writes to the database it is given: run it on your own (never a shared one).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402


def plant(email: str, activity: int, logins: int) -> int:
    from customer_ops.models import Customer

    customer = Customer.objects.filter(email=email).first()
    if customer is not None:
        return customer.pk
    customer = Customer.objects.create(full_name="Bench Export", email=email, phone="+44 7700 900000")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customer_activity_log
                (customer_id, activity_type, activity_description, service_type, device_id, ip_address,
                 location_lat, location_lon, activity_metadata, created_at)
            SELECT %s, 'APP_OPEN', 'opened the app ' || i, 'FOOD', 'dev-' || (i %% 3), '192.0.2.' || (i %% 250),
                   51.5, -0.12, jsonb_build_object('screen', 'home', 'i', i),
                   now() - (i * interval '30 days' / %s)
            FROM generate_series(1, %s) AS i
            """,
            [customer.pk, activity, activity],
        )
        cursor.execute(
            """
            INSERT INTO customer_login_history
                (customer_id, login_method, login_success, device_id, device_type, device_model, ip_address,
                 ip_location, user_agent, failure_reason, created_at)
            SELECT %s, 'PASSWORD', i %% 10 <> 0, 'dev-' || (i %% 3), 'ANDROID', 'Pixel 9', '192.0.2.' || (i %% 250),
                   'London', 'App/1.0 (Android 15)', CASE WHEN i %% 10 = 0 THEN 'bad password' ELSE '' END,
                   now() - (i * interval '30 days' / %s)
            FROM generate_series(1, %s) AS i
            """,
            [customer.pk, logins, logins],
        )
        cursor.execute("ANALYZE customer_activity_log; ANALYZE customer_login_history")
    from tests import factories as f  # factory_boy is a dev requirement, as is this bench

    for _ in range(20):
        ticket = f.TicketFactory(customer=customer)
        ticket.description = "changed"
        ticket.save()  # a second history row
        f.BlockFactory(customer=customer)
    return customer.pk


def download(client: Client, customer_id: int, fmt: str) -> int:
    response = client.post(reverse("admin:compliance_customer_export", args=[customer_id]), {"format": fmt})
    assert response.status_code == 200 and response.streaming, response.status_code
    size = 0
    for part in response.streaming_content:
        size += len(part)
    return size


class DatabaseTime:
    """Wall time spent waiting for PostgreSQL (connection.execute_wrapper)."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries += 1


def measure(client: Client, customer_id: int, fmt: str) -> tuple[float, float, DatabaseTime, int, float]:
    db = DatabaseTime()
    start, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(db):
        size = download(client, customer_id, fmt)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    tracemalloc.start()
    download(client, customer_id, fmt)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, cpu, db, size, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activity", type=int, default=100_000)
    parser.add_argument("--logins", type=int, default=50_000)
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    args = parser.parse_args()

    from customer_ops.models import Customer

    big = plant(f"bench-export-{args.activity}-{args.logins}@bench.test", args.activity, args.logins)
    small = plant("bench-export-small@bench.test", 800, 200)
    officer, _ = get_user_model().objects.get_or_create(
        username="bench-export", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(officer)
    download(client, small, args.format)  # warm-up (imports, first queries)
    for label, customer_id in (("small", small), ("big", big)):
        rows = Customer.objects.get(pk=customer_id)
        seconds, cpu, db, size, peak = measure(client, customer_id, args.format)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM customer_activity_log WHERE customer_id = %s)"
                " + (SELECT count(*) FROM customer_login_history WHERE customer_id = %s)",
                [customer_id, customer_id],
            )
            log_rows = cursor.fetchone()[0]
        print(
            f"{label:5} customer #{rows.pk}: {log_rows:,} activity+login rows -> {size / 2**20:.1f} MB "
            f"{args.format} zip in {seconds:.2f} s (CPU of this process {cpu:.2f} s, waiting for PostgreSQL "
            f"{db.seconds:.2f} s over {db.queries} queries); "
            f"peak Python allocations while streaming {peak:.1f} MB"
        )
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
