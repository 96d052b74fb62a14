"""The hash-chained audit trail: tamper evidence beyond privileges (docs/audit_chain.md).

Privileges stop the runtime role; they do not stop an owner, a superuser or a restored
backup. So every row of ``customer_audit_log`` and ``compliance_staff_access_log`` gets an
entry in a hash chain (``backoffice_private_audit_chain``, :class:`AuditChainEntry`), written
by the database in the inserting transaction, and :func:`verify` finds any row edited,
deleted or inserted since, whoever did it and with whatever triggers disabled.

* **Written by the database.** An AFTER INSERT trigger on each log calls a SECURITY DEFINER
  function owned by the owner role (the runtime role may only read ``backoffice_private_*``
  tables, ``customer_ops.db_roles``), with ``search_path = pg_catalog, public, pg_temp`` and
  every table named ``public.``: a TEMP table of the runtime role's cannot stand in for one.
* **K chains, one lock per transaction.** A transaction's rows, of both logs, go to chain
  ``txid % CHAINS``; the trigger takes that chain's transaction-level advisory lock, reads
  the chain's last entry and appends the next. The lock is held until commit, so two
  transactions that land on the same chain are serialised (the second waits for the first
  to commit) and one that only ever takes one such lock cannot deadlock on them.
* **What is hashed** (:func:`install_sql`): per entry, SHA-256 over the previous entry's
  hash, the chain and position, the row's non-personal columns and one digest per personal
  column, ``SHA-256(salt || column name || value)`` with a random salt per entry. Values are
  canonical (timestamps as UTC epoch microseconds, NULL distinct from every string), so no
  session setting (TimeZone, DateStyle, bytea_output...) changes a hash. The personal
  columns are derived from the models' declarations (:func:`layout`): an erasure redacts
  them, the entry's hash stays valid, and the changed digest is accepted only when the
  row's customer has an erasure. When an erasure changes a row, a trigger forgets the
  entry's salt, so the stored digests of the erased values cannot be tested against
  guesses (an IP address has only 2^32).
* **Checkpoints.** ``checkpoint_audit_chain`` (daily) records each chain's head; an entry
  cut off the end of a chain after a checkpoint is then missing (:func:`verify`).
* **Verification** (:func:`verify`, ``manage.py verify_audit_chain``) is three set-based
  queries, read-only, as the runtime role: the chain with window functions (links, gaps,
  hashes, rows gone or changed), the logs' rows without an entry, the checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.db import connection as default_connection
from django.db import models, transaction

from compliance.models import AccessLog, AuditChainCheckpoint, AuditChainEntry, AuditLog
from customer_ops.personal_data import Scrub, declaration_for

CHAINS = 8  # more chains, less waiting between concurrent writers; each is verified on its own
# The chains' advisory locks: pg_advisory_xact_lock(LOCK_CLASS, chain). Two int4 keys, a
# space apart from the scheduled jobs' single bigint keys (customer_ops/scheduled.py).
LOCK_CLASS = 20_0020
GENESIS = bytes(32)  # the "previous hash" of every chain's first entry

ENTRIES = AuditChainEntry._meta.db_table
CHECKPOINTS = AuditChainCheckpoint._meta.db_table
CHAINED = (AuditLog, AccessLog)  # issue 20: the two trails of who did what to whom

# The erasure's evidence: a row's personal columns may change only for these customers.
ERASED_CUSTOMERS_SQL = """
    SELECT r.customer_id FROM public.compliance_erasure_runs r
    UNION SELECT d.customer_id FROM public.customer_data_deletion_requests d
    WHERE d.request_status IN ('PROCESSING', 'COMPLETED')
"""


@dataclass(frozen=True)
class Layout:
    """What the chain covers of one log: every column, the personal ones as digests."""

    model: type[models.Model]
    plain: tuple[models.Field, ...]  # hashed as they are
    personal: tuple[models.Field, ...]  # hashed through a salted digest each

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def customer_column(self) -> str:
        data = declaration_for(self.model)
        return self.model._meta.get_field(data.customer_path).column


@cache
def layout(model: type[models.Model]) -> Layout:
    """From the model's personal-data declaration: the columns erasure may change (redacted
    ``fields`` and scrubbed ``text``) are personal; every other column is plain."""
    data = declaration_for(model)
    if data is None:
        raise ImproperlyConfigured(f"{model._meta.label} declares no personal data: the chain cannot tell its columns")
    erasable = set(data.fields) | {name for name, how in data.text.items() if isinstance(how, Scrub)}
    fields = [f for f in model._meta.concrete_fields if f.column]
    return Layout(
        model=model,
        plain=tuple(f for f in fields if f.name not in erasable),
        personal=tuple(f for f in fields if f.name in erasable),
    )


def layouts() -> list[Layout]:
    return [layout(model) for model in CHAINED]


# --- canonical values ------------------------------------------------------------------------

_AS_TEXT = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "DecimalField",  # numeric's text form depends on no setting
    "BooleanField",  # 'true' / 'false'
    "UUIDField",
    "JSONField",  # jsonb's text form is canonical (keys sorted, one spacing)
}


def canonical(f: models.Field, row: str) -> str:
    """SQL for the column's value as text that no session setting changes (NULL stays NULL)."""
    value = f'{row}."{f.column}"'
    kind = (f.target_field if f.is_relation else f).get_internal_type()
    if kind in ("TextField", "CharField", "EmailField", "SlugField", "URLField"):
        return f"{value}::text"
    if kind == "DateTimeField":  # the instant, whatever TimeZone or DateStyle say
        return f"(extract(epoch FROM {value}) * 1000000)::bigint::text"
    if kind == "DateField":
        return f"to_char({value}, 'YYYY-MM-DD')"
    if kind in _AS_TEXT:
        return f"{value}::text"
    raise ImproperlyConfigured(f"{f.model._meta.label}.{f.name}: no canonical form for {kind} in the audit chain")


def _field(value: str) -> str:
    """SQL for the value's bytes that cannot run into the next value's: 0x00 for NULL, else
    0x01, the length (4 bytes, big-endian) and the UTF-8 bytes. Inline, with built-ins
    only (a SQL helper function per value would cost more than the hashing). No string
    literal with a backslash: those depend on standard_conforming_strings."""
    utf8 = f"convert_to({value}, 'UTF8')"
    return f"coalesce(decode('01', 'hex') || int4send(octet_length({utf8})) || {utf8}, decode('00', 'hex'))"


def _constant(text: str) -> str:
    """:func:`_field` of a constant (a table or column name), worked out here."""
    data = text.encode()
    encoded = b"\x01" + len(data).to_bytes(4, "big") + data
    return f"decode('{encoded.hex()}', 'hex')"


def plain_sql(lay: Layout, row: str) -> str:
    """bytea: the table's name, then each plain column, each as :func:`_field`."""
    return " || ".join([_constant(lay.table), *(_field(canonical(f, row)) for f in lay.plain)])


def digest_sql(f: models.Field, row: str, salt: str) -> str:
    """bytea: a personal column's digest, SHA-256(salt || name || value); NULL without a salt."""
    return f"sha256({salt} || {_constant(f.column)} || {_field(canonical(f, row))})"


def digests_sql(lay: Layout, row: str, salt: str) -> str:
    """bytea[]: one salted digest per personal column, in the layout's order."""
    return f"ARRAY[{', '.join(digest_sql(f, row, salt) for f in lay.personal)}]::bytea[]"


def _stored_digests(lay: Layout, entry: str) -> str:
    return " || ".join(f"{entry}.digests[{i}]" for i in range(1, len(lay.personal) + 1)) or "''::bytea"


def changed_sql(lay: Layout, row: str, entry: str) -> str:
    """text: the personal columns whose value no longer matches the entry's digest, or NULL."""
    tests = [
        f"CASE WHEN {digest_sql(f, row, f'{entry}.salt')} IS DISTINCT FROM {entry}.digests[{i}] THEN '{f.column}' END"
        for i, f in enumerate(lay.personal, start=1)
    ]
    if not tests:
        return "NULL::text"
    # Without its salt (forgotten when the row was updated) no digest can be checked any more.
    forgotten = "'all: their salt was forgotten by an update'"
    return f"CASE WHEN {entry}.salt IS NULL THEN {forgotten} ELSE NULLIF(concat_ws(', ', {', '.join(tests)}), '') END"


def hash_ok_sql(lay: Layout, row: str, entry: str) -> str:
    """boolean: the entry's hash is what the row's current plain values and the entry's own
    digests, position and ``prev`` give (false when any of them changed)."""
    return (
        f"coalesce(cardinality({entry}.digests) = {len(lay.personal)} AND sha256({entry}.prev"
        f" || int2send({entry}.chain) || int8send({entry}.seq) || {plain_sql(lay, row)}"
        f" || {_stored_digests(lay, entry)}) = {entry}.hash, false)"
    )


# --- what the migration installs ---------------------------------------------------------------

_SETTINGS = "SET search_path = pg_catalog, public, pg_temp"

FUNCTIONS_SQL = rf"""
-- Forget an entry's salt when an erasure changes the row's personal columns (the trigger's
-- WHEN clause names them): the chain keeps verifying, the old digests become unguessable.
CREATE OR REPLACE FUNCTION public.backoffice_audit_chain_forget_salt() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {_SETTINGS} AS $fn$
BEGIN
    UPDATE public.{ENTRIES} SET salt = NULL WHERE source = TG_ARGV[0] AND row_id = NEW.id AND salt IS NOT NULL;
    RETURN NULL;
END
$fn$;

-- The daily checkpoint: each chain's head, recorded unless already recorded. Callable by the
-- runtime role (the job runs as it); it can only add the true heads.
CREATE OR REPLACE FUNCTION public.backoffice_audit_chain_checkpoint()
RETURNS TABLE (chain smallint, seq bigint, hash bytea, recorded boolean)
LANGUAGE sql SECURITY DEFINER {_SETTINGS} AS $fn$
    WITH heads AS (
        SELECT k.k::smallint AS chain, h.seq, h.hash
        FROM generate_series(0, {CHAINS - 1}) AS k(k)
        CROSS JOIN LATERAL (
            SELECT e.seq, e.hash FROM public.{ENTRIES} e WHERE e.chain = k.k ORDER BY e.seq DESC LIMIT 1
        ) h
    ), added AS (
        INSERT INTO public.{CHECKPOINTS} (chain, seq, hash)
        SELECT h.chain, h.seq, h.hash FROM heads h
        WHERE NOT EXISTS (
            SELECT 1 FROM public.{CHECKPOINTS} c WHERE c.chain = h.chain AND c.seq = h.seq AND c.hash = h.hash
        )
        RETURNING chain
    )
    SELECT h.chain, h.seq, h.hash, h.chain IN (SELECT a.chain FROM added a) FROM heads h ORDER BY h.chain
$fn$;
"""


def _append_sql(lay: Layout, row: str) -> str:
    """PL/pgSQL appending ``row``'s entry to the calling transaction's chain (variables
    ``k``, ``salt``, ``digests``, ``head_seq``, ``head_hash``). Generated into each function
    that appends, rather than a shared function: a call per row costs more than its body."""
    stored = " || ".join(f"digests[{i}]" for i in range(1, len(lay.personal) + 1)) or "''::bytea"
    return f"""
        k := (txid_current() % {CHAINS})::smallint;
        salt := uuid_send(gen_random_uuid());
        digests := {digests_sql(lay, row, "salt")};
        -- Held until the transaction ends: the next writer on this chain waits for our commit
        -- and then reads our entry as its head.
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, k);
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM public.{ENTRIES} e
        WHERE e.chain = k ORDER BY e.seq DESC LIMIT 1;
        head_seq := coalesce(head_seq, 0) + 1;
        head_hash := coalesce(head_hash, decode('{GENESIS.hex()}', 'hex'));
        INSERT INTO public.{ENTRIES} (chain, seq, source, row_id, salt, digests, prev, hash)
        VALUES (k, head_seq, '{lay.table}', {row}.id, salt, digests, head_hash, sha256(
            head_hash || int2send(k) || int8send(head_seq) || {plain_sql(lay, row)} || {stored}))
        -- A row moved out of the default partition is inserted again, id and values unchanged
        -- (customer_ops/partitions.py): it keeps its entry.
        ON CONFLICT (source, row_id) DO NOTHING;"""


_APPEND_VARIABLES = """
    k smallint;
    salt bytea;
    digests bytea[];
    head_seq bigint;
    head_hash bytea;"""


def _trigger_sql(lay: Layout) -> str:
    name = f"backoffice_audit_chain_{lay.table}"
    personal = [f'"{f.column}"' for f in lay.personal]
    old, new = (", ".join(f"{row}.{c}" for c in personal) for row in ("OLD", "NEW"))
    forget = (
        f"""
DROP TRIGGER IF EXISTS backoffice_audit_chain_erasure ON public.{lay.table};
CREATE TRIGGER backoffice_audit_chain_erasure AFTER UPDATE ON public.{lay.table} FOR EACH ROW
    WHEN (ROW({old}) IS DISTINCT FROM ROW({new}))
    EXECUTE FUNCTION public.backoffice_audit_chain_forget_salt('{lay.table}');"""
        if personal
        else ""
    )
    return f"""
-- The log's AFTER INSERT trigger: the row's entry, in the inserting transaction.
CREATE OR REPLACE FUNCTION public.{name}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {_SETTINGS} AS $fn$
DECLARE{_APPEND_VARIABLES}
BEGIN{_append_sql(lay, "NEW")}
    RETURN NULL;
END
$fn$;
DROP TRIGGER IF EXISTS backoffice_audit_chain ON public.{lay.table};
CREATE TRIGGER backoffice_audit_chain AFTER INSERT ON public.{lay.table} FOR EACH ROW
    EXECUTE FUNCTION public.{name}();{forget}
"""


def _backfill_sql() -> str:
    loops = "".join(
        f"""
    FOR r IN
        SELECT t.* FROM public.{lay.table} t
        WHERE NOT EXISTS (SELECT 1 FROM public.{ENTRIES} e WHERE e.source = '{lay.table}' AND e.row_id = t.id)
        ORDER BY t.id
    LOOP{_append_sql(lay, "r")}
        n := n + 1;
    END LOOP;"""
        for lay in layouts()
    )
    return f"""
-- Rows that have no entry yet (those before the chain existed; a bulk load with triggers
-- off), appended in id order to the calling transaction's chain. The owner's alone.
CREATE OR REPLACE FUNCTION public.backoffice_audit_chain_backfill() RETURNS bigint
LANGUAGE plpgsql {_SETTINGS} AS $fn$
DECLARE
    r record;
    n bigint := 0;{_APPEND_VARIABLES}
BEGIN{loops}
    RETURN n;
END
$fn$;
REVOKE ALL ON FUNCTION public.backoffice_audit_chain_backfill() FROM PUBLIC;
"""


def install_sql() -> str:
    """Every function and trigger of the chain (idempotent). A test compares what is
    installed with this, so a change to a log's columns or declarations needs a migration."""
    return FUNCTIONS_SQL + "".join(_trigger_sql(lay) for lay in layouts()) + _backfill_sql()


UNINSTALL_SQL = "\n".join(
    [
        *(f"DROP TRIGGER IF EXISTS backoffice_audit_chain ON public.{m._meta.db_table};" for m in CHAINED),
        *(f"DROP TRIGGER IF EXISTS backoffice_audit_chain_erasure ON public.{m._meta.db_table};" for m in CHAINED),
        *(f"DROP FUNCTION IF EXISTS public.backoffice_audit_chain_{m._meta.db_table}();" for m in CHAINED),
        "DROP FUNCTION IF EXISTS public.backoffice_audit_chain_backfill();",
        "DROP FUNCTION IF EXISTS public.backoffice_audit_chain_checkpoint();",
        "DROP FUNCTION IF EXISTS public.backoffice_audit_chain_forget_salt();",
    ]
)


def backfill(connection=default_connection) -> int:
    """Chain the rows that have no entry (the owner's connection); returns how many."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.backoffice_audit_chain_backfill()")
        return cursor.fetchone()[0]


# --- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    chain: int
    seq: int
    hash: bytes
    recorded: bool  # a new checkpoint (False: the head had not moved since the last one)

    def __str__(self) -> str:
        return f"chain {self.chain}: seq {self.seq} hash {self.hash.hex()}"


def checkpoint(connection=default_connection) -> list[Head]:
    """Record each chain's head (the runtime role may: a SECURITY DEFINER function)."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT chain, seq, hash, recorded FROM public.backoffice_audit_chain_checkpoint()")
        return [Head(chain, seq, bytes(digest), recorded) for chain, seq, digest, recorded in cursor.fetchall()]


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The first place where the chain breaks: a row (``table`` ``row_id``) or a chain position."""

    what: str
    table: str | None = None
    row_id: int | None = None
    chain: int | None = None
    seq: int | None = None
    more: int = 0  # further problems of the same kind in the same chain or table

    def __str__(self) -> str:
        where = []
        if self.table:
            where.append(f"{self.table} id={self.row_id}")
        if self.chain is not None:
            where.append(f"chain {self.chain} seq {self.seq}" if self.seq is not None else f"chain {self.chain}")
        more = f" (and {self.more} more in this {'chain' if self.chain is not None else 'table'})" if self.more else ""
        return f"{', '.join(where)}: {self.what}{more}"


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows checked
    chains: int = 0
    erased: int = 0  # rows whose personal columns an erasure changed (accepted)
    checkpoints: int = 0
    last_checkpoint: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        per_table = ", ".join(f"{table} {n}" for table, n in self.rows.items())
        checked = f"{sum(self.rows.values())} rows checked ({per_table}) in {self.chains} chain(s)"
        erased = f"; {self.erased} with personal columns erased" if self.erased else ""
        marks = (
            f"; {self.checkpoints} checkpoint(s), the last at {self.last_checkpoint}"
            if self.checkpoints
            else "; no checkpoint yet"
        )
        return f"{checked}{erased}{marks}"


def _problem_sql(lay: Layout) -> tuple[str, str, str, str]:
    """(row present, hash ok, changed personal columns, customer) for the joined row ``t_<n>``."""
    row = f"t_{lay.table}"
    return (
        f"{row}.id IS NOT NULL",
        hash_ok_sql(lay, row, "e"),
        changed_sql(lay, row, "e"),
        f'{row}."{lay.customer_column}"',
    )


def _chain_sql(every: bool = False) -> str:
    """One pass over the chain, in order: per entry the first thing broken (or NULL), whether
    an erasure changed its row; then, per chain, the first broken entry (``every``: each one)
    and the counts."""
    joins, cases = [], {"present": [], "hash_ok": [], "changed": [], "customer": []}
    for lay in layouts():
        row = f"t_{lay.table}"
        joins.append(f"LEFT JOIN public.{lay.table} {row} ON e.source = '{lay.table}' AND {row}.id = e.row_id")
        for key, sql in zip(cases, _problem_sql(lay), strict=True):
            cases[key].append(f"WHEN '{lay.table}' THEN {sql}")
    column = {key: f"CASE e.source {' '.join(whens)} END" for key, whens in cases.items()}
    genesis = f"decode('{GENESIS.hex()}', 'hex')"
    return f"""
WITH erased AS ({ERASED_CUSTOMERS_SQL}),
entries AS (
    -- Each entry against its row (hash joins), worked out before the sort of the window
    -- below: the sort then carries a few narrow columns, not the rows (OFFSET 0 keeps it so).
    SELECT e.chain, e.seq, e.source, e.row_id, e.prev, e.hash,
           {column["present"]} AS present,
           {column["hash_ok"]} AS hash_ok,
           {column["changed"]} AS changed,
           {column["customer"]} AS customer_id
    FROM public.{ENTRIES} e
    {" ".join(joins)}
    OFFSET 0
),
joined AS (
    SELECT e.*, lag(e.seq) OVER w AS lag_seq, lag(e.hash) OVER w AS lag_hash
    FROM entries e
    WINDOW w AS (PARTITION BY e.chain ORDER BY e.seq)
),
checked AS (
    SELECT j.chain, j.seq, j.source, j.row_id,
        CASE
            WHEN j.seq = j.lag_seq THEN
                'two rows of the log have this id: one was inserted with the chain''s trigger off'
            WHEN j.seq = coalesce(j.lag_seq, 0) + 2 THEN format(
                'chain entry %s is missing before this one: a row deleted with its entry', j.seq - 1)
            WHEN j.seq <> coalesce(j.lag_seq, 0) + 1 THEN format(
                'chain entries %s to %s are missing before this one: rows deleted with their entries',
                coalesce(j.lag_seq, 0) + 1, j.seq - 1)
            WHEN j.prev IS DISTINCT FROM coalesce(j.lag_hash, {genesis}) THEN
                'link broken: the previous entry was changed or replaced'
            WHEN NOT j.present THEN 'row missing: deleted from the log after it was chained'
            WHEN NOT j.hash_ok THEN
                'content changed: a non-personal column of the row, or its chain entry, differs from what was hashed'
            WHEN j.changed IS NOT NULL AND j.customer_id NOT IN (SELECT customer_id FROM erased) THEN format(
                'content changed: personal column(s) [%s] no longer match their digests; customer %s has no erasure',
                j.changed, j.customer_id)
        END AS problem,
        j.changed IS NOT NULL AS changed
    FROM joined j
),
ranked AS (
    SELECT c.*, count(*) OVER p AS entries, count(c.problem) OVER p AS broken,
           count(*) FILTER (WHERE c.changed AND c.problem IS NULL) OVER p AS erased,
           row_number() OVER (PARTITION BY c.chain ORDER BY c.problem IS NULL, c.seq) AS rank
    FROM checked c
    WINDOW p AS (PARTITION BY c.chain)
)
SELECT chain, seq, source, row_id, problem, entries, broken, erased FROM ranked
WHERE rank = 1 OR ({"true" if every else "false"} AND problem IS NOT NULL)
ORDER BY chain, seq
"""


def _unchained_sql() -> str:
    """Per log: its rows, and those without an entry (the first by id)."""
    return " UNION ALL ".join(
        f"""(SELECT '{lay.table}', count(*), count(*) FILTER (WHERE e.row_id IS NULL),
                min(t.id) FILTER (WHERE e.row_id IS NULL)
            FROM public.{lay.table} t
            LEFT JOIN public.{ENTRIES} e ON e.source = '{lay.table}' AND e.row_id = t.id)"""
        for lay in layouts()
    )


def _unchained_ids_sql(table: str) -> str:
    return f"""SELECT t.id FROM public.{table} t
        WHERE NOT EXISTS (SELECT 1 FROM public.{ENTRIES} e WHERE e.source = '{table}' AND e.row_id = t.id)
        ORDER BY t.id"""


CHECKPOINTS_SQL = f"""
SELECT c.chain, c.seq, to_char(c.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
       e.hash IS NULL AS gone, e.hash IS DISTINCT FROM c.hash AS differs,
       (SELECT max(h.seq) FROM public.{ENTRIES} h WHERE h.chain = c.chain) AS head
FROM public.{CHECKPOINTS} c
LEFT JOIN public.{ENTRIES} e ON e.chain = c.chain AND e.seq = c.seq
ORDER BY c.recorded_at DESC, c.chain, c.seq DESC
"""


def verify(connection=default_connection, *, every: bool = False) -> Report:
    """Check every chain, every row of the logs and every checkpoint (read-only). The report
    names the first broken place of each chain, log and checkpointed chain; ``every``: all."""
    report = Report()
    outermost = not connection.in_atomic_block
    unchained = "not in the chain: inserted with the chain's trigger off (or restored without its entry)"
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if outermost:
            # One snapshot for the three queries: a row committed in between cannot look unchained.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(_chain_sql(every))
        counted: set[int] = set()
        for chain, seq, table, row_id, problem, _entries, broken, erased in cursor.fetchall():
            if chain not in counted:
                counted.add(chain)
                report.chains += 1
                report.erased += erased
            if problem:
                report.problems.append(Problem(problem, table, row_id, chain, seq, more=0 if every else broken - 1))
        cursor.execute(_unchained_sql())
        for table, rows, missing, first in cursor.fetchall():
            report.rows[table] = rows
            if missing and every:
                cursor.execute(_unchained_ids_sql(table))
                report.problems += [Problem(unchained, table, row_id) for (row_id,) in cursor.fetchall()]
            elif missing:
                report.problems.append(Problem(unchained, table, first, more=missing - 1))
        cursor.execute(CHECKPOINTS_SQL)
        reported: set[int] = set()
        for chain, seq, recorded, gone, differs, head in cursor.fetchall():
            report.checkpoints += 1
            report.last_checkpoint = report.last_checkpoint or recorded  # newest first
            if not (gone or differs) or (chain in reported and not every):
                continue
            reported.add(chain)  # the newest checkpoint a chain fails is the one to name
            what = (
                f"the chain ends at seq {head or 0}, behind the checkpoint of {recorded} at seq {seq}: "
                "entries cut off the end"
                if gone
                else f"the entry differs from the checkpoint of {recorded}: the chain was rewritten"
            )
            report.problems.append(Problem(what, chain=chain, seq=seq))
    return report
