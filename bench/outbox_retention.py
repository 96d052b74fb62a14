"""Benchmark: the outbox retention purge (``purge_webhook_history``) at scale.

    DATABASE_URL=postgres://.../<a scratch database> DEBUG=true .venv/bin/python bench/outbox_retention.py \
        [--per-day 25000] [--days 40]

Writes ``--per-day`` events a day for ``--days`` days (one finished delivery each, to one
subscription; one pending delivery a day to an old event, which must stay), then runs the
purge twice: the first deletes the days past the retention, the second (the nightly run
after it) finds nothing. Run it on a scratch database: it writes and deletes rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from api.models import ApiClient, WebhookSubscription  # noqa: E402
from api.webhooks.retention import purge_expired  # noqa: E402
from customer_ops.models import OUTBOX_RETENTION  # noqa: E402

EVENTS_SQL = """
INSERT INTO event_outbox (event_id, event_type, customer_id, created_at, api_version, data)
SELECT gen_random_uuid(), 'block.created', 1 + (g %% 100000),
       now() - make_interval(secs => %(days)s * 86400.0 * g / %(n)s), '1', '{}'::jsonb
FROM generate_series(%(n)s, 1, -1) AS g
"""

DELIVERIES_SQL = """
INSERT INTO api_webhook_deliveries
    (subscription_id, event_id, customer_id, status, attempts, last_error, created_at)
SELECT %(sub)s, e.id, e.customer_id,
       CASE WHEN e.id %% %(per_day)s = 0 THEN 'PENDING' ELSE 'DELIVERED' END, 1, '', e.created_at
FROM event_outbox e WHERE e.id > %(first)s
"""


def count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-day", type=int, default=25_000)
    parser.add_argument("--days", type=int, default=40)
    args = parser.parse_args()
    n = args.per_day * args.days

    client, _ = ApiClient.objects.get_or_create(name="bench-retention")
    sub = WebhookSubscription.objects.create(
        client=client, url="http://127.0.0.1:9/none", event_types=["block.created"], secret="whsec_bench"
    )
    first = count("SELECT coalesce(max(id), 0) FROM event_outbox")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_SQL, {"n": n, "days": args.days})
        cursor.execute(DELIVERIES_SQL, {"sub": sub.pk, "first": first, "per_day": args.per_day})
        cursor.execute("ANALYZE event_outbox; ANALYZE api_webhook_deliveries")
    print(f"wrote {n:,} events and deliveries over {args.days} days in {time.perf_counter() - started:.1f} s")
    print(f"outbox: {count('SELECT count(*) FROM event_outbox'):,} events, retention {OUTBOX_RETENTION.days} days")

    for run in ("first", "next"):
        started = time.perf_counter()
        purged = purge_expired()
        took = time.perf_counter() - started
        print(f"{run} purge: {purged.events:,} events, {purged.deliveries:,} deliveries in {took:.2f} s")
    print(f"outbox after: {count('SELECT count(*) FROM event_outbox'):,} events")


if __name__ == "__main__":
    main()
