"""Audit rows per second with and without the hash chain, in one run, and the time to verify it.

    DATABASE_URL=... [DATABASE_OWNER_URL=...] DEBUG=true .venv/bin/python bench/audit_chain.py \\
        [--rows 5000] [--bulk 100000] [--writers 4] [--verify-rows 1000000]

Creates a scratch database next to the configured one (``<name>_audit_chain_bench``; the
owner role needs CREATEDB, as the test roles have), migrates it, runs everything there and
drops it at the end. Each measurement is made twice, with the chain's trigger
(``backoffice_audit_chain``) on and off (``ALTER TABLE ... DISABLE TRIGGER`` as the owner),
alternating, each side's best of ``--repeat`` kept:

* ``single``: ``--rows`` audit rows, one INSERT and one commit each, as the runtime role
  (what ``customer_ops.audit.audit()`` does inside a service's transaction);
* ``bulk``: ``--bulk`` rows in one INSERT ... SELECT (one transaction, one chain: what
  ``audit_many()`` and a job's batch do);
* ``writers``: ``--writers`` threads doing ``single`` at once (transactions that land on the
  same chain wait for each other's commit);
* ``verify``: ``verify_audit_chain`` over ``--verify-rows`` chained rows (bulk-loaded, then
  verified as the runtime role).

Figures measured on the 2-core development machine, shared: docs/audit_chain.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from compliance.chain import backfill, verify  # noqa: E402
from customer_ops.db_roles import OWNER  # noqa: E402

TABLE = "customer_audit_log"
TRIGGER = "backoffice_audit_chain"
ROW = """INSERT INTO customer_audit_log (customer_id, action_type, action_field, old_value, new_value,
             action_reason, actor_type, actor_id, actor_name, ip_address, user_agent)
         VALUES (%s, 'STATUS_CHANGE', 'ticket.status', 'OPEN', 'RESOLVED', 'bench', 'AGENT', 1, 'Agent Bench',
                 '10.0.0.1', 'Bench/1.0')"""
BULK = """INSERT INTO customer_audit_log (customer_id, action_type, action_field, old_value, new_value,
              action_reason, actor_type, actor_id, actor_name, ip_address, user_agent, created_at)
          SELECT %s, 'STATUS_CHANGE', 'ticket.status', 'OPEN', 'RESOLVED', 'bench ' || g, 'AGENT', 1, 'Agent Bench',
                 '10.0.0.' || (g %% 250), 'Bench/1.0', now() - (g %% 40000) * interval '1 minute'
          FROM generate_series(1, %s) AS g"""


def _sql(alias: str, sql: str, params=None):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def _point_at(name: str) -> None:
    """Every alias (runtime and owner) at database ``name``, reconnecting on next use."""
    for alias in connections:
        connections[alias].close()
        connections[alias].settings_dict["NAME"] = name


def chain(on: bool) -> None:
    _sql(OWNER, f"ALTER TABLE {TABLE} {'ENABLE' if on else 'DISABLE'} TRIGGER {TRIGGER}")


def single(customer: int, rows: int) -> float:
    start = time.perf_counter()
    for _ in range(rows):
        with transaction.atomic():
            _sql("default", ROW, [customer])
    return rows / (time.perf_counter() - start)


def bulk(customer: int, rows: int) -> float:
    start = time.perf_counter()
    with transaction.atomic():
        _sql("default", BULK, [customer, rows])
    return rows / (time.perf_counter() - start)


def writers(customer: int, rows: int, threads: int) -> float:
    barrier = threading.Barrier(threads + 1)
    errors: list[Exception] = []

    def work():
        try:
            barrier.wait()
            single(customer, rows)
        except Exception as error:  # noqa: BLE001  (re-raised below)
            errors.append(error)
        finally:
            connections["default"].close()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return rows * threads / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000, help="single-row transactions per measurement")
    parser.add_argument("--bulk", type=int, default=100_000, help="rows of the one-statement insert")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writer threads")
    parser.add_argument("--verify-rows", type=int, default=1_000_000, help="chained rows to verify")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side (best kept)")
    args = parser.parse_args()

    base = connections["default"].settings_dict["NAME"]
    scratch = f"{base}_audit_chain_bench"
    owner_role = _sql(OWNER, "SELECT current_user")[0][0]
    _sql(OWNER, f'DROP DATABASE IF EXISTS "{scratch}"')
    _sql(OWNER, f'CREATE DATABASE "{scratch}" OWNER "{owner_role}"')
    try:
        _point_at(scratch)
        call_command("migrate", database=OWNER, verbosity=0)
        insert = "INSERT INTO customers (full_name, email) VALUES ('Bench', 'b@bench.test') RETURNING id"
        customer = _sql("default", insert)[0][0]
        server = _sql("default", "SHOW server_version")[0][0]
        print(f"PostgreSQL {server}, database {scratch}, {os.cpu_count()} CPU(s)")

        results: dict[str, dict[bool, float]] = {}
        for _ in range(args.repeat):
            for on in (True, False):  # alternating, so that a busy moment hits both sides
                chain(on)
                for name, run in (
                    ("single", lambda: single(customer, args.rows)),
                    ("bulk", lambda: bulk(customer, args.bulk)),
                    ("writers", lambda: writers(customer, args.rows // args.writers, args.writers)),
                ):
                    rate = run()
                    results.setdefault(name, {})[on] = max(rate, results.get(name, {}).get(on, 0))
        chain(True)
        for name, rates in results.items():
            cost = 100 * (1 - rates[True] / rates[False])
            print(
                f"{name:8} with chain {rates[True]:>9,.0f} rows/s   without {rates[False]:>9,.0f} rows/s   "
                f"({cost:.0f} % slower)"
            )

        # The rows inserted without the chain are not in it: chain them, then top up to --verify-rows.
        with transaction.atomic(using=OWNER):
            backfill(connections[OWNER])
        have = _sql("default", f"SELECT count(*) FROM {TABLE}")[0][0]
        while have < args.verify_rows:
            batch = min(200_000, args.verify_rows - have)
            bulk(customer, batch)
            have += batch
        _sql(OWNER, "VACUUM ANALYZE")
        start = time.perf_counter()
        report = verify()
        took = time.perf_counter() - start
        assert report.ok, report.problems
        print(
            f"verify   {sum(report.rows.values()):,} rows in {report.chains} chain(s): {took:.1f} s "
            f"({sum(report.rows.values()) / took:,.0f} rows/s)"
        )
    finally:
        _point_at(base)
        _sql(OWNER, f'DROP DATABASE IF EXISTS "{scratch}"')


if __name__ == "__main__":
    main()
