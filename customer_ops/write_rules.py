"""Write rules: declared once per model, enforced by the database, Python and the admin.

A model declares its rules in ``Meta.triggers`` with the three helpers below; that list
is the single source of truth:

* :func:`append_only` -- the spec's immutable logs: UPDATE, DELETE and TRUNCATE are refused
  (TRUNCATE skips row triggers, so it has a statement-level trigger of its own).
* :func:`never_update` -- the spec's "Never update" columns.
* :func:`touch` -- keeps ``updated_at`` (or ``last_updated_at``) current on every UPDATE.

The database layer is django-pgtrigger (the triggers above, installed by migrations), with
a template of our own (:class:`StrictTriggerSql`): pgtrigger's functions begin by asking
``pgtrigger.ignore``, a setting any database role may write, whether to skip the rule; ours
never do. The history tables of the ruled models get the same append-only rule
(:mod:`customer_ops.history_rules`).
The Python layer (:mod:`customer_ops.guards`) and the admin layer
(:class:`customer_ops.admin_base.RuleAwareAdmin`) read the same declarations back through
:func:`rules_for`, so a rule cannot be enforced in one layer and forgotten in another.

:func:`erasure_bypass` is the one sanctioned way through, for GDPR erasure only: the triggers
let a change through only where ``public.backoffice_erasure_permits`` finds a grant for
the current transaction, the table, the row and the columns changed, and only the SECURITY
DEFINER function ``public.backoffice_erasure_grant`` (owned by the owner role, which checks
the running erasure's plan) can write such a grant (docs/write_rules.md).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pgtrigger
from django.apps import apps
from django.db import connection, models, transaction
from pgtrigger import compiler

logger = logging.getLogger(__name__)

APPEND_ONLY = "append_only"
NO_TRUNCATE = "append_only_truncate"
NEVER_UPDATE = "never_update"
TOUCH = "touch_updated_at"


class StrictTriggerSql(compiler.UpsertTriggerSql):
    """pgtrigger's installation SQL without its ``pgtrigger.ignore`` escape hatch.

    pgtrigger's template starts every trigger function with "skip me if my name is in the
    ``pgtrigger.ignore`` setting", and any role may set that setting: one ``set_config``
    would switch every write rule off. This template runs the rule unconditionally, with a
    fixed ``search_path`` so that nothing a session creates (a TEMP table, a search path
    of its own) can stand in for what the function reads.
    """

    def get_template(self) -> str:
        return """
            CREATE OR REPLACE FUNCTION {pgid}()
            RETURNS TRIGGER SET search_path = pg_catalog, public, pg_temp AS $$
                {declare}
                BEGIN
                    {func}
                END;
            $$ LANGUAGE plpgsql;

            DROP TRIGGER IF EXISTS {pgid} ON {table};
            CREATE {constraint} TRIGGER {pgid}
                {when} {operation} ON {table}
                {timing}
                {referencing}
                FOR EACH {level} {condition}
                EXECUTE PROCEDURE {execute};

            COMMENT ON TRIGGER {pgid} ON {table} IS '{hash}';
        """


class StrictTrigger(pgtrigger.Trigger):
    """A trigger installed with :class:`StrictTriggerSql`: no session setting skips it.
    Every trigger of the project derives from it (a test reads the catalog for any other)."""

    def compile(self, model):
        compiled = super().compile(model)
        kwargs = {k: v for k, v in compiled.sql.kwargs.items() if k != "ignore_func_name"}
        return compiler.Trigger(name=compiled.name, sql=StrictTriggerSql(**kwargs))


def _permitted(protected: str) -> str:
    """PL/pgSQL: an erasure's grant covers this row and every ``protected`` column it
    changes (``NULL``: every column). NEW is NULL in a DELETE trigger."""
    return f"public.backoffice_erasure_permits(TG_RELID, TG_OP, to_jsonb(OLD), to_jsonb(NEW), {protected})"


class NeverUpdate(StrictTrigger, pgtrigger.ReadOnly):
    """``pgtrigger.ReadOnly`` whose error names the table and the protected columns; an
    erasure's grant lets its declared columns through."""

    def get_func(self, model):
        columns = [model._meta.get_field(f).column for f in self.fields]
        protected = "ARRAY[" + ", ".join(f"'{c}'" for c in columns) + "]::text[]"
        return self.format_sql(
            f"""
            IF {_permitted(protected)} THEN RETURN NEW; END IF;
            RAISE EXCEPTION '%: never-update columns (%) cannot be changed', TG_TABLE_NAME, '{", ".join(columns)}'
                USING ERRCODE = 'integrity_constraint_violation';
            """
        )


class AppendOnly(StrictTrigger, pgtrigger.Protect):
    """``pgtrigger.Protect`` on UPDATE and DELETE, with a message that says why; an
    erasure's grant lets its rows and columns through.

    ``retention``: a row whose ``created_at`` is older than this may be deleted (a log with a
    retention period, purged by a job). The period is written into the function, not read
    from a setting or a table, so no role can shorten it; ``now()`` is the transaction's
    start, which no session can move."""

    def __init__(self, *, retention: dt.timedelta | None = None, **kwargs):
        self.retention = retention
        super().__init__(**kwargs)

    def get_func(self, model):
        purge = ""
        if self.retention is not None:
            seconds = int(self.retention.total_seconds())
            purge = (
                f"IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '{seconds} seconds' THEN"
                " RETURN OLD; END IF;"
            )
        return self.format_sql(
            f"""
            {purge}
            IF {_permitted("NULL")} THEN
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '%: immutable log, % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
            """
        )


class Touch(StrictTrigger):
    """Sets the row's ``updated_at`` column to the current time on every UPDATE."""

    when = pgtrigger.Before
    operation = pgtrigger.Update

    def __init__(self, *, field: str = "updated_at", **kwargs):
        self.field = field
        super().__init__(**kwargs)

    def get_func(self, model):
        column = model._meta.get_field(self.field).column
        # clock_timestamp(), not now(): a second change in the same transaction still moves it.
        return f"NEW.{column} = clock_timestamp(); RETURN NEW;"


class NoTruncate(StrictTrigger):
    """A statement-level BEFORE TRUNCATE trigger: TRUNCATE never fires row triggers.

    PostgreSQL clones row triggers to a partitioned table's partitions but not statement
    triggers, and ``TRUNCATE <partition>`` fires only the partition's own; the partition
    code (:mod:`customer_ops.partitions`) copies this trigger onto every partition, under
    the same name, when it creates one. No grant opens it: an erasure never truncates.
    """

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement

    def get_func(self, model):
        return self.format_sql(
            """
            RAISE EXCEPTION '%: immutable log, TRUNCATE is not allowed', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
            """
        )


def append_only(*, retention: dt.timedelta | None = None) -> tuple[AppendOnly, NoTruncate]:
    """The two triggers of an immutable log: ``triggers = [*append_only()]``. With a
    ``retention``, rows older than it may be deleted (see :class:`AppendOnly`)."""
    return (
        AppendOnly(name=APPEND_ONLY, operation=pgtrigger.Update | pgtrigger.Delete, retention=retention),
        NoTruncate(name=NO_TRUNCATE),
    )


def never_update(*fields: str) -> NeverUpdate:
    """The spec's "Never update" columns; ``id`` is on every table's list, so it is implied."""
    return NeverUpdate(name=NEVER_UPDATE, fields=["id", *fields])


def touch(field: str = "updated_at") -> Touch:
    return Touch(name=TOUCH, field=field)


@dataclass(frozen=True)
class Rules:
    """What a model declared, read back from its ``Meta.triggers``."""

    model: type[models.Model]
    append_only: bool
    never_update: tuple[str, ...]  # field names
    touched: str | None  # the auto-managed timestamp field, if any
    retention: dt.timedelta | None = None  # an append-only log's rows may be deleted past it

    @property
    def trigger_uris(self) -> list[str]:
        names = [t.name for t in self.model._meta.triggers if t.name in {APPEND_ONLY, NEVER_UPDATE}]
        return [f"{self.model._meta.label}:{name}" for name in names]


@cache
@functools.cache  # declarations are code: read once per model (every instance's post_init asks)
def rules_for(model: type[models.Model]) -> Rules | None:
    triggers = getattr(model._meta, "triggers", None) or []
    by_name = {t.name: t for t in triggers}
    if not {APPEND_ONLY, NEVER_UPDATE, TOUCH} & by_name.keys():
        return None
    protected = by_name.get(NEVER_UPDATE)
    touched = by_name.get(TOUCH)
    return Rules(
        model=model,
        append_only=APPEND_ONLY in by_name,
        never_update=tuple(protected.fields) if protected else (),
        touched=touched.field if touched else None,
        retention=getattr(by_name.get(APPEND_ONLY), "retention", None),
    )


def ruled_models() -> list[type[models.Model]]:
    """Every installed model that declares write rules (tests are generated from this)."""
    return [m for m in apps.get_models() if rules_for(m) is not None]


class WriteRuleError(Exception):
    """A write that the spec's "When to Update" rules forbid."""


class ImmutableRecordError(WriteRuleError):
    pass


class NeverUpdateError(WriteRuleError):
    pass


_bypass: contextvars.ContextVar[frozenset] = contextvars.ContextVar("erasure_bypass", default=frozenset())


def is_bypassed(model: type[models.Model]) -> bool:
    return model in _bypass.get()


@contextlib.contextmanager
def erasure_bypass(model: type[models.Model], *, request_id: str, pks: list[int], reason: str) -> Iterator[None]:
    """The only sanctioned way to change immutable rows or never-update columns: rows
    ``pks`` of ``model``, for the running erasure of deletion request ``request_id``.

    Used by GDPR erasure alone (:mod:`compliance.erasure`). In a transaction of its own
    (a savepoint inside the caller's), it asks the database for a grant:
    ``backoffice_erasure_grant`` refuses unless the request is being erased, the table and
    the columns are in its plan and every row is the customer's; the grant then lets the
    triggers pass exactly those rows and columns until the block ends. The Python
    guard (:mod:`customer_ops.guards`) stands aside for ``model`` meanwhile.
    """
    if not reason:
        raise ValueError("erasure_bypass needs a reason")
    logger.info("erasure bypass opened for %s (%d rows): %s", model._meta.db_table, len(pks), reason)
    token = _bypass.set(_bypass.get() | {model})
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT public.backoffice_erasure_grant(%s, %s::regclass, %s::bigint[])",
                    [request_id, model._meta.db_table, list(pks)],
                )
            yield
            with connection.cursor() as cursor:
                cursor.execute("SELECT public.backoffice_erasure_release()")
    finally:
        _bypass.reset(token)
