"""The erasure's grant (compliance/erasure_sql.py, customer_ops/erasure_grants.py): the one
way through the write rules, and only for what a running erasure's plan names.

Called directly as the runtime role, with arguments an erasure would never use, the grant
function refuses and writes nothing; a grant lets exactly its rows and columns through,
in its own block; nothing a session can create or set forges one.
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from compliance import erasure, services
from compliance.erasure_sql import erasable_tables
from customer_ops.roles import Role
from customer_ops.write_rules import erasure_bypass
from tests import factories as f
from tests.assertions import unchanged
from tests.compliance.conftest import second_officer
from tests.factories import identity_verified

AuditLog = apps.get_model("compliance", "AuditLog")
ActivityLog = apps.get_model("analytics", "ActivityLog")
REFUSED = "erasure grant refused"


def _sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def _grant(request_id: str, table: str, pks: list[int]):
    return _sql("SELECT public.backoffice_erasure_grant(%s, %s::regclass, %s::bigint[])", [request_id, table, pks])


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.COMPLIANCE)


def _running(customer, officer, scopes=("ALL",)):
    """An approved request whose erasure has started (its plan stored), nothing erased yet."""
    request = services.deletion_request_create(customer=customer, scopes=list(scopes), reason="test", actor=officer)
    approving_officer = second_officer(Role.COMPLIANCE)
    identity_verified(request, approving_officer)
    services.deletion_request_approve(request=request, actor=approving_officer)
    erasure.start_run(request)
    request.refresh_from_db()
    return request


@pytest.mark.django_db
def test_a_grant_opens_its_rows_and_planned_columns_and_nothing_else(officer):
    customer, other = f.CustomerFactory(), f.CustomerFactory()
    mine = f.ActivityLogFactory(customer=customer, ip_address="203.0.113.9")
    theirs = f.ActivityLogFactory(customer=other, ip_address="203.0.113.10")
    request = _running(customer, officer)
    with erasure_bypass(ActivityLog, request_id=request.request_id, pks=[mine.pk], reason="test"):
        ActivityLog.objects.filter(pk=mine.pk).update(ip_address="")  # a declared personal column
        with unchanged(mine), pytest.raises(DatabaseError, match="immutable log, UPDATE"), transaction.atomic():
            _sql("UPDATE customer_activity_log SET created_at = created_at - interval '1 day' WHERE id = %s", [mine.pk])
        with unchanged(mine), pytest.raises(DatabaseError, match="immutable log, DELETE"), transaction.atomic():
            _sql("DELETE FROM customer_activity_log WHERE id = %s", [mine.pk])  # the plan redacts, never deletes
        with unchanged(theirs), pytest.raises(DatabaseError, match="immutable log, UPDATE"), transaction.atomic():
            _sql("UPDATE customer_activity_log SET ip_address = '' WHERE id = %s", [theirs.pk])
    mine.refresh_from_db()
    assert mine.ip_address == ""
    # The block is over: the same row is immutable again, in the same transaction too.
    with unchanged(mine), pytest.raises(DatabaseError, match="immutable log, UPDATE"), transaction.atomic():
        _sql("UPDATE customer_activity_log SET ip_address = 'x' WHERE id = %s", [mine.pk])
    assert _sql("SELECT count(*) FROM backoffice_private_erasure_grants") == [(0,)]


@pytest.mark.django_db
def test_the_grant_refuses_what_an_erasure_would_never_ask(officer):
    customer, other = f.CustomerFactory(), f.CustomerFactory()
    mine = f.ActivityLogFactory(customer=customer)
    theirs = f.ActivityLogFactory(customer=other)
    audit_row = f.AuditLogFactory(customer=customer)
    pending = services.deletion_request_create(customer=other, scopes=["ALL"], reason="test", actor=officer)
    request = _running(customer, officer, scopes=["DEVICES_NETWORK"])
    attempts = {
        "no such request": ("DDR-NOPE", "customer_activity_log", [mine.pk]),
        "a pending request (not approved)": (pending.request_id, "customer_activity_log", [theirs.pk]),
        "another customer's row": (request.request_id, "customer_activity_log", [theirs.pk]),
        "one of the customer's rows and another's": (request.request_id, "customer_activity_log", [mine.pk, theirs.pk]),
        "a table no erasure changes": (request.request_id, "auth_user", [officer.pk]),
        "a table outside this plan's scope": (request.request_id, "customer_tickets", [1]),
    }
    refused = 0
    for why, (request_id, table, pks) in attempts.items():
        with (
            unchanged(mine, theirs, audit_row),
            pytest.raises(DatabaseError, match=REFUSED),
            transaction.atomic(),
        ):
            _grant(request_id, table, pks)
        refused += 1
        assert _sql("SELECT count(*) FROM backoffice_private_erasure_grants") == [(0,)], why
    # Done: the request's erasure completes, and its id opens nothing any more.
    services.deletion_request_run(request=request)
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        _grant(request.request_id, "customer_activity_log", [mine.pk])
    print(f"{refused + 1} direct grant calls refused")


@pytest.mark.django_db
def test_nothing_a_session_creates_forges_a_grant(officer):
    row = f.ActivityLogFactory(customer=f.CustomerFactory())
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        _sql(
            "INSERT INTO backoffice_private_erasure_grants"
            " (xid, relid, pk_column, pks, columns, may_delete, request_id) VALUES"
            " (pg_current_xact_id(), 'customer_activity_log'::regclass, 'id', %s, '{ip_address}', true, 'x')",
            [[row.pk]],
        )
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        _sql("UPDATE backoffice_private_erasable_tables SET columns = '{}'")
    # A TEMP table of the same name, first on the search path, with a forged grant.
    with unchanged(row), pytest.raises(DatabaseError, match="immutable log, UPDATE"), transaction.atomic():
        _sql("CREATE TEMP TABLE backoffice_private_erasure_grants (LIKE public.backoffice_private_erasure_grants)")
        _sql(
            "INSERT INTO pg_temp.backoffice_private_erasure_grants (id, xid, relid, pk_column, pks, columns,"
            " may_delete, request_id, granted_at) VALUES (1, pg_current_xact_id(), 'customer_activity_log'::regclass,"
            " 'id', %s, '{ip_address,created_at}', true, 'x', now())",
            [[row.pk]],
        )
        _sql("SET LOCAL search_path = pg_temp, public, pg_catalog")
        _sql("UPDATE customer_activity_log SET ip_address = 'forged' WHERE id = %s", [row.pk])


@pytest.mark.django_db
def test_the_registry_follows_the_declarations():
    """What the grant allows is written from the personal-data declarations after migrate."""
    expected = {
        (t["table"], tuple(sorted(t["columns"].values())), t["may_delete"]) for t in erasable_tables(connection)
    }
    stored = {
        (table, tuple(sorted(json.loads(columns).values())), may_delete)
        for table, columns, may_delete in _sql(
            "SELECT table_name, columns, may_delete FROM backoffice_private_erasable_tables"
        )
    }
    assert stored == expected
    # Every ruled table the erasure changes is in it, history tables included.
    tables = {t for t, _, _ in stored}
    assert {"customer_audit_log", "customer_activity_log", "customers", "customer_tickets_history"} <= tables
    assert {step.table for step in erasure.steps()} == tables
