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

from analytics.models import ActivityLog
from customer_ops.scheduled import lock_alias
from customer_ops.write_rules import erasure_bypass
from tests.factories import ActivityLogFactory

UPDATE = "UPDATE customer_activity_log SET ip_address = %s WHERE id = %s"


def _ignored() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the migrations' roles
def test_the_erasure_bypass_is_transaction_local():
    row = ActivityLogFactory()
    sent: list[str] = []

    def spy(execute, sql, params, many, context):  # innermost: sees what the server receives
        sent.append(str(sql))
        return execute(sql, params, many, context)

    with erasure_bypass(ActivityLog, reason="test: transaction-local"):
        with connection.execute_wrapper(spy):
            ActivityLog.objects.filter(pk=row.pk).update(ip_address="")
            inside = _ignored()
    assert "customer_activity_log" in inside
    settings_sent = [s for s in sent if "set_config('pgtrigger.ignore'" in s]
    assert settings_sent and all("set_config('pgtrigger.ignore', %s, true)" in s for s in settings_sent)
    # The same session, next transaction: a pooler's next client here would find nothing ignored.
    assert _ignored() in (None, "")
    with pytest.raises(DatabaseError, match="immutable log"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(UPDATE, ["10.0.0.1", row.pk])


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
