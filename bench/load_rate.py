"""Benchmark: ``generate_data``'s load rate beside a raw COPY of the same rows, in one run.

    DEBUG=true .venv/bin/python bench/load_rate.py [--customers 30000] [--days 90] [--rounds 2] \\
        [--server-url postgres://postgres@127.0.0.1:5432] [--keep] [--skip-aggregates] [--profile FILE]

On a scratch database (``bench_load_rate``: dropped if present, created, migrated, dropped at
the end unless ``--keep``), each round times, one after the other:

1. **generate_data**: the generator's load (``customer_ops.datagen.Generator.run``, what
   ``manage.py generate_data --skip-aggregates`` runs, in one owner transaction): Python
   makes every row and streams it through COPY, with its index drop/rebuild, partitions,
   sequences and final ANALYZE;
2. **raw COPY anchor**: every table emptied (TRUNCATE), then the very same load procedure
   (same tables, columns, partitions, index drop/rebuild, session settings, ANALYZE) with the
   generation step replaced by writing the rows the generator made, pre-rendered as COPY text
   in files (dumped once, untimed, in insertion order), in 1 MB chunks: what the load costs
   with next to no Python work per row.

Both print rows/s; ``generator / anchor`` is the share of the physical rate the generator
reaches (goal >= 75%). After the rounds the pre-aggregation that ``generate_data`` runs
next (``run_daily_jobs --from --to --all-customers``) is timed separately, job by job.
The machine is shared: compare the two figures of one round, not runs on different days.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DB_NAME = "bench_load_rate"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--customers", type=int, default=30_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--skip-aggregates", action="store_true", help="do not time run_daily_jobs after")
    parser.add_argument("--profile", help="write a cProfile of the first generator round to this file")
    return parser.parse_args()


def recreate_database(server: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_OWNER_URL", None)
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_classes():
    from customer_ops.datagen import Generator

    class Recording(Generator):
        """The generator as is; remembers which columns it wrote to which table."""

        def copy(self, table, columns, rows, target):
            self.columns = getattr(self, "columns", {})
            self.columns[table] = columns
            return super().copy(table, columns, rows, target)

    class Anchor(Generator):
        """The same load procedure, sending pre-rendered COPY text instead of generating rows.
        The row generators are lazy: never iterated here, they cost nothing."""

        files: dict[str, tuple[Path, int]] = {}

        def copy(self, table, columns, rows, target):
            # The generator's own count: it decides the index drop (rows the lazy lists never got)
            return super().copy(table, columns, rows, self.files[table][1])

        def send(self, copy, table, rows, target):
            path, count = self.files[table]
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            return count

    return Recording, Anchor


def load(generator_class, args, files=None) -> tuple[float, int, object]:
    from django.db import transaction

    from customer_ops.db_roles import OWNER

    generator = generator_class(customers=args.customers, days=args.days, write=lambda _s: None)
    if files is not None:
        generator.files = files
    started = time.perf_counter()
    with transaction.atomic(using=OWNER):  # as manage.py generate_data does
        counts = generator.run()
    return time.perf_counter() - started, sum(counts.values()), generator


def dump(columns: dict[str, list[str]], directory: Path) -> dict[str, tuple[Path, int]]:
    """The loaded rows as COPY text, one file per table, in insertion (id) order."""
    from customer_ops.datagen import connection

    files = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table, cols in columns.items():
            path = directory / f"{table}.copy"
            count = 0
            query = f"COPY (SELECT {', '.join(cols)} FROM {table} ORDER BY id) TO STDOUT"
            with open(path, "wb") as out, raw.copy(query) as copy:
                for data in copy:
                    out.write(data)
                    count += bytes(data).count(b"\n")
            files[table] = (path, count)
    return files


def truncate(tables) -> None:
    from django.db import transaction

    from customer_ops.datagen import connection
    from customer_ops.db_roles import OWNER

    with transaction.atomic(using=OWNER), connection.cursor() as cursor:
        # a scratch database: the append-only logs' TRUNCATE guard is a trigger, skipped here
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # each load starts without the previous one's dirty pages


def aggregates(generator) -> None:
    import datetime as dt

    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command(
        "run_daily_jobs",
        "--from",
        generator.start.date().isoformat(),
        "--to",
        (generator.end.date() - dt.timedelta(days=1)).isoformat(),
        "--all-customers",
        stdout=out,
    )
    elapsed = time.perf_counter() - started
    print("pre-aggregation after the load (run_daily_jobs --all-customers over the generated days):")
    for line in out.getvalue().splitlines():
        print(f"    {line}")
    print(f"  total {elapsed:.1f} s")


def main() -> None:
    args = parse_args()
    recreate_database(args.server_url)
    try:
        setup_django(f"{args.server_url}/{DB_NAME}")
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(args.server_url, drop_only=True)


def run(args) -> None:
    Recording, Anchor = make_classes()
    print(f"{args.customers:,} customers over {args.days} days, {args.rounds} rounds (shared 2-core machine)")
    results = []
    with tempfile.TemporaryDirectory(prefix="load_rate_") as tmp:
        files = None
        generator = None
        for round_no in range(1, args.rounds + 1):
            if generator is not None:
                truncate(generator.columns)
            if args.profile and round_no == 1:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
                gen_s, gen_rows, generator = load(Recording, args)
                profiler.disable()
                profiler.dump_stats(args.profile)
            else:
                gen_s, gen_rows, generator = load(Recording, args)
            if files is None:
                files = dump(generator.columns, Path(tmp))
            truncate(generator.columns)
            anchor_s, anchor_rows, _ = load(Anchor, args, files)
            assert anchor_rows == gen_rows, (anchor_rows, gen_rows)
            results.append((gen_s, anchor_s, gen_rows))
            print(
                f"round {round_no}: {gen_rows:,} rows; generate_data {gen_s:.1f} s = {gen_rows / gen_s:,.0f} rows/s; "
                f"raw COPY anchor {anchor_s:.1f} s = {anchor_rows / anchor_s:,.0f} rows/s; "
                f"ratio {anchor_s / gen_s:.0%}"
            )
        size = sum(path.stat().st_size for path, _ in files.values())
        print(f"  (anchor text: {size / 1e6:,.0f} MB in {len(files)} tables)")
    best_gen = min(r[0] for r in results)
    best_anchor = min(r[1] for r in results)
    rows = results[0][2]
    print(
        f"best of {len(results)}: generate_data {rows / best_gen:,.0f} rows/s, "
        f"raw COPY {rows / best_anchor:,.0f} rows/s, "
        f"generate_data / raw COPY = {best_anchor / best_gen:.0%} (goal >= 75%)"
    )
    if not args.skip_aggregates:
        aggregates(generator)


if __name__ == "__main__":
    main()
