"""A list entry's backtest at scale (issue 25): what a device id, an IP range and an email
domain would have matched in the login history and activity log over the last 30 days.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_review_100k DEBUG=true \\
        .venv/bin/python bench/list_backtest.py [--runs 7] [--explain]

Picks real values from the data (the most used device id and /24 of the last 30 days, the
most common email domain, plus a /16 range), then times ``fraud.lists.backtest`` (one warm-up,
median of ``--runs``) and prints customers and rows matched. ``--explain`` prints EXPLAIN
(ANALYZE, BUFFERS) of each backtest. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.timing import median_ms  # noqa: E402
from fraud import conf, lists  # noqa: E402


def _one(sql: str, params=()) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    since = timezone.now() - dt.timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers")
        customers = cursor.fetchone()[0]
        cursor.execute(
            "SELECT (SELECT count(*) FROM customer_login_history), (SELECT count(*) FROM customer_activity_log)"
        )
        logins, activities = cursor.fetchone()
    print(f"{customers:,} customers, {logins:,} login rows, {activities:,} activity rows")
    device = _one(
        "SELECT device_id FROM customer_login_history WHERE device_id <> '' AND created_at >= %s "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        [since],
    )
    ip = _one(
        "SELECT ip_address FROM customer_login_history WHERE ip_address <> '' AND created_at >= %s LIMIT 1", [since]
    )
    octets = ip.split(".") if ip else ["203", "0", "113", "1"]
    domain = _one("SELECT split_part(email, '@', 2) FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    cases = [
        ("DEVICE_ID", device or "dev-none"),
        ("IP_RANGE", ".".join(octets[:3]) + ".0/24"),
        ("IP_RANGE", ".".join(octets[:2]) + ".0.0/16"),
        ("EMAIL_DOMAIN", domain or "example.com"),
        ("EMAIL_DOMAIN", "rare-domain.example"),
    ]
    print(f"{'kind':<13} {'value':<28} {'customers':>9} {'rows':>9} {'median ms':>10}")
    for kind, value in cases:
        result = lists.backtest(kind, value)
        ms = median_ms(lambda kind=kind, value=value: lists.backtest(kind, value), args.runs)
        rows = f"{result.rows:,}" + ("+" if result.capped else "")
        print(f"{kind:<13} {value[:28]:<28} {result.customers:>9,} {rows:>9} {ms:>10.1f}")
        if args.explain:
            with connection.cursor() as cursor:
                cursor.execute(
                    "EXPLAIN (ANALYZE, BUFFERS) " + lists.backtest_sql(kind),
                    {"value": lists.normalise(kind, value)[0], "since": since, "cap": conf.BACKTEST_MAX_ROWS},
                )
                print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
