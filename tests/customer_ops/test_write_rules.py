"""The spec's "When to Update" rules, proven at the ORM level and with raw SQL.

Tests are generated from the models' declarations (``customer_ops.write_rules``), and
the declarations themselves are checked against the spec's lists below, so neither a
table nor a rule can be forgotten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, connections, models, transaction
from django.utils import timezone

from customer_ops.db import RuleBoundModel
from customer_ops.write_rules import (
    ImmutableRecordError,
    NeverUpdateError,
    erasure_bypass,
    ruled_models,
    rules_for,
)
from tests.assertions import unchanged
from tests.compliance.factories import OWN_FACTORIES
from tests.factories import FACTORIES

FACTORIES = {**FACTORIES, **OWN_FACTORIES}  # the project's own ruled tables are tested the same way

# The spec, transcribed: immutable logs, and each other table's "Never update" columns.
SPEC_LOGS = {
    "customer_verification_history",
    "customer_activity_log",
    "customer_login_history",
    "customer_consent_log",
    "customer_audit_log",
}
SPEC_NEVER_UPDATE = {
    "customer_tickets": {"id", "ticket_id", "customer_id", "created_at"},
    "customer_ticket_messages": {"id", "ticket_id", "message_text", "created_at"},
    "customer_disputes": {"id", "dispute_id", "customer_id", "order_id", "created_at"},
    "customer_refund_requests": {
        "id",
        "refund_request_id",
        "customer_id",
        "order_id",
        "requested_amount",
        "created_at",
    },
    "customer_trust_score": {"id", "customer_id", "created_at"},
    "customer_fraud_alerts": {"id", "customer_id", "alert_type", "created_at"},
    "customer_blocks": {"id", "customer_id", "blocked_at", "created_at"},
    "customer_suspicious_activity": {"id", "customer_id", "activity_type", "created_at"},
    "customer_daily_analytics": {"id", "customer_id", "analytics_date", "created_at"},
    "customer_service_analytics": {"id", "customer_id", "service_type", "created_at"},
    "customer_referrals": {"id", "referrer_customer_id", "referred_customer_id", "created_at"},
    "customer_referral_rewards": {"id", "referral_id", "customer_id", "reward_amount", "created_at"},
    "customer_data_deletion_requests": {"id", "customer_id", "request_id", "requested_at", "created_at"},
    "customer_orders_summary": {"id", "customer_id", "service_type", "created_at"},
}
SPEC_AUTO_UPDATED_AT = {
    "customer_tickets",
    "customer_disputes",
    "customer_refund_requests",
    "customer_trust_score",
    "customer_blocks",
    "customer_daily_analytics",
    "customer_service_analytics",  # last_updated_at
    "customer_referrals",
    "customer_orders_summary",
}

RULED = ruled_models()
LOGS = [m for m in RULED if rules_for(m).append_only]
RETAINED = [m for m in LOGS if rules_for(m).retention]
PROTECTED = [(m, f) for m in RULED for f in rules_for(m).never_update]
TOUCHED = [m for m in RULED if rules_for(m).touched]


def _id(value):
    if isinstance(value, type):
        return value._meta.db_table
    if isinstance(value, tuple):
        return f"{value[0]._meta.db_table}.{value[1]}"
    return str(value)


def _columns(model, names):
    return {model._meta.get_field(n).column for n in names}


PLATFORM_TABLES = {"customers", "orders"}  # stand-ins: only their updated_at is kept by trigger
OWN_TABLES = {m._meta.db_table for m in OWN_FACTORIES}  # the project's own tables, not the spec's


def test_declarations_match_the_spec():
    by_table = {m._meta.db_table: rules_for(m) for m in RULED}
    spec = {t: r for t, r in by_table.items() if t not in PLATFORM_TABLES | OWN_TABLES}
    assert spec.keys() == SPEC_LOGS | SPEC_NEVER_UPDATE.keys()
    assert {t for t, r in spec.items() if r.append_only} == SPEC_LOGS
    never = {t: _columns(r.model, r.never_update) for t, r in spec.items() if not r.append_only}
    assert never == SPEC_NEVER_UPDATE
    assert {t for t, r in by_table.items() if r.touched} == SPEC_AUTO_UPDATED_AT | PLATFORM_TABLES


def test_every_spec_table_has_a_factory():
    assert set(RULED) <= set(FACTORIES)


# --- values that differ from the current one, in Python and in SQL -------------------


def _changed(field: models.Field, value):
    if field.is_relation or isinstance(field, models.AutoField | models.IntegerField):
        return value + 1
    if isinstance(field, models.DateTimeField):
        return value + dt.timedelta(days=1)
    if isinstance(field, models.DateField):
        return value + dt.timedelta(days=1)
    if isinstance(field, models.DecimalField):
        return value + Decimal(1)
    if isinstance(field, models.TextField | models.CharField):
        return value + "x"
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    raise AssertionError(f"no changed value for {field!r}")


def _changed_sql(field: models.Field) -> str:
    column = connection.ops.quote_name(field.column)
    if field.is_relation or isinstance(field, models.AutoField | models.IntegerField | models.DecimalField):
        return f"{column} + 1"
    if isinstance(field, models.DateTimeField):
        return f"{column} + interval '1 day'"
    if isinstance(field, models.DateField):
        return f"{column} + 1"
    if isinstance(field, models.TextField | models.CharField):
        return f"{column} || 'x'"
    if isinstance(field, models.UUIDField):
        return "gen_random_uuid()"
    raise AssertionError(f"no changed SQL for {field!r}")


def _raw(sql: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _immutable(table: str, operation: str) -> str:
    """The trigger's message; a partitioned log names the partition (``<table>_p2026_11``)."""
    return rf"^{table}(_p\d{{4}}_\d{{2}})?: immutable log, {operation} is not allowed"


def _allowed_field(model) -> models.Field:
    rules = rules_for(model)
    for field in model._meta.concrete_fields:
        if field.name not in rules.never_update and not field.primary_key and field.name != rules.touched:
            return field
    raise AssertionError(f"{model} has no updatable column")


# --- immutable logs --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", LOGS, ids=_id)
class TestImmutableLogs:
    def test_orm_save_of_existing_row_is_refused(self, model):
        row = FACTORIES[model]()
        with unchanged(row), pytest.raises(ImmutableRecordError):
            row.save()

    def test_orm_delete_is_refused(self, model):
        row = FACTORIES[model]()
        # Model.delete() runs in atomic(savepoint=False): give it a savepoint of its own.
        with unchanged(row), pytest.raises(ImmutableRecordError), transaction.atomic():
            row.delete()

    def test_queryset_update_and_delete_are_refused(self, model):
        row = FACTORIES[model]()
        field = _allowed_field(model)
        with unchanged(row), pytest.raises(ImmutableRecordError):
            model.objects.filter(pk=row.pk).update(**{field.attname: getattr(row, field.attname)})
        with unchanged(row), pytest.raises(ImmutableRecordError):
            model.objects.filter(pk=row.pk).delete()
        with unchanged(row), pytest.raises(ImmutableRecordError):
            model.objects.bulk_update([row], [field.name])

    def test_raw_sql_update_and_delete_are_refused(self, model):
        row = FACTORIES[model]()
        table = model._meta.db_table
        field = _allowed_field(model)
        with unchanged(row), pytest.raises(DatabaseError, match=_immutable(table, "UPDATE")):
            _raw(f"UPDATE {table} SET {field.column} = {_changed_sql(field)} WHERE id = %s", [row.pk])
        with unchanged(row), pytest.raises(DatabaseError, match=_immutable(table, "DELETE")):
            _raw(f"DELETE FROM {table} WHERE id = %s", [row.pk])

    def test_insert_is_allowed(self, model):
        FACTORIES[model]()
        assert model.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", RETAINED, ids=_id)
def test_a_log_with_a_retention_frees_only_the_rows_past_it(model):
    """The retention's exception is DELETE of a row older than the period, as the
    database's clock has it; a row a minute short of it is still immutable, and no row
    may be updated whatever its age."""
    retention = rules_for(model).retention
    table = model._meta.db_table
    now = timezone.now()
    young = FACTORIES[model](created_at=now - retention + dt.timedelta(minutes=1))
    old = FACTORIES[model](created_at=now - retention - dt.timedelta(minutes=1))
    field = _allowed_field(model)
    with unchanged(old), pytest.raises(DatabaseError, match=_immutable(table, "UPDATE")):
        _raw(f"UPDATE {table} SET {field.column} = {_changed_sql(field)} WHERE id = %s", [old.pk])
    with unchanged(young), pytest.raises(DatabaseError, match=_immutable(table, "DELETE")):
        _raw(f"DELETE FROM {table} WHERE id = %s", [young.pk])
    _raw(f"DELETE FROM {table} WHERE id = %s", [old.pk])
    assert list(model.objects.values_list("pk", flat=True)) == [young.pk]


# --- never-update columns -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "name"), PROTECTED, ids=_id)
class TestNeverUpdateColumns:
    def test_orm_change_is_refused_before_the_database(self, model, name, django_assert_num_queries):
        row = FACTORIES[model]()
        field = model._meta.get_field(name)
        setattr(row, field.attname, _changed(field, getattr(row, field.attname)))
        with unchanged(row), django_assert_num_queries(0), pytest.raises(NeverUpdateError, match=name):
            row.save()

    def test_orm_change_of_a_row_read_back_is_refused(self, model, name, django_assert_num_queries):
        # A row read from the database, not the factory's instance: its snapshot is taken
        # when it is loaded (RuleBoundModel.from_db), not after a save.
        row = model.objects.get(pk=FACTORIES[model]().pk)
        field = model._meta.get_field(name)
        setattr(row, field.attname, _changed(field, getattr(row, field.attname)))
        with unchanged(row), django_assert_num_queries(0), pytest.raises(NeverUpdateError, match=name):
            row.save()

    def test_queryset_update_is_refused(self, model, name):
        row = FACTORIES[model]()
        field = model._meta.get_field(name)
        with unchanged(row), pytest.raises(NeverUpdateError, match=name):
            model.objects.filter(pk=row.pk).update(**{field.attname: _changed(field, getattr(row, field.attname))})

    def test_raw_sql_change_is_refused(self, model, name):
        row = FACTORIES[model]()
        field = model._meta.get_field(name)
        table = model._meta.db_table
        with unchanged(row), pytest.raises(DatabaseError, match=f"{table}: never-update columns"):
            _raw(f"UPDATE {table} SET {field.column} = {_changed_sql(field)} WHERE id = %s", [row.pk])


def _changeable_field(row) -> models.Field:
    """An updatable column whose value can be changed without breaking a key or a choice."""
    rules = rules_for(type(row))
    for field in type(row)._meta.concrete_fields:
        if (
            field.name in rules.never_update
            or field.primary_key
            or field.name == rules.touched
            or field.is_relation
            or field.unique
            or field.choices
            or getattr(row, field.attname) is None
            or not isinstance(field, models.IntegerField | models.DecimalField | models.TextField)
        ):
            continue
        return field
    raise AssertionError(f"{type(row)} has no changeable column")


@pytest.mark.django_db
@pytest.mark.parametrize("model", [m for m in RULED if not rules_for(m).append_only], ids=_id)
def test_allowed_change_is_accepted_by_orm_and_sql(model):
    row = FACTORIES[model]()
    field = _changeable_field(row)
    touched = rules_for(model).touched
    original = getattr(row, field.attname)

    def fresh():
        return model.objects.get(pk=row.pk)

    # Numbers step towards zero so a range check (0-100 scores) still holds.
    if isinstance(field, models.TextField):
        changed = original + "x"
    else:
        changed = original - 1 if original >= 1 else original + 1
    stamp = getattr(fresh(), touched) if touched else None

    setattr(row, field.attname, changed)
    row.save()
    after_orm = fresh()
    assert getattr(after_orm, field.attname) == changed
    if touched:
        assert getattr(after_orm, touched) > stamp

    _raw(f"UPDATE {model._meta.db_table} SET {field.column} = %s WHERE id = %s", [original, row.pk])
    after_sql = fresh()
    assert getattr(after_sql, field.attname) == original
    if touched:
        assert getattr(after_sql, touched) > getattr(after_orm, touched)


@pytest.mark.django_db
@pytest.mark.parametrize("model", TOUCHED, ids=_id)
def test_update_moves_updated_at_through_the_trigger(model):
    row = FACTORIES[model]()
    touched = model._meta.get_field(rules_for(model).touched)
    before = getattr(row, touched.attname)
    field = _allowed_field(model)
    # Even an explicit attempt to set the timestamp back is overridden by the trigger.
    _raw(
        f"UPDATE {model._meta.db_table} SET {field.column} = {field.column}, {touched.column} = %s WHERE id = %s",
        [before - dt.timedelta(days=365), row.pk],
    )
    row.refresh_from_db()
    assert getattr(row, touched.attname) > before


# --- the one sanctioned bypass ----------------------------------------------------------


# What the bypass opens, and the attacks on it: tests/compliance/test_erasure_grant.py and
# tests/customer_ops/test_bypass_attacks.py.


def test_every_ruled_model_snapshots_the_rows_it_loads():
    """The never-update guard compares a save with the values the row was loaded with,
    which RuleBoundModel.from_db keeps: a ruled model on another base would save unchecked."""
    assert {m for m, _ in PROTECTED if not issubclass(m, RuleBoundModel)} == set()


def test_bypass_requires_a_reason():
    audit = apps.get_model("compliance", "AuditLog")
    with pytest.raises(ValueError), erasure_bypass(audit, request_id="DDR-1", pks=[1], reason=""):
        pass


BYPASS_USERS_ALLOWED = {
    Path("customer_ops/write_rules.py"),  # defines it
    Path("compliance/erasure.py"),  # GDPR erasure, the one sanctioned caller
    # The PgBouncer check: proves on a scratch cluster that the bypass cannot leak from one
    # transaction to the next through a pooled server session (not application code).
    Path("bench/scaleout_check.py"),
}


def test_the_bypass_is_used_by_erasure_only():
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if rel.parts[0] in {".venv", "tests", "var"} or "migrations" in rel.parts:
            continue
        text = path.read_text()
        calls = ("erasure_bypass(", "pgtrigger.ignore(", "SELECT public.backoffice_erasure_grant")
        if any(call in text for call in calls) and rel not in BYPASS_USERS_ALLOWED:
            offenders.append(str(rel))
    assert offenders == []


# --- TRUNCATE: refused on every log and every partition of it ------------------------------


def _targets(model) -> list[str]:
    """The log and each of its partitions (from the catalog), each addressable by raw SQL."""
    from customer_ops.partitions import partitions

    table = model._meta.db_table
    return [table, *partitions(table)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "owner"])
def test_raw_sql_truncate_is_refused_on_every_log_and_partition_even_as_the_owner():
    """TRUNCATE skips row triggers; the statement trigger refuses it, whoever has the right
    to run it (the owner role here: the runtime role has no TRUNCATE right at all). One
    transactional test for every log, since the owner's second connection must see the rows
    and each transactional test costs a flush."""
    refused = []
    for model in LOGS:
        rows = [FACTORIES[model]() for _ in range(2)]
        for target in _targets(model):
            with pytest.raises(DatabaseError, match="immutable log, TRUNCATE is not allowed"):
                with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
                    cursor.execute(f"TRUNCATE {target}")
            refused.append(target)
        assert model.objects.filter(pk__in=[r.pk for r in rows]).count() == 2
    assert {t for t in refused} >= {m._meta.db_table for m in LOGS}
    print(f"raw-SQL TRUNCATE refused as the owner: {len(refused)} tables and partitions")
