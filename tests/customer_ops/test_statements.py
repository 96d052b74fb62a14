"""customer_ops.statements: a queryset compiled once, run with each call's own value."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

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
