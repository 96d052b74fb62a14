"""Least privilege (issue 12, item 3): the suite itself runs as the runtime role, which
owns nothing and whose raw SQL cannot empty, alter, untrigger or drop a log; migrations run
as the owner role. Every list here comes from the write-rule declarations and the catalog.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.db import DatabaseError, connection, transaction

from customer_ops.db_roles import OWNER, PRIVATE_TABLE_PREFIX
from customer_ops.partitions import partitions
from customer_ops.write_rules import APPEND_ONLY, ruled_models, rules_for
from tests.compliance.factories import OWN_FACTORIES
from tests.factories import FACTORIES

FACTORIES = {**FACTORIES, **OWN_FACTORIES}  # the project's own logs (staff access log) too

LOGS = [m for m in ruled_models() if rules_for(m).append_only]

needs_two_roles = pytest.mark.skipif(
    settings.DATABASE_RUNTIME_ROLE is None, reason="the server allows one role only (no superuser to create two)"
)


def _sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def _refused(sql, match) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        _sql(sql)


def _trigger_names(table: str) -> list[str]:
    return [
        r[0] for r in _sql("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
    ]


def test_migrate_defaults_to_the_owner_connection():
    assert get_commands()["migrate"] == "customer_ops"
    parser = load_command_class("customer_ops", "migrate").create_parser("manage.py", "migrate")
    assert parser.parse_args([]).database == OWNER
    assert parser.parse_args(["--database", "default"]).database == "default"


@needs_two_roles
@pytest.mark.django_db
def test_the_suite_runs_as_a_runtime_role_that_owns_nothing():
    assert _sql("SELECT current_user")[0][0] == settings.DATABASE_RUNTIME_ROLE
    assert _sql("SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user") == [
        (False,)
    ]
    owned = _sql(
        """
        SELECT c.oid::regclass::text FROM pg_class c WHERE pg_get_userbyid(c.relowner) = current_user
        UNION ALL SELECT p.oid::regprocedure::text FROM pg_proc p WHERE pg_get_userbyid(p.proowner) = current_user
        UNION ALL SELECT nspname FROM pg_namespace WHERE pg_get_userbyid(nspowner) = current_user
        """
    )
    assert owned == []
    assert _sql(
        "SELECT has_schema_privilege('public', 'CREATE'), has_database_privilege(current_database(), 'CREATE')"
    ) == [(False, False)]


@needs_two_roles
@pytest.mark.django_db
def test_the_runtime_role_may_read_and_write_rows_of_every_table_and_truncate_none():
    # Every table of the schema, partitions included (a direct write to a partition is a
    # row write too): what the owner's grants and default privileges cover.
    rights = _sql(
        """
        SELECT c.oid::regclass::text,
               has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
               AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'),
               has_table_privilege(c.oid, 'TRUNCATE') OR has_table_privilege(c.oid, 'TRIGGER')
               OR has_table_privilege(c.oid, 'REFERENCES')
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        """
    )
    assert len(rights) > 50
    assert [t for t, rows, _ in rights if not rows and not t.startswith(PRIVATE_TABLE_PREFIX)] == []
    assert [t for t, _, more in rights if more] == []


@needs_two_roles
@pytest.mark.django_db
def test_the_runtime_role_may_only_read_the_private_tables():
    """What the database alone writes (customer_ops.db_roles.PRIVATE_TABLE_PREFIX)."""
    rights = _sql(
        """
        SELECT c.relname, has_table_privilege(c.oid, 'SELECT'),
               has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
               OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND starts_with(c.relname, %s)
        """,
        [PRIVATE_TABLE_PREFIX],
    )
    assert [(t, read) for t, read, _ in rights if not read] == []
    assert [t for t, _, write in rights if write] == []


@needs_two_roles
@pytest.mark.django_db
@pytest.mark.parametrize("model", LOGS, ids=lambda m: m._meta.db_table)
def test_the_runtime_roles_raw_sql_cannot_empty_alter_or_untrigger_a_log(model):
    """On the log and on each of its partitions: TRUNCATE, DISABLE TRIGGER, DROP TRIGGER,
    ALTER, DROP, UPDATE and DELETE are refused; the rows stay."""
    rows = [FACTORIES[model]() for _ in range(2)]
    ids = [r.pk for r in rows]
    table = model._meta.db_table
    refused = 0
    for target in [table, *partitions(table)]:
        holds_rows = _sql(f"SELECT count(*) FROM {target} WHERE id = ANY(%s)", [ids])[0][0] > 0
        trigger = next(t for t in _trigger_names(target) if t.startswith(f"pgtrigger_{APPEND_ONLY}_"))
        attacks = {
            f"TRUNCATE {target}": "permission denied",
            f"TRUNCATE {target} CASCADE": "permission denied",
            f"ALTER TABLE {target} DISABLE TRIGGER ALL": "must be owner",
            f"ALTER TABLE {target} DISABLE TRIGGER {trigger}": "must be owner",
            f"DROP TRIGGER {trigger} ON {target}": "must be owner",
            f"ALTER TABLE {target} ADD COLUMN x int": "must be owner",
            f"ALTER TABLE {target} RENAME TO {target}_gone": "must be owner",
            f"DROP TABLE {target}": "must be owner",
            "SET session_replication_role = replica": "permission denied",
        }
        if holds_rows:  # row triggers fire only on a row
            attacks[f"UPDATE {target} SET created_at = created_at WHERE id = ANY('{{{ids[0]},{ids[1]}}}')"] = (
                "immutable log, UPDATE is not allowed"
            )
            attacks[f"DELETE FROM {target} WHERE id = ANY('{{{ids[0]},{ids[1]}}}')"] = (
                "immutable log, DELETE is not allowed"
            )
        for sql, match in attacks.items():
            _refused(sql, match)
            refused += 1
    assert model.objects.filter(pk__in=ids).count() == 2
    print(f"{table}: {refused} raw-SQL attacks refused as the runtime role")


@needs_two_roles
@pytest.mark.django_db
def test_the_runtime_role_cannot_change_the_schema():
    for sql, match in {
        "CREATE TABLE intruder (id int)": "permission denied for schema public",
        "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'": "permission denied for schema public",
        "CREATE SCHEMA intruder": "permission denied for database",
        "ALTER TABLE customers ADD COLUMN x int": "must be owner",
        "DROP TABLE customer_tickets": "must be owner",
        "CREATE INDEX intruder ON customers (id)": "must be owner",
        "ALTER FUNCTION backoffice_add_month_partition(regclass, date) OWNER TO CURRENT_USER": "must be owner",
    }.items():
        _refused(sql, match)
