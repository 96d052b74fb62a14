"""The hash-chained audit trail (issue 20, part 2; compliance/chain.py, docs/audit_chain.md).

What a superuser can do, the tests do with the owner role: in a transaction of the owner's
connection (rolled back at the end), the logs' user triggers disabled -- the chain's and the
append-only ones -- then an edit, a deletion or an insertion. ``verify_audit_chain`` reads
the same uncommitted state on that connection (``--database owner``); in production it runs
as the runtime role, as the intact-chain and erasure tests here do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from compliance import chain
from compliance.chain import CHAINS, GENESIS, LOCK_CLASS, layout
from compliance.choices import RequestStatus
from compliance.models import AccessLog, AuditChainCheckpoint, AuditChainEntry, AuditLog
from customer_ops.db_roles import PRIVATE_TABLE_PREFIX
from customer_ops.models import Customer
from customer_ops.personal_data import SCRUB, declaration_for
from customer_ops.roles import Role
from tests import factories as f
from tests.assertions import unchanged
from tests.compliance.conftest import approve_and_run
from tests.compliance.factories import AccessLogFactory
from tests.customer_ops.test_db_roles import needs_two_roles

pytestmark = pytest.mark.django_db(databases=["default", "owner"])
OWNER = "owner"
CHAIN_MODELS = (AuditChainEntry, AuditChainCheckpoint)
LOGS = (AuditLog, AccessLog)


def _verify(database: str = "default", *options: str) -> tuple[bool, str]:
    """(ok, output) of ``manage.py verify_audit_chain``: exit 0 with "OK", or exit 1."""
    out = io.StringIO()
    try:
        call_command("verify_audit_chain", *options, database=database, stdout=out)
    except CommandError as error:
        assert error.returncode == 1
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def _broken(output: str) -> list[str]:
    return [line.removeprefix("BROKEN: ") for line in output.splitlines() if line.startswith("BROKEN: ")]


def _sql(sql: str, params=None, using: str = "default"):
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


# --- the owner's transaction: a superuser at work, rolled back afterwards ------------------------


@pytest.fixture
def owner():
    """The owner's connection inside a transaction that the test's end rolls back (DDL too)."""
    atomic = transaction.atomic(using=OWNER)
    atomic.__enter__()
    # Django's foreign keys are deferred: their pending checks would forbid the ALTER TABLEs.
    _sql("SET CONSTRAINTS ALL IMMEDIATE", using=OWNER)
    yield connections[OWNER]
    transaction.set_rollback(True, using=OWNER)
    atomic.__exit__(None, None, None)


def _owner_trail(n: int = 5) -> tuple[list[AuditLog], list[AccessLog]]:
    """``n`` audit rows and two access rows of a new customer, written by the owner (the
    chain's trigger on): they are chained in the owner's transaction."""
    customer = Customer.objects.using(OWNER).create(full_name="Trail Person", email="trail.person@example.test")
    staff = get_user_model().objects.using(OWNER).create(username="trail-staff", is_staff=True)
    start = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    audit = [
        AuditLog.objects.using(OWNER).create(
            customer=customer,
            action_type="UPDATE",
            action_field="email",
            old_value=f"old{i}@example.test",
            new_value=f"new{i}@example.test",
            actor_type="AGENT",
            actor_id=staff.pk,
            actor_name="Agent Alex",
            ip_address="10.1.1.1",
            created_at=start + dt.timedelta(minutes=10 * i),
        )
        for i in range(n)
    ]
    access = [
        AccessLog.objects.using(OWNER).create(staff=staff, customer=customer, kind="VIEW", detail="customer page")
        for _ in range(2)
    ]
    return audit, access


def _as_superuser(sql: str, params=None, *, tables=("customer_audit_log",)) -> None:
    """Run ``sql`` with every user trigger of ``tables`` disabled (the owner's transaction)."""
    for table in tables:
        _sql(f"ALTER TABLE {table} DISABLE TRIGGER USER", using=OWNER)
    _sql(sql, params, using=OWNER)
    for table in tables:
        _sql(f"ALTER TABLE {table} ENABLE TRIGGER USER", using=OWNER)


def _entry(row) -> AuditChainEntry:
    return AuditChainEntry.objects.using(OWNER).get(source=row._meta.db_table, row_id=row.pk)


# --- an intact chain ---------------------------------------------------------------------------


def test_an_intact_chain_verifies_ok_with_the_number_of_rows_checked():
    customer = f.CustomerFactory()
    for i in range(4):
        f.AuditLogFactory(customer=customer, old_value=str(i))
    for _ in range(3):
        AccessLogFactory(customer=customer)
    rows = AuditLog.objects.count() + AccessLog.objects.count()
    assert rows >= 7 and AuditChainEntry.objects.count() == rows  # one entry per row, by the trigger

    ok, output = _verify()  # as the runtime role

    assert ok, output
    assert output.startswith(f"OK: {rows} rows checked (customer_audit_log {AuditLog.objects.count()}, ")


def test_each_transaction_appends_to_one_chain_in_order(owner):
    audit, access = _owner_trail(5)
    entries = [_entry(row) for row in [*audit, *access]]
    (txid,) = _sql("SELECT txid_current()", using=OWNER)[0]
    assert {e.chain for e in entries} == {txid % CHAINS}  # both logs: one chain, one lock
    seqs = [e.seq for e in entries]
    assert seqs == list(range(seqs[0], seqs[0] + 7))
    assert all(later.prev == earlier.hash for earlier, later in zip(entries, entries[1:], strict=False))


def test_the_hash_is_the_documented_one(owner):
    """A plain-Python reference (docs/audit_chain.md, "What is hashed"), independent of the SQL."""
    audit, access = _owner_trail(2)

    def field(value) -> bytes:
        if value is None:
            return b"\x00"
        data = str(value).encode()
        return b"\x01" + len(data).to_bytes(4, "big") + data

    def canonical(value):
        if isinstance(value, dt.datetime):
            return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
        return value

    for row in [*audit, *access]:
        row.refresh_from_db(using=OWNER)
        entry = _entry(row)
        personal = {
            "customer_audit_log": ["action_field", "old_value", "new_value", "action_reason"]
            + ["actor_name", "ip_address", "user_agent"],
            "compliance_staff_access_log": ["detail", "ip_address", "user_agent"],
        }[row._meta.db_table]
        plain = [c.column for c in row._meta.concrete_fields if c.column not in personal]
        digests = [
            hashlib.sha256(bytes(entry.salt) + field(column) + field(getattr(row, column))).digest()
            for column in [c.column for c in row._meta.concrete_fields if c.column in personal]
        ]
        body = field(row._meta.db_table) + b"".join(field(canonical(getattr(row, c))) for c in plain)
        position = entry.chain.to_bytes(2, "big") + entry.seq.to_bytes(8, "big")
        expected = hashlib.sha256(bytes(entry.prev) + position + body + b"".join(digests)).digest()
        assert [bytes(d) for d in entry.digests] == digests
        assert bytes(entry.hash) == expected, row._meta.db_table
    first = AuditChainEntry.objects.using(OWNER).filter(chain=_entry(audit[0]).chain).order_by("seq").first()
    assert first.seq > 1 or bytes(first.prev) == GENESIS


def test_the_personal_columns_are_the_declared_erasable_ones_and_every_column_is_covered():
    for model in LOGS:
        data = declaration_for(model)
        declared = set(data.fields) | {name for name, how in data.text.items() if how is SCRUB}
        lay = layout(model)
        assert {f.name for f in lay.personal} == declared
        catalog = {
            c
            for (c,) in _sql(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [model._meta.db_table],
            )
        }
        assert {f.column for f in (*lay.plain, *lay.personal)} == catalog, "a new column needs a chain layout"


def test_the_installed_functions_are_what_the_declarations_give_now():
    """A change to a log's columns or to its personal-data declaration changes the SQL the
    chain would install: it then needs a migration (and a thought for the rows already
    hashed the old way: docs/audit_chain.md)."""
    generated = dict(
        re.findall(r"CREATE OR REPLACE FUNCTION public\.(\w+)\(.*?\$fn\$(.*?)\$fn\$", chain.install_sql(), re.S)
    )
    assert {f"backoffice_audit_chain_{m._meta.db_table}" for m in LOGS} < set(generated)  # and the others
    installed = dict(_sql("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [list(generated)]))
    assert installed == generated


def test_the_hashes_depend_on_no_session_setting(owner):
    """Rows written under one set of session settings verify under another."""
    customer = Customer.objects.using(OWNER).create(full_name="Set Tings", email="settings@example.test")
    staff = get_user_model().objects.using(OWNER).create(username="settings-staff", is_staff=True)
    settings = {
        "TimeZone": "Pacific/Chatham",
        "DateStyle": "SQL, DMY",
        "IntervalStyle": "sql_standard",
        "extra_float_digits": "-15",
        "bytea_output": "escape",
        "lc_numeric": "C",
        "standard_conforming_strings": "off",
    }
    for name, value in settings.items():
        _sql("SELECT set_config(%s, %s, true)", [name, value], using=OWNER)
    _sql(
        """INSERT INTO customer_audit_log (customer_id, action_type, action_field, old_value, action_reason,
               actor_type, actor_name, ip_address, user_agent, created_at)
           VALUES (%(c)s, 'UPDATE', 'phone', NULL, 'café', 'SYSTEM', '', '', '', '2026-11-20 09:00:00.123456+00'),
                  (%(c)s, 'CREATE', '', '0', '', 'SYSTEM', '', '', '', now());
           INSERT INTO compliance_staff_access_log (staff_id, customer_id, kind, detail, ip_address, user_agent,
               created_at)
           VALUES (%(s)s, %(c)s, 'VIEW', 'customer page', '', '', now())""",
        {"c": customer.pk, "s": staff.pk},
        using=OWNER,
    )
    for name in settings:
        _sql(f"RESET {name}", using=OWNER)
    _sql("SET LOCAL TimeZone = 'America/Los_Angeles'", using=OWNER)
    assert AuditChainEntry.objects.using(OWNER).count() >= 3
    ok, output = _verify(OWNER)
    assert ok, output


# --- a superuser's edit, deletion and insertion, triggers off -----------------------------------


def test_a_superusers_edit_of_a_plain_column_is_reported_at_its_row(owner):
    audit, _ = _owner_trail(5)
    assert _verify(OWNER)[0]
    _as_superuser("UPDATE customer_audit_log SET action_type = 'DELETE' WHERE id = %s", [audit[2].pk])
    ok, output = _verify(OWNER)
    assert not ok
    (first, *_) = _broken(output)
    assert first.startswith(f"customer_audit_log id={audit[2].pk}, chain {_entry(audit[2]).chain} seq ")
    assert "content changed: a non-personal column" in first


def test_a_superusers_edit_of_a_personal_column_is_reported_when_the_customer_has_no_erasure(owner):
    audit, _ = _owner_trail(5)
    _as_superuser("UPDATE customer_audit_log SET old_value = 'forged' WHERE id = %s", [audit[3].pk])
    ok, output = _verify(OWNER)
    assert not ok
    assert _broken(output)[0].startswith(f"customer_audit_log id={audit[3].pk}, ")
    customer = audit[3].customer_id
    assert f"personal column(s) [old_value] no longer match their digests; customer {customer} has no erasure" in output


def test_a_superusers_deletion_is_reported_at_the_deleted_row(owner):
    audit, _ = _owner_trail(5)
    _as_superuser("DELETE FROM customer_audit_log WHERE id = %s", [audit[1].pk])
    ok, output = _verify(OWNER)
    assert not ok
    assert _broken(output) == [
        f"customer_audit_log id={audit[1].pk}, chain {_entry(audit[1]).chain} seq {_entry(audit[1]).seq}: "
        "row missing: deleted from the log after it was chained"
    ]


def test_a_deletion_with_its_chain_entry_is_reported_at_the_next_entry(owner):
    audit, _ = _owner_trail(5)
    gone, after = _entry(audit[2]), _entry(audit[3])
    _as_superuser(
        "DELETE FROM customer_audit_log WHERE id = %(id)s;"
        "DELETE FROM backoffice_private_audit_chain WHERE chain = %(chain)s AND seq = %(seq)s",
        {"id": audit[2].pk, "chain": gone.chain, "seq": gone.seq},
        tables=("customer_audit_log", "backoffice_private_audit_chain"),
    )
    ok, output = _verify(OWNER)
    assert not ok
    assert _broken(output)[0] == (
        f"customer_audit_log id={audit[3].pk}, chain {after.chain} seq {after.seq}: chain entry {gone.seq} is "
        "missing before this one: a row deleted with its entry"
    )


def test_a_superusers_insertion_in_the_middle_is_reported_at_the_inserted_row(owner):
    audit, _ = _owner_trail(5)
    _as_superuser(
        """INSERT INTO customer_audit_log (customer_id, action_type, action_field, action_reason, actor_type,
                actor_name, ip_address, user_agent, created_at)
           VALUES (%s, 'UPDATE', 'email', '', 'AGENT', 'Agent Alex', '10.1.1.1', '', %s)""",
        [audit[0].customer_id, audit[2].created_at + dt.timedelta(minutes=5)],  # between rows 3 and 4
    )
    (inserted,) = _sql("SELECT max(id) FROM customer_audit_log", using=OWNER)[0]
    ok, output = _verify(OWNER)
    assert not ok
    assert _broken(output) == [
        f"customer_audit_log id={inserted}: not in the chain: inserted with the chain's trigger off "
        "(or restored without its entry)"
    ]


def test_a_rewritten_chain_entry_breaks_the_next_link(owner):
    audit, _ = _owner_trail(5)
    entry, after = _entry(audit[1]), _entry(audit[2])
    _as_superuser(
        "UPDATE backoffice_private_audit_chain SET hash = sha256(hash) WHERE chain = %s AND seq = %s",
        [entry.chain, entry.seq],
        tables=("backoffice_private_audit_chain",),
    )
    lines = _broken(_verify(OWNER)[1])
    assert lines[0].startswith(f"customer_audit_log id={audit[1].pk}, chain {entry.chain} seq {entry.seq}: content")
    assert lines[0].endswith("(and 1 more in this chain)")
    assert after.seq == entry.seq + 1


def test_all_lists_every_broken_row_where_the_default_names_the_first_of_the_chain(owner):
    audit, _ = _owner_trail(5)
    _as_superuser(
        "UPDATE customer_audit_log SET actor_id = 0 WHERE id = %s; DELETE FROM customer_audit_log WHERE id = %s",
        [audit[1].pk, audit[3].pk],
    )
    first = _broken(_verify(OWNER)[1])
    every = _broken(_verify(OWNER, "--all")[1])
    assert [line.split(",")[0] for line in first] == [f"customer_audit_log id={audit[1].pk}"]
    assert first[0].endswith("(and 1 more in this chain)")
    assert [line.split(",")[0] for line in every] == [f"customer_audit_log id={r.pk}" for r in (audit[1], audit[3])]


def test_rows_cut_off_the_end_are_detected_after_a_checkpoint_and_only_then(owner):
    audit, access = _owner_trail(5)
    last = [_entry(row) for row in (audit[-1], *access)]
    cut = (
        "DELETE FROM compliance_staff_access_log WHERE id = ANY(%(access)s);"
        "DELETE FROM customer_audit_log WHERE id = %(audit)s;"
        "DELETE FROM backoffice_private_audit_chain WHERE chain = %(chain)s AND seq >= %(seq)s"
    )
    params = {"access": [a.pk for a in access], "audit": audit[-1].pk, "chain": last[0].chain, "seq": last[0].seq}
    tables = ("customer_audit_log", "compliance_staff_access_log", "backoffice_private_audit_chain")

    # Without a checkpoint the shorter chain is a valid chain: that is what the job is for.
    _sql("SAVEPOINT before_cut", using=OWNER)
    _as_superuser(cut, params, tables=tables)
    assert _verify(OWNER)[0]
    _sql("ROLLBACK TO SAVEPOINT before_cut", using=OWNER)

    heads = chain.checkpoint(connections[OWNER])
    assert (last[-1].chain, last[-1].seq) in {(h.chain, h.seq) for h in heads}
    _as_superuser(cut, params, tables=tables)
    ok, output = _verify(OWNER)
    assert not ok
    assert _broken(output) == [
        f"chain {last[0].chain} seq {last[-1].seq}: the chain ends at seq {last[0].seq - 1}, behind the checkpoint "
        f"of {AuditChainCheckpoint.objects.using(OWNER).latest('id').recorded_at:%Y-%m-%d %H:%M} UTC at seq "
        f"{last[-1].seq}: entries cut off the end"
    ]


# --- erasure ----------------------------------------------------------------------------------------


def test_a_full_erasure_is_not_reported_as_tampering(rich_customer, make_staff):
    customer = rich_customer.customer
    audit = AuditLog.objects.get(customer=customer, actor_type="CUSTOMER")
    access = AccessLog.objects.get(customer=customer)
    assert all(AuditChainEntry.objects.get(source=r._meta.db_table, row_id=r.pk).salt for r in (audit, access))

    request, _ = approve_and_run(customer, ["ALL"], make_staff(Role.COMPLIANCE))

    assert request.request_status == RequestStatus.COMPLETED
    audit.refresh_from_db()
    assert audit.old_value == "[erased]" and audit.ip_address == "[erased]"  # chained values changed
    ok, output = _verify()
    assert ok, output
    # the customer's entry, and the identity verification's entry written before approval
    assert "2 with personal columns erased" in output
    # The erased row's digests can no longer be tested against guesses: its salt is gone.
    assert AuditChainEntry.objects.get(source="customer_audit_log", row_id=audit.pk).salt is None
    # The erasure's own trail is chained like any other row.
    assert AuditChainEntry.objects.filter(source="customer_audit_log").count() == AuditLog.objects.count()


def test_an_erasures_evidence_covers_its_customer_only(owner):
    """The same change to a personal column: accepted for a customer with a completed
    deletion request, reported for another one."""
    audit, _ = _owner_trail(2)
    erased = Customer.objects.using(OWNER).create(full_name="Erased Person", email="erased@example.test")
    _sql(
        "INSERT INTO customer_data_deletion_requests (customer_id, request_status) VALUES (%s, 'COMPLETED')",
        [erased.pk],
        using=OWNER,
    )
    row = AuditLog.objects.using(OWNER).create(
        customer=erased, action_type="UPDATE", actor_type="CUSTOMER", old_value="theirs"
    )
    _as_superuser("UPDATE customer_audit_log SET old_value = '[erased]' WHERE id = ANY(%s)", [[row.pk, audit[0].pk]])
    lines = _broken(_verify(OWNER)[1])
    assert len(lines) == 1 and lines[0].startswith(f"customer_audit_log id={audit[0].pk}, "), lines
    assert "personal column(s) [old_value] no longer match" in lines[0]


# --- concurrency -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_concurrent_writers_leave_a_valid_chain():
    customer = f.CustomerFactory()
    staff = f.UserFactory()
    writers, transactions = 10, 8
    start = threading.Barrier(writers)
    errors = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(transactions):
                with transaction.atomic():
                    AuditLog.objects.create(
                        customer=customer, action_type="UPDATE", actor_type="SYSTEM", old_value=f"{n}.{i}"
                    )
                    AccessLog.objects.create(staff=staff, customer=customer, kind="VIEW", detail=f"{n}.{i}")
        except Exception as error:  # noqa: BLE001  (reported below, with the thread's number)
            errors.append((n, error))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    rows = writers * transactions * 2
    assert AuditChainEntry.objects.count() == rows
    assert AuditChainEntry.objects.values("chain").distinct().count() > 1
    ok, output = _verify()
    assert ok, output
    assert output.startswith(f"OK: {rows} rows checked")


def test_a_writer_holds_its_chains_lock_until_it_commits(owner):
    """The mechanism behind the concurrent test: the next writer on the chain waits."""
    audit, _ = _owner_trail(1)
    (pid,) = _sql("SELECT pg_backend_pid()", using=OWNER)[0]
    held = _sql(
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 AND pid = %s"
        " AND granted",
        [LOCK_CLASS, pid],
    )
    assert held == [(_entry(audit[0]).chain,)]


# --- who may write the chain -----------------------------------------------------------------------


@needs_two_roles
def test_the_runtime_role_cannot_write_the_chain_tables_or_call_its_writers():
    row = f.AuditLogFactory()
    chain.checkpoint()
    entry = AuditChainEntry.objects.get(source="customer_audit_log", row_id=row.pk)
    statements = [
        f"INSERT INTO backoffice_private_audit_chain (chain, seq, source, row_id, digests, prev, hash) "
        f"VALUES (0, 999999, 'customer_audit_log', {row.pk + 1}, '{{}}', '\\x00', '\\x00')",
        f"UPDATE backoffice_private_audit_chain SET salt = NULL WHERE chain = {entry.chain} AND seq = {entry.seq}",
        f"DELETE FROM backoffice_private_audit_chain WHERE chain = {entry.chain}",
        "INSERT INTO backoffice_private_audit_chain_checkpoints (chain, seq, hash) VALUES (0, 1, '\\x00')",
        "UPDATE backoffice_private_audit_chain_checkpoints SET seq = 1",
        "DELETE FROM backoffice_private_audit_chain_checkpoints",
        "TRUNCATE backoffice_private_audit_chain",
        "SELECT public.backoffice_audit_chain_backfill()",
    ]
    assert {m._meta.db_table for m in CHAIN_MODELS} == {
        t
        for (t,) in _sql("SELECT tablename FROM pg_tables WHERE starts_with(tablename, %s)", [PRIVATE_TABLE_PREFIX])
        if "chain" in t
    }
    for statement in statements:
        with unchanged(*CHAIN_MODELS), pytest.raises(DatabaseError, match="permission denied"):
            with transaction.atomic():
                _sql(statement)


def test_the_chain_tables_are_append_only_even_for_the_owner(owner):
    audit, _ = _owner_trail(1)
    entry = _entry(audit[0])
    chain.checkpoint(connections[OWNER])
    for statement in [
        f"UPDATE backoffice_private_audit_chain SET hash = sha256(hash) WHERE chain = {entry.chain}",
        f"UPDATE backoffice_private_audit_chain SET salt = NULL, row_id = row_id + 1 WHERE chain = {entry.chain}",
        f"DELETE FROM backoffice_private_audit_chain WHERE chain = {entry.chain}",
        "UPDATE backoffice_private_audit_chain_checkpoints SET seq = seq - 1",
        "DELETE FROM backoffice_private_audit_chain_checkpoints",
    ]:
        with pytest.raises(DatabaseError, match="the audit chain is append-only"), transaction.atomic(using=OWNER):
            _sql(statement, using=OWNER)
    for table in [m._meta.db_table for m in CHAIN_MODELS]:
        with pytest.raises(DatabaseError, match="TRUNCATE is not allowed"), transaction.atomic(using=OWNER):
            _sql(f"TRUNCATE {table}", using=OWNER)
    # The one change let through: forgetting a salt (what the erasure's trigger does).
    _sql(f"UPDATE backoffice_private_audit_chain SET salt = NULL WHERE chain = {entry.chain}", using=OWNER)


def test_a_temp_table_named_like_the_chain_changes_nothing():
    """The runtime role may create TEMP tables, which unqualified names would find first."""
    _sql("CREATE TEMP TABLE backoffice_private_audit_chain (LIKE public.backoffice_private_audit_chain)")
    _sql("SET LOCAL search_path = pg_temp, public")
    row = f.AuditLogFactory()
    assert _sql("SELECT count(*) FROM pg_temp.backoffice_private_audit_chain") == [(0,)]
    assert _sql("SELECT count(*) FROM public.backoffice_private_audit_chain WHERE row_id = %s", [row.pk]) == [(1,)]
    _sql("RESET search_path")
    assert _verify()[0]


def test_the_backfill_chains_rows_without_an_entry_in_id_order(owner):
    """What the migration does with the rows already in the logs (and generate_data after a
    load with triggers off): here, rows inserted with the chain's trigger disabled."""
    audit, _ = _owner_trail(1)
    _as_superuser(
        "INSERT INTO customer_audit_log (customer_id, action_type, actor_type, old_value)"
        " SELECT %s, 'UPDATE', 'SYSTEM', g::text FROM generate_series(1, 3) g",
        [audit[0].customer_id],
    )
    added = list(AuditLog.objects.using(OWNER).filter(pk__gt=audit[0].pk).order_by("pk"))
    assert len(added) == 3 and not _verify(OWNER)[0]

    assert chain.backfill(connections[OWNER]) == 3

    entries = [_entry(row) for row in added]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    ok, output = _verify(OWNER)
    assert ok, output


# --- the daily checkpoint -----------------------------------------------------------------------


def test_the_checkpoint_job_records_each_chains_head_once():
    f.AuditLogFactory()
    out = io.StringIO()
    call_command("checkpoint_audit_chain", stdout=out)  # as the runtime role
    (entry,) = AuditChainEntry.objects.all()
    assert f"chain {entry.chain}: seq {entry.seq} hash {bytes(entry.hash).hex()} (recorded)" in out.getvalue()
    assert list(AuditChainCheckpoint.objects.values_list("chain", "seq")) == [(entry.chain, entry.seq)]
    call_command("checkpoint_audit_chain", stdout=out)
    assert "(unchanged since the last checkpoint)" in out.getvalue()
    assert AuditChainCheckpoint.objects.count() == 1
    ok, output = _verify()
    assert ok and "1 checkpoint(s)" in output, output
