"""customer_ops.statements: a queryset compiled once, run with each call's own value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL

from compliance.models import AuditLog
from customer_ops.statements import STAND_IN, bound, compiled
from tests.factories import AuditLogFactory

pytestmark = pytest.mark.django_db


def test_the_compiled_statement_answers_as_the_queryset_would():
    mine, theirs = AuditLogFactory(actor_id=7), AuditLogFactory(actor_id=8)
    sql, params = compiled(AuditLog.objects.filter(actor_id=STAND_IN).values_list("pk", flat=True))
    for entry in (mine, theirs):
        with connection.cursor() as cursor:
            cursor.execute(sql, bound(params, entry.actor_id))
            assert [row[0] for row in cursor.fetchall()] == [entry.pk]


def test_a_queryset_without_the_stand_in_is_refused():
    with pytest.raises(ImproperlyConfigured):
        compiled(AuditLog.objects.filter(actor_id=42))


def test_only_the_stand_in_is_swapped():
    assert bound((STAND_IN, "AGENT", 5, True), 99) == [99, "AGENT", 5, True]


def test_bind_swaps_each_kind_of_stand_in_only():
    from customer_ops.statements import IDS_STAND_IN, TIME_STAND_IN, bind

    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    params = (STAND_IN, TIME_STAND_IN, IDS_STAND_IN, [1, 2], 5, "x", True)
    assert bind(params, pk=9, at=at, ids=(3, 4)) == [9, at, [3, 4], [1, 2], 5, "x", True]


def test_a_model_statement_makes_the_querysets_instances():
    from customer_ops.statements import IDS_STAND_IN, ModelStatement

    entries = [AuditLogFactory(actor_id=7) for _ in range(3)]
    by_id = RawSQL(
        f'"{AuditLog._meta.db_table}"."{AuditLog._meta.pk.column}" = ANY(%s)',
        (IDS_STAND_IN,),
        output_field=BooleanField(),
    )
    queryset = (
        AuditLog.objects.filter(actor_id=STAND_IN).filter(by_id).only("action_type").annotate(twice=F("actor_id") * 2)
    )
    statement = ModelStatement(queryset, {"pk", "ids"})
    wanted = [entries[0].pk, entries[2].pk]
    got = {e.pk: e for e in statement.fetch(pk=7, ids=wanted)}
    plain = {
        e.pk: e for e in AuditLog.objects.filter(pk__in=wanted).only("action_type").annotate(twice=F("actor_id") * 2)
    }
    assert set(got) == set(wanted)
    for pk, entry in got.items():
        assert (entry.action_type, entry.twice, entry.get_deferred_fields()) == (
            plain[pk].action_type,
            plain[pk].twice,
            plain[pk].get_deferred_fields(),
        )
        assert entry._state.db == "default" and not entry._state.adding
    assert statement.fetch(pk=8, ids=wanted) == []


def test_a_model_statement_refuses_a_missing_or_unexpected_stand_in():
    from customer_ops.statements import ModelStatement

    with pytest.raises(ImproperlyConfigured):
        ModelStatement(AuditLog.objects.filter(actor_id=STAND_IN), {"pk", "ids"})
    with pytest.raises(ImproperlyConfigured):
        ModelStatement(AuditLog.objects.filter(actor_id=STAND_IN), set())
