"""Two database roles: the owner migrates, the runtime role only reads and writes rows.

ARCHITECTURE.md ("Deployment"): the web process and the jobs connect as a runtime role
that owns nothing, so even its raw SQL cannot TRUNCATE a log, ALTER or drop a table,
disable or drop a trigger, or change the schema (all of those need ownership); migrations
connect as the owner role, which owns every table, sequence and trigger function.

* ``DATABASES["default"]`` (``DATABASE_URL``) is the runtime role;
  ``DATABASES["owner"]`` (``DATABASE_OWNER_URL``) the owner. The project's ``migrate``
  command defaults to the owner alias. Without ``DATABASE_OWNER_URL`` both aliases are the
  same role (a single-role deployment, as before).
* The runtime role gets SELECT/INSERT/UPDATE/DELETE on tables and USAGE on sequences (no
  TRUNCATE, no REFERENCES, no TRIGGER), on what exists and, through the owner's default
  privileges, on what later migrations and partitions create. :func:`grant_runtime` runs
  after every ``migrate`` (post_migrate), so the grants follow the schema.
* The one piece of DDL the jobs need at run time, a new monthly partition, goes through a
  SECURITY DEFINER function owned by the owner (``customer_ops/partitions.py``), which
  the runtime role may EXECUTE; ``generate_data`` (bulk loads, benchmarks: it drops and
  rebuilds indexes) connects as the owner.
* :func:`create_roles` makes both roles on a server (the embedded PostgreSQL does it on
  start; ``manage.py create_db_roles`` on an external server, as an administrator).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from psycopg import errors, sql

OWNER = "owner"  # the DATABASES alias migrations (and other DDL) use

# Tables whose rows only the database itself writes (through SECURITY DEFINER functions
# and triggers owned by the owner): the runtime role may read them, never write them.
# The erasure's grants and the audit hash chain live there; a table joins by its name.
PRIVATE_TABLE_PREFIX = "backoffice_private_"

# The SECURITY DEFINER functions the runtime role may call (each checks its arguments):
# a monthly partition (customer_ops/partitions.py), an erasure's grant (compliance/erasure_sql.py).
RUNTIME_FUNCTIONS = (
    "backoffice_add_month_partition(regclass, date)",
    "backoffice_erasure_grant(text, regclass, bigint[])",
)


def runtime_role() -> str | None:
    """The role the owner grants row access to; None when one role does everything."""
    return getattr(settings, "DATABASE_RUNTIME_ROLE", None)


def _run(cursor, statement: str, *identifiers: str) -> None:
    """Execute ``statement`` with ``{}`` placeholders filled by quoted identifiers."""
    composed = sql.SQL(statement).format(*(sql.Identifier(i) for i in identifiers))
    cursor.execute(composed.as_string(cursor.connection))


def _create_role(cursor, name: str, password: str | None, *, createdb: bool) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    if cursor.fetchone():
        return False
    statement = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE {}").format(
        sql.Identifier(name), sql.SQL("CREATEDB" if createdb else "NOCREATEDB")
    )
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    try:
        cursor.execute(statement.as_string(cursor.connection))
    except errors.DuplicateObject:  # another process created it a moment ago
        return False
    return True


def create_roles(
    cursor,
    *,
    database: str,
    owner: str,
    runtime: str,
    owner_password: str | None = None,
    runtime_password: str | None = None,
    owner_createdb: bool = False,
) -> list[str]:
    """Create both roles (if missing), make ``owner`` own ``database`` and everything in its
    public schema, and grant ``runtime`` its row rights. ``cursor`` is an administrator's
    (superuser, or CREATEROLE with the rights to hand over), in autocommit, connected to
    ``database``. Idempotent; returns what it did."""
    done = []
    if _create_role(cursor, owner, owner_password, createdb=owner_createdb):
        done.append(f"created role {owner}")
    if _create_role(cursor, runtime, runtime_password, createdb=False):
        done.append(f"created role {runtime}")
    _run(cursor, "ALTER DATABASE {} OWNER TO {}", database, owner)
    # Before PostgreSQL 15 every role may CREATE in public; from 15 on, the database owner.
    cursor.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    _run(cursor, "GRANT USAGE, CREATE ON SCHEMA public TO {}", owner)
    done += adopt_schema(cursor, owner)
    _run(cursor, "SET ROLE {}", owner)
    try:
        grant_runtime(cursor, runtime)
    finally:
        cursor.execute("RESET ROLE")
    return done


def adopt_schema(cursor, owner: str) -> list[str]:
    """Hand ``owner`` the tables, sequences, views and functions of the public schema that
    another role (a former single-role deployment) created."""
    cursor.execute(
        """
        SELECT 'TABLE', c.oid::regclass::text FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v')
          AND c.relowner <> %(owner)s::regrole AND NOT c.relispartition
        UNION ALL
        SELECT 'SEQUENCE', c.oid::regclass::text FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S' AND c.relowner <> %(owner)s::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
        UNION ALL
        SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> %(owner)s::regrole
        """,
        {"owner": owner},
    )
    found = cursor.fetchall()
    for kind, name in found:
        # A partitioned table hands its partitions over with it; an owned sequence follows its table.
        _run(cursor, f"ALTER {kind} {name} OWNER TO {{}}", owner)
    cursor.execute(
        """
        SELECT c.oid::regclass::text FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relispartition AND c.relowner <> %s::regrole
        """,
        [owner],
    )
    for (name,) in cursor.fetchall():
        _run(cursor, f"ALTER TABLE {name} OWNER TO {{}}", owner)
    return [f"{owner} now owns {len(found)} objects"] if found else []


def grant_runtime(cursor, runtime: str) -> None:
    """Row rights for ``runtime`` on what the current role owns now and creates later."""
    for statement in (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {}",
    ):
        _run(cursor, statement, runtime)
    cursor.execute(
        "SELECT oid::regclass::text FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p') AND relname LIKE %s",
        [PRIVATE_TABLE_PREFIX.replace("_", r"\_") + "%"],
    )
    for (table,) in cursor.fetchall():
        _run(cursor, f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {{}}", runtime)
    for function in RUNTIME_FUNCTIONS:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
        if cursor.fetchone()[0]:
            _run(cursor, f"GRANT EXECUTE ON FUNCTION {function} TO {{}}", runtime)


def grant_after_migrate(sender, using, **kwargs) -> None:
    """post_migrate: keep the runtime role's grants in step with the schema just migrated."""
    runtime = runtime_role()
    connection = connections[using]
    if not runtime or connection.settings_dict.get("USER") == runtime:
        return
    with connection.cursor() as cursor:
        grant_runtime(cursor, runtime)
