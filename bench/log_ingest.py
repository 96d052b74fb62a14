"""Benchmark: batch ingest of login history (the service API's logs:write) beside a raw COPY.

    DATABASE_URL=postgres://.../<a copy> DEBUG=true .venv/bin/python bench/log_ingest.py [--batches 10] [--size 5000]

It writes login rows (the log is immutable: run it on a copy, ``createdb -T bo100k <copy>``).
Each round builds ``--size`` rows for random existing customers, as the auth system sends
them (JSON-like dicts, ISO timestamps), then times, in the same run and alternately:

* ``login_history_append``: the service as the API calls it (checks in Python, one query for
  the customers, one COPY), committed;
* a raw COPY of the same rows (tuples already typed, no checks), committed.

and prints rows/s of each (median over ``--batches`` rounds) and their ratio (goal >= 50%).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from analytics.ingest import LOGIN_COLUMNS, login_history_append  # noqa: E402
from customer_ops.context import CallingSystem  # noqa: E402
from customer_ops.scopes import LOGS_WRITE  # noqa: E402

AUTH = CallingSystem(name="bench-auth", scopes=frozenset({LOGS_WRITE}))


def _items(ids: list[int], size: int) -> list[dict]:
    now = timezone.now()
    return [
        {
            "customer_id": random.choice(ids),
            "login_method": random.choice(["OTP", "PASSWORD", "GOOGLE"]),
            "login_success": random.random() > 0.1,
            "device_id": f"dev-{random.randrange(10**6)}",
            "device_type": "ANDROID",
            "device_model": "Pixel 9",
            "ip_address": f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}",
            "ip_location": "Dhaka, BD",
            "user_agent": "App/5.1 (Android 15)",
            "failure_reason": "",
            "created_at": (now - dt.timedelta(seconds=random.randrange(3600))).isoformat(),
        }
        for _ in range(size)
    ]


def _raw_copy(items: list[dict]) -> None:
    rows = [
        tuple(
            dt.datetime.fromisoformat(item[c]) if c == "created_at" else item.get(c, None if c == "session_id" else "")
            for c in LOGIN_COLUMNS
        )
        for item in items
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY customer_login_history ({', '.join(LOGIN_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def _service(items: list[dict]) -> float:
    started = time.perf_counter()
    assert login_history_append(items=items, actor=AUTH) == len(items)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=5000)
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers WHERE status <> 'ANONYMISED'")
        ids = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM customer_login_history")
        before = cursor.fetchone()[0]
    print(f"{len(ids):,} customers, {before:,} login rows; {args.batches} rounds of {args.size:,} rows")
    _service(_items(ids, 100))  # warm up: connection, imports
    service, raw = [], []
    for round_ in range(args.batches):
        items = _items(ids, args.size)
        # The raw COPY is typed in advance: only the COPY itself is timed. The service is
        # timed whole (the sender's items in, rows committed), which is what the API pays.
        if round_ % 2:
            raw.append(_raw_copy(items))
            service.append(_service(items))
        else:
            service.append(_service(items))
            raw.append(_raw_copy(items))
    s, r = args.size / statistics.median(service), args.size / statistics.median(raw)
    print(f"login_history_append: {s:,.0f} rows/s (median of {args.batches} batches of {args.size:,})")
    print(f"raw COPY:             {r:,.0f} rows/s")
    print(f"ratio:                {s / r:.0%} of raw COPY (goal >= 50%)")


if __name__ == "__main__":
    main()
