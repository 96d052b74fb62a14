"""Behind a transaction-mode pooler (PgBouncer): nothing the project relies on may live in a
database session, because the next transaction on that server session may be another
client's. ``bench/scaleout_check.py pooler`` proves it through a real PgBouncer; these
tests hold the pieces in the normal suite (docs/scaling.md, "Behind PgBouncer")."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from customer_ops.scheduled import lock_alias
from tests.factories import ActivityLogFactory, identity_verified

UPDATE = "UPDATE customer_activity_log SET ip_address = %s WHERE id = %s"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # committed, as through a pooler
def test_an_erasure_grant_ends_with_its_transaction():
    """A pooled server session passes from client to client between transactions: the
    erasure's grant is keyed by the transaction id, so nothing of it reaches the next one,
    even when the block's own release is skipped (a crash between the write and the release)."""
    from compliance import erasure, services
    from customer_ops.roles import Role
    from tests.compliance.conftest import second_officer

    row = ActivityLogFactory()
    officer = second_officer(Role.COMPLIANCE)
    request = services.deletion_request_create(customer=row.customer, scopes=["ALL"], reason="t", actor=officer)
    approving_officer = second_officer(Role.COMPLIANCE)
    identity_verified(request, approving_officer)
    services.deletion_request_approve(request=request, actor=approving_officer)
    erasure.start_run(request)
    request.refresh_from_db()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.backoffice_erasure_grant(%s, 'customer_activity_log'::regclass, %s::bigint[])",
            [request.request_id, [row.pk]],
        )  # granted, never released: the transaction commits with it
        cursor.execute(UPDATE, ["", row.pk])
    with pytest.raises(DatabaseError, match="immutable log"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(UPDATE, ["10.0.0.1", row.pk])
    row.refresh_from_db()
    assert row.ip_address == ""


@pytest.mark.django_db
def test_jit_is_off_without_the_startup_option():
    # The database's own default (customer_ops migration 0064): what a pooled connection,
    # which may send no startup options, gets.
    params = {k: connection.settings_dict[v] for k, v in [("host", "HOST"), ("port", "PORT"), ("user", "USER")]}
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"], password=connection.settings_dict["PASSWORD"] or None, **params
    ) as conn:
        assert conn.execute("SELECT current_setting('jit')").fetchone()[0] == "off"


def test_behind_a_pooler_the_jobs_lock_needs_the_direct_connection(monkeypatch):
    with override_settings(DATABASE_POOLER=None):
        assert lock_alias() == "default"
    monkeypatch.delitem(settings.DATABASES, "direct", raising=False)
    with override_settings(DATABASE_POOLER="pgbouncer"):
        with pytest.raises(CommandError, match="DATABASE_DIRECT_URL"):
            lock_alias()
        monkeypatch.setitem(settings.DATABASES, "direct", settings.DATABASES["default"])
        assert lock_alias() == "direct"
