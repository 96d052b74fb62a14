"""Time a full GDPR erasure (every scope) of the demo customer with the most data.

    DATABASE_URL=... DEBUG=true .venv/bin/python bench/erasure.py [--extra-activity N] [--chunk-size N] [--commit]

Picks the customer with the most rows across every table that has a ``customer_id``
column, records and approves an ``ALL`` request through the services and times
``deletion_request_run``. ``--extra-activity N`` first adds N activity-log rows to that
customer (to see how the chunked run scales). Without ``--commit`` everything is rolled
back afterwards, so the demo data stays as it was.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402


class Rollback(Exception):
    pass


def customer_with_most_data() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name FROM information_schema.columns
               WHERE table_schema = current_schema() AND column_name = 'customer_id'"""
        )
        tables = [t for (t,) in cursor.fetchall()]
        union = " UNION ALL ".join(f'SELECT customer_id FROM "{t}"' for t in tables)
        cursor.execute(
            f"SELECT customer_id, count(*) FROM ({union}) rows WHERE customer_id IS NOT NULL "
            "GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1"
        )
        return cursor.fetchone()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-activity", type=int, default=0)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--commit", action="store_true")
    args = parser.parse_args()

    from django.apps import apps

    from compliance import services
    from compliance.models import DataDeletionRequest
    from customer_ops.models import Customer

    customer_id, rows = customer_with_most_data()
    customer = Customer.objects.get(pk=customer_id)
    officer = get_user_model().objects.filter(is_superuser=True).first()
    print(f"customer #{customer_id}: {rows} rows across every table with a customer_id")
    try:
        with transaction.atomic():
            DataDeletionRequest.objects.filter(customer=customer, request_status__in=["PENDING", "PROCESSING"]).update(
                request_status="REJECTED", rejection_reason="bench"
            )
            if args.extra_activity:
                ActivityLog = apps.get_model("analytics", "ActivityLog")
                ActivityLog.objects.bulk_create(
                    [
                        ActivityLog(
                            customer=customer, activity_type="APP_OPEN", device_id="bench", ip_address="192.0.2.1"
                        )
                        for _ in range(args.extra_activity)
                    ],
                    batch_size=5000,
                )
                print(f"added {args.extra_activity} activity-log rows")
            request = services.deletion_request_create(customer=customer, scopes=["ALL"], actor=officer)
            started = time.perf_counter()
            services.deletion_request_approve(request=request, actor=officer)
            approved = time.perf_counter()
            run = services.deletion_request_run(request=request, chunk_size=args.chunk_size)
            finished = time.perf_counter()
            changed = sum(t["rows"] for t in run.outcome["tables"])
            held = sum(t["held"] for t in run.outcome["tables"])
            print(f"plan at approval: {approved - started:.3f} s")
            print(
                f"erasure: {finished - approved:.3f} s, {changed} rows changed, {held} held, "
                f"{run.chunks} chunks, state {run.state}"
            )
            if not args.commit:
                raise Rollback
    except Rollback:
        print("rolled back (use --commit to keep)")


if __name__ == "__main__":
    main()
