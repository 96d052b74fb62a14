"""Benchmark: what the refund cap trigger (tickets.triggers.RefundsWithinPaid) costs a write.

    DATABASE_URL=postgres://.../<a copy> DEBUG=true .venv/bin/python bench/refund_cap.py [--rows 20000] [--runs 3]

Needs orders (``generate_data``) and the owner role (``DATABASE_OWNER_URL``, or one role doing
both): each round disables the trigger inside its own transaction for the comparison. Every
round is rolled back, so the database is left as it was; still, run it on a copy.

Per round, on ``--rows`` completed orders without a refund request, in one statement each:

* INSERT one refund request per order, already APPROVED at the order's amount (the trigger
  locks each order and sums its approved refunds: an index scan on order_id);
* INSERT the same rows PENDING, then UPDATE them to APPROVED (the workflow's path);

each with the trigger and with it disabled. Prints the medians in ms and per 1,000 rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connections, transaction  # noqa: E402

from customer_ops.db_roles import OWNER  # noqa: E402

connection = connections[OWNER]

INSERT = """
    INSERT INTO customer_refund_requests (customer_id, order_id, refund_type, refund_reason,
                                          requested_amount, approved_amount, refund_status)
    SELECT o.customer_id, o.id, 'FULL', 'bench', o.order_amount, {approved}, '{status}'
    FROM orders o
    WHERE o.status = 'COMPLETED'
      AND NOT EXISTS (SELECT 1 FROM customer_refund_requests r WHERE r.order_id = o.id)
    ORDER BY o.id
    LIMIT %s
"""
APPROVE = """
    UPDATE customer_refund_requests SET refund_status = 'APPROVED', approved_amount = requested_amount
    WHERE refund_reason = 'bench' AND refund_status = 'PENDING'
"""


def _trigger() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'customer_refund_requests'::regclass"
            " AND tgname LIKE 'pgtrigger_refunds_within_paid_%'"
        )
        return cursor.fetchone()[0]


def _round(statements: list[tuple[str, list]], *, trigger_on: bool, timed: int) -> float:
    """Runs the statements in a transaction that is rolled back; returns the ms of statement ``timed``."""
    elapsed = 0.0
    with transaction.atomic(using=OWNER):
        with connection.cursor() as cursor:
            if not trigger_on:
                cursor.execute(f"ALTER TABLE customer_refund_requests DISABLE TRIGGER {_trigger()}")
            for n, (sql, params) in enumerate(statements):
                start = time.perf_counter()
                cursor.execute(sql, params)
                if n == timed:
                    elapsed = (time.perf_counter() - start) * 1000
        transaction.set_rollback(True, using=OWNER)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = args.rows
    approved_insert = [(INSERT.format(approved="o.order_amount", status="APPROVED"), [rows])]
    pending_then_approve = [(INSERT.format(approved="NULL", status="PENDING"), [rows]), (APPROVE, [])]
    cases = {
        "INSERT approved": (approved_insert, 0),
        "UPDATE pending -> approved": (pending_then_approve, 1),
    }
    print(f"{rows:,} rows per statement, median of {args.runs} runs (after one warm-up)")
    for name, (statements, timed) in cases.items():
        results = {}
        for trigger_on in (True, False):
            samples = [_round(statements, trigger_on=trigger_on, timed=timed) for _ in range(args.runs + 1)]
            results[trigger_on] = statistics.median(samples[1:])  # the first one warms the cache up
        with_, without = results[True], results[False]
        print(
            f"{name:<28} with the trigger {with_:8.0f} ms ({with_ / rows * 1000:6.1f} ms per 1,000 rows), "
            f"without {without:8.0f} ms ({without / rows * 1000:6.1f}); +{with_ - without:,.0f} ms"
        )


if __name__ == "__main__":
    main()
