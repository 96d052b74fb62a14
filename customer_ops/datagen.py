"""Data at scale: fills every table with realistic, mutually consistent rows through
PostgreSQL COPY (``manage.py generate_data``).

Proportions per 100,000 customers: 2,000,000 orders, 1,000,000 sessions and logins,
10,000,000 activity-log rows, 300,000 tickets with 1,500,000 messages, and the rest in
proportion (see ``PER_CUSTOMER``). Rows are written as preformatted COPY text, generated
in plain Python with cheap arithmetic, so the database, not Python, sets the pace.

This module is the engine (COPY, index drop and rebuild, progress) and the platform's own
tables (customers, orders, sessions). Each app generates its own tables in
``<app>/datagen.py``, registered with ``customer_ops.registry.register_scale_data`` (and
discovered like the demo seeders): a function of the :class:`Generator`, run in the
registry's order, with the share of rows per customer of each of its tables. Tables are
addressed by name, as other services of the platform would write them, and all steps draw
from one random stream, so a seed gives the same rows. This module imports no app. The
pre-aggregated analytics tables are then computed by the daily jobs (``run_daily_jobs``)
when that command exists.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.db import connections
from django.utils.connection import ConnectionProxy
from psycopg.copy import QueuedLibpqWriter

from customer_ops import registry
from customer_ops.db_roles import OWNER
from customer_ops.partitions import ensure_monthly, is_partitioned

# A bulk load drops and rebuilds indexes and resets sequences: DDL, so it connects as the
# owner role (customer_ops/db_roles.py), not as the runtime role the web and jobs use.
connection = ConnectionProxy(connections, OWNER)

# The platform's tables (customers: ``--customers``); each app declares its own shares.
PER_CUSTOMER = {
    "orders": 20,
    "customer_sessions": 10,
}

SERVICES = ("FOOD", "FOOD", "FOOD", "PARCEL", "RIDE", "RIDE")
NULL = r"\N"
# "HH:MM:SS+00" for every second of a day: a timestamp is a day prefix plus one of these.
CLOCK = [f"{h:02d}:{m:02d}:{s:02d}+00" for h in range(24) for m in range(60) for s in range(60)]
# Rows per COPY write (and per progress update).
BATCH = 20_000


@dataclass
class Progress:
    """A one-line progress bar on the command's stdout, with rows per second."""

    write: Callable[[str], None]
    total_rows: int = 0
    started: float = 0.0

    def __post_init__(self):
        self.started = time.perf_counter()

    def table(self, name: str, done: int, target: int) -> None:
        width = 30
        filled = int(width * done / max(target, 1))
        rate = self.rate(extra=done)
        self.write(
            f"\r  {name:<32} [{'#' * filled}{'.' * (width - filled)}] {done:>11,}/{target:,}  {rate:>9,.0f} rows/s"
        )

    def rate(self, extra: int = 0) -> float:
        return (self.total_rows + extra) / max(time.perf_counter() - self.started, 1e-9)


class Generator:
    def __init__(self, *, customers: int, days: int, seed: int = 1, write=print):
        self.n = customers
        self.days = days
        self.rng = random.Random(seed)
        self.progress = Progress(write)
        self.end = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = self.end - dt.timedelta(days=days)
        self.day_prefix = [(self.start + dt.timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(days)]
        self.clock = CLOCK
        self.counts: dict[str, int] = {}

    # --- helpers ------------------------------------------------------------------
    def ts(self, day: int, second: int) -> str:
        return self.day_prefix[day] + CLOCK[second]

    def rand_ts(self) -> tuple[int, int, str]:
        day = int(self.rng.random() * self.days)
        sec = int(self.rng.random() * 86399)
        return day, sec, self.day_prefix[day] + CLOCK[sec]

    def target(self, table: str) -> int:
        return int(self.n * per_customer()[table])

    def random_customer(self) -> int:
        return self.first_customer + int(self.rng.random() * self.n)

    def next_id(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            return cursor.fetchone()[0]

    def _drop_secondary_indexes(self, table: str) -> list[str]:
        """Drop the indexes that back no constraint (nor a trigger's reads,
        the steps' ``keep_indexes``); returns their definitions to rebuild.

        Building an index once after a bulk load is several times cheaper than
        maintaining it row by row during the load.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = %s::regclass
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND a.attname = ANY(%s)
                  )
                """,
                [table, list(kept_for_triggers().get(table, ()))],
            )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f"DROP INDEX {name}")
        # The definition of a partitioned table's index reads "ON ONLY <table>": rebuilt as
        # is, it would be an invalid index on the parent alone, with none on the partitions.
        return [definition.replace(" ON ONLY ", " ON ", 1) for _, definition in found]

    def copy(self, table: str, columns: list[str], rows: Iterator[tuple], target: int) -> int:
        """COPY ``rows`` (tuples of str) into ``table``; returns the row count."""
        if is_partitioned(table, connection):
            # Rows of past months belong in their own partitions, not in the default one.
            ensure_monthly(table, since=self.start.date(), through=self.end.date(), connection=connection)
        indexes = self._drop_secondary_indexes(table) if target >= 100_000 else []
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor: COPY is not part of Django's API
            # A writer thread sends the data while this one makes the next batch: the server
            # parses one batch while Python generates the next (two cores, not one after the other).
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
                done = self.send(copy, table, rows, target)
            for definition in indexes:
                cursor.execute(definition)
        self.progress.table(table, done, target)
        self.progress.write("\n")
        self.progress.total_rows += done
        self.counts[table] = done
        return done

    def send(self, copy, table: str, rows: Iterator[tuple | str], target: int) -> int:
        """Write ``rows`` to the open COPY in batches; returns the row count. A row is a
        tuple of str, or (the big tables) a line already joined with tabs.
        (bench/load_rate.py replaces this step to time the same load without generating.)"""
        done = 0
        while batch := list(islice(rows, BATCH)):
            lines = map("\t".join, batch) if type(batch[0]) is tuple else batch
            copy.write("\n".join(lines) + "\n")
            done += len(batch)
            self.progress.table(table, done, target)
        return done

    def reset_sequence(self, table: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

    # --- tables ---------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            # Bulk load: the generator makes consistent ids itself, so the per-row foreign-key
            # triggers are skipped for this transaction (superuser only; otherwise they run).
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
            else:
                # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their checks would
                # pend until COMMIT, and PostgreSQL refuses to rebuild an index on a table with
                # pending trigger events. Checked at the end of each COPY instead.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for step in registry.scale_data.ordered():
            step.generate(self)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return self.counts

    def customers(self) -> None:
        self.first_customer = self.next_id("customers")
        first, rng = self.first_customer, self.rng
        names = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Ivy", "Arthur", "Zara", "Omar"]
        surnames = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Evans", "Thomas"]

        def rows():
            for k in range(self.n):
                cid = first + k
                name = f"{rng.choice(names)} {rng.choice(surnames)}"
                day, sec, ts = self.rand_ts()
                yield (str(cid), name, f"c{cid}@scale.example", f"+44 7{cid:09d}", "ACTIVE", ts, ts)

        cols = ["id", "full_name", "email", "phone", "status", "created_at", "updated_at"]
        self.copy("customers", cols, rows(), self.n)
        self.reset_sequence("customers")

    def orders(self) -> None:
        self.first_order = self.next_id("orders")
        target = self.target("orders")
        first, rng = self.first_order, self.rng
        # Remember a sample of orders for the tables that reference one.
        self.order_sample: list[tuple[int, int, str]] = []

        def rows():
            for k in range(target):
                oid = first + k
                customer = self.random_customer()
                service = SERVICES[int(rng.random() * 6)]
                day, sec, ts = self.rand_ts()
                r = rng.random()
                status = "COMPLETED" if r < 0.85 else "CANCELLED" if r < 0.95 else "IN_PROGRESS"
                amount = f"{5 + rng.random() * 55:.2f}"
                done = self.ts(day, min(sec + 1800, 86399))
                if k % 50 == 0:
                    self.order_sample.append((oid, customer, amount))
                yield (
                    str(oid),
                    f"ORD-S{oid:010d}",
                    str(customer),
                    service,
                    NULL if service == "RIDE" else str(1000 + int(rng.random() * 5000)),
                    status,
                    amount,
                    "0.00" if r > 0.3 else f"{rng.random() * 5:.2f}",
                    f"{rng.random() * 4:.2f}" if status == "COMPLETED" else "0.00",
                    str(1 + int(rng.random() * 5)) if status == "COMPLETED" and r < 0.5 else NULL,
                    "" if service == "RIDE" else f"{int(rng.random() * 200)} High Street, London",
                    ts,
                    done if status == "COMPLETED" else NULL,
                    done if status == "CANCELLED" else NULL,
                    ts,
                )

        cols = [
            "id",
            "order_number",
            "customer_id",
            "service_type",
            "merchant_id",
            "status",
            "order_amount",
            "discount_amount",
            "tip_amount",
            "customer_rating",
            "delivery_address",
            "created_at",
            "completed_at",
            "cancelled_at",
            "updated_at",
        ]
        self.copy("orders", cols, rows(), target)
        self.reset_sequence("orders")

    def sessions(self) -> None:
        """customer_sessions; keeps each session's login (``self.logins``) for the login history."""
        first = self.next_id("customer_sessions")
        target = self.target("customer_sessions")
        rng = self.rng
        logins: list[tuple] = []

        def rows():
            for k in range(target):
                sid = first + k
                customer = self.random_customer()
                day, sec, ts = self.rand_ts()
                device = f"dev-{customer}-{int(rng.random() * 2)}"
                ip = f"10.{customer % 250}.{int(rng.random() * 250)}.{int(rng.random() * 250)}"
                ended = self.ts(day, min(sec + 60 + int(rng.random() * 1800), 86399))
                logins.append((str(customer), ts, device, ip, str(sid)))
                yield (str(sid), str(customer), device, "ANDROID", ip, "App/5.2", ts, ended)

        cols = ["id", "customer_id", "device_id", "device_type", "ip_address", "user_agent", "started_at", "ended_at"]
        self.copy("customer_sessions", cols, rows(), target)
        self.reset_sequence("customer_sessions")
        self.logins = logins  # for the login history (analytics/datagen.py)


def per_customer() -> dict[str, float]:
    """Rows per customer of every table the steps generate (the platform's and each app's)."""
    shares = dict(PER_CUSTOMER)
    for step in registry.scale_data.ordered():
        shares.update(step.per_customer)
    return shares


def kept_for_triggers() -> dict[str, tuple[str, ...]]:
    """Indexes a table's row triggers read during the load (by their first column): kept
    through a bulk load, or each row would scan the table."""
    kept: dict[str, tuple[str, ...]] = {}
    for step in registry.scale_data.ordered():
        kept.update(step.keep_indexes)
    return kept


def generate_platform(gen: Generator) -> None:
    gen.customers()
    gen.orders()
    gen.sessions()


registry.register_scale_data(key="platform", generate=generate_platform, order=0, per_customer=PER_CUSTOMER)
