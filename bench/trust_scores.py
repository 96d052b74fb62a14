"""Benchmark: ``recalculate_trust_scores`` for every customer of the database (the demo data).

    DATABASE_URL=postgres://... DEBUG=true .venv/bin/python bench/trust_scores.py [--runs 5] [--analyze]

Runs the engine exactly as ``manage.py recalculate_trust_scores`` does (same function, same
batches, writes committed), several times, and prints the time of each run and the median
rate in rows (customers scored and upserted) per second. The first run after seeding may
move more scores (history rows, audit entries) than the later ones; both are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from fraud.jobs import recalculate_trust_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--analyze", action="store_true", help="ANALYZE first (right after seed_demo the planner has no statistics)."
    )
    args = parser.parse_args()
    if args.analyze:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers")
        customers = cursor.fetchone()[0]
    print(f"{customers} customers; PostgreSQL {connection.pg_version // 10000}; {args.runs} runs")
    seconds = []
    for run in range(1, args.runs + 1):
        result = recalculate_trust_scores(batch_size=args.batch_size)
        seconds.append(result.seconds)
        print(
            f"  run {run}: {result.customers} rows in {result.seconds:.3f}s "
            f"({result.customers / result.seconds:,.0f} rows/s; {result.history_rows} moved, "
            f"{len(result.risk_changes)} risk changes)"
        )
    median = statistics.median(seconds)
    print(f"median: {median:.3f}s for {customers} customers = {customers / median:,.0f} rows/s")


if __name__ == "__main__":
    main()
