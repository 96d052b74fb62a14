"""Immutable means immutable: as the runtime role (the web process's and the jobs'), no
session setting, role switch or trigger DDL lets a write rule be skipped (issue 20, item 1).

What is attacked comes from the declarations and the catalog: every ruled model
(``customer_ops.write_rules.ruled_models``) and the history table of each
(``customer_ops.history_rules``), with the trigger names read from ``pg_trigger``, the way
an attacker with SQL injection would read them. Each attack is a raw SQL preamble in the
same transaction as an UPDATE of ``created_at`` (or a never-update column) and a DELETE;
every one must be refused and every row left as it was.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from customer_ops.history_rules import ROW_TRIGGER, TRUNCATE_TRIGGER, ruled_history_tables
from customer_ops.personal_data import historical_models
from customer_ops.write_rules import ruled_models, rules_for
from tests.assertions import unchanged
from tests.compliance.factories import OWN_FACTORIES
from tests.factories import FACTORIES

FACTORIES = {**FACTORIES, **OWN_FACTORIES}
RULED = ruled_models()
REFUSING = [m for m in RULED if rules_for(m).append_only or rules_for(m).never_update]
TOUCHED = [m for m in RULED if rules_for(m).touched]
HISTORY = historical_models()

needs_two_roles = pytest.mark.skipif(
    settings.DATABASE_RUNTIME_ROLE is None, reason="the server allows one role only (no superuser to create two)"
)
REFUSED = Counter()  # attack kind -> writes refused, printed for the note


def _sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def _triggers(table: str) -> list[str]:
    return [
        r[0] for r in _sql("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
    ]


def _protected_column(model) -> str:
    """A column the rules forbid changing: any for a log, else a never-update one."""
    rules = rules_for(model)
    name = "created_at" if rules.append_only or "created_at" in rules.never_update else rules.never_update[-1]
    assert model._meta.get_field(name).get_internal_type() == "DateTimeField"
    return model._meta.get_field(name).column


def _preambles(table: str) -> list[tuple[str, str]]:
    """(attack kind, the statement run before the write, in its transaction)."""
    names = _triggers(table)
    owner = connections["owner"].settings_dict["USER"]
    quoted = ",".join(names)
    preambles = [
        ("set_config pgtrigger.ignore (local)", f"SELECT set_config('pgtrigger.ignore', '{{{quoted}}}', true)"),
        ("set_config pgtrigger.ignore (session)", f"SELECT set_config('pgtrigger.ignore', '{{{quoted}}}', false)"),
        ("SET pgtrigger.ignore", f"SET LOCAL pgtrigger.ignore = '{{{quoted}}}'"),
        ("search_path with pg_temp first", "SET LOCAL search_path = pg_temp, public, pg_catalog"),
        ("SET ROLE to the owner", f'SET LOCAL ROLE "{owner}"'),
        ("session_replication_role = replica", "SET LOCAL session_replication_role = replica"),
        ("ALTER TABLE DISABLE TRIGGER USER", f"ALTER TABLE {table} DISABLE TRIGGER USER"),
    ]
    for name in names:
        preambles.append(("ALTER TABLE DISABLE TRIGGER <each>", f'ALTER TABLE {table} DISABLE TRIGGER "{name}"'))
        preambles.append(("DROP TRIGGER <each>", f'DROP TRIGGER "{name}" ON {table}'))
    return preambles


RULE_MESSAGE = "immutable log, (UPDATE|DELETE) is not allowed|never-update columns|history is append-only"


def _attack(table: str, key: str, pk, column: str, *, delete: bool) -> int:
    """Every preamble, then an UPDATE (and a DELETE, where the rules forbid it) of the row:
    each must be refused by the rule's trigger."""
    writes = [f"UPDATE {table} SET {column} = {column} + interval '1 day' WHERE {key} = %s"]
    if delete:
        writes.append(f"DELETE FROM {table} WHERE {key} = %s")
    refused = 0
    for kind, statement in _preambles(table):
        for write in writes:
            with (
                pytest.raises(DatabaseError, match=RULE_MESSAGE),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                try:
                    with transaction.atomic():
                        cursor.execute(statement)
                except DatabaseError:
                    pass  # refused outright (must be owner, permission denied): on to the write
                cursor.execute(write, [pk])
            REFUSED[kind] += 1
            refused += 1
        _sql("RESET pgtrigger.ignore")  # the session-level setting outlives its transaction
    return refused


@needs_two_roles
@pytest.mark.django_db
@pytest.mark.parametrize("model", REFUSING, ids=lambda m: m._meta.db_table)
def test_no_setting_role_or_trigger_ddl_opens_a_ruled_table(model):
    row = FACTORIES[model]()
    table = model._meta.db_table
    column = _protected_column(model)
    with unchanged(row):
        refused = _attack(table, model._meta.pk.column, row.pk, column, delete=rules_for(model).append_only)
    assert refused >= 9
    print(f"{table}: {refused} writes refused after bypass attempts")


@needs_two_roles
@pytest.mark.django_db
@pytest.mark.parametrize("base", [m for m in RULED if m in HISTORY], ids=lambda m: HISTORY[m]._meta.db_table)
def test_history_tables_are_append_only_against_the_same_attacks(base):
    history = HISTORY[base]
    FACTORIES[base]()  # its save writes the history row
    row = history.objects.order_by("-pk").first()
    assert row is not None
    table = history._meta.db_table
    with unchanged(row):
        refused = _attack(table, history._meta.pk.column, row.pk, "history_date", delete=True)
        with pytest.raises(DatabaseError, match="history is append-only, UPDATE"), transaction.atomic():
            history.objects.filter(pk=row.pk).update(history_change_reason="rewritten")
        with pytest.raises(DatabaseError, match="history is append-only, DELETE"), transaction.atomic():
            history.objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError, match="permission denied|append-only"), transaction.atomic():
        _sql(f"TRUNCATE {table}")
    print(f"{table}: {refused} writes refused after bypass attempts")


@needs_two_roles
@pytest.mark.django_db
@pytest.mark.parametrize("model", TOUCHED, ids=lambda m: m._meta.db_table)
def test_no_setting_stops_the_updated_at_trigger(model):
    """``updated_at`` is the database's: a session that asks pgtrigger to skip the trigger
    and writes a date of its own still gets the time of the change."""
    row = FACTORIES[model]()
    table = model._meta.db_table
    column = model._meta.get_field(rules_for(model).touched).column
    names = ",".join(_triggers(table))
    with transaction.atomic():
        _sql(f"SELECT set_config('pgtrigger.ignore', '{{{names}}}', true)")
        _sql(f"UPDATE {table} SET {column} = '2000-01-01' WHERE {model._meta.pk.column} = %s", [row.pk])
    assert _sql(
        f"SELECT {column} > now() - interval '1 hour' FROM {table} WHERE {model._meta.pk.column} = %s", [row.pk]
    ) == [(True,)]
    REFUSED["set_config pgtrigger.ignore (updated_at kept)"] += 1


def test_every_ruled_history_table_is_covered():
    """From simple-history's registry, not a list: a new history table of a ruled model is in."""
    assert ruled_history_tables() == sorted(HISTORY[m]._meta.db_table for m in RULED if m in HISTORY)
    assert len(ruled_history_tables()) >= 7


@pytest.mark.django_db
def test_the_catalog_has_the_history_triggers_on_each_ruled_history_table():
    for table in ruled_history_tables():
        assert {ROW_TRIGGER, TRUNCATE_TRIGGER} <= set(_triggers(table)), table


@pytest.mark.django_db
def test_no_trigger_in_the_database_consults_a_setting_a_session_can_write():
    """pgtrigger's own template asks ``pgtrigger.ignore``; ours (write_rules.StrictTriggerSql)
    never does. Read from the catalog: every trigger function of the schema, whoever wrote it."""
    functions = _sql(
        """
        SELECT DISTINCT t.tgrelid::regclass::text, p.proname, p.prosrc, p.proconfig
        FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND p.pronamespace = 'public'::regnamespace
        """
    )
    assert len(functions) > 40
    consulting = [
        (table, name)
        for table, name, source, _ in functions
        if "_pgtrigger_should_ignore" in source or "current_setting" in source
    ]
    assert consulting == []
    # And each runs with a fixed search_path, so no TEMP table or search path stands in.
    unpinned = [(t, n) for t, n, _, config in functions if not any(c.startswith("search_path=") for c in config or [])]
    assert unpinned == []


def test_zz_print_the_refusals_per_kind():
    """The note's figures (run with -s): writes refused as the runtime role, per kind of attack."""
    for kind, count in sorted(REFUSED.items()):
        print(f"{count:5d}  {kind}")
