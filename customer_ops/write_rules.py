"""Write rules: declared once per model, enforced by the database, Python and the admin.

A model declares its rules in ``Meta.triggers`` with the three helpers below; that list
is the single source of truth:

* :func:`append_only` -- the spec's immutable logs: UPDATE, DELETE and TRUNCATE are refused
  (TRUNCATE skips row triggers, so it has a statement-level trigger of its own).
* :func:`never_update` -- the spec's "Never update" columns.
* :func:`touch` -- keeps ``updated_at`` (or ``last_updated_at``) current on every UPDATE.

The database layer is django-pgtrigger (the triggers above, installed by migrations).
The Python layer (:mod:`customer_ops.guards`) and the admin layer
(:class:`customer_ops.admin_base.RuleAwareAdmin`) read the same declarations back through
:func:`rules_for`, so a rule cannot be enforced in one layer and forgotten in another.

:func:`erasure_bypass` is the one sanctioned way through, for GDPR erasure only.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pgtrigger
from django.apps import apps
from django.db import models, transaction

logger = logging.getLogger(__name__)

APPEND_ONLY = "append_only"
NO_TRUNCATE = "append_only_truncate"
NEVER_UPDATE = "never_update"
TOUCH = "touch_updated_at"


class NeverUpdate(pgtrigger.ReadOnly):
    """``pgtrigger.ReadOnly`` whose error names the table and the protected columns."""

    def get_func(self, model):
        columns = ", ".join(model._meta.get_field(f).column for f in self.fields)
        return self.format_sql(
            f"""
            RAISE EXCEPTION '%: never-update columns (%) cannot be changed', TG_TABLE_NAME, '{columns}'
                USING ERRCODE = 'integrity_constraint_violation';
            """
        )


class AppendOnly(pgtrigger.Protect):
    """``pgtrigger.Protect`` on UPDATE and DELETE, with a message that says why."""

    def get_func(self, model):
        return self.format_sql(
            """
            RAISE EXCEPTION '%: immutable log, % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
            """
        )


class Touch(pgtrigger.Trigger):
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


class NoTruncate(pgtrigger.Trigger):
    """A statement-level BEFORE TRUNCATE trigger: TRUNCATE never fires row triggers.

    PostgreSQL clones row triggers to a partitioned table's partitions but not statement
    triggers, and ``TRUNCATE <partition>`` fires only the partition's own; the partition
    code (:mod:`customer_ops.partitions`) copies this trigger onto every partition, under
    the same name, when it creates one.
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


def append_only() -> tuple[AppendOnly, NoTruncate]:
    """The two triggers of an immutable log: ``triggers = [*append_only()]``."""
    return (
        AppendOnly(name=APPEND_ONLY, operation=pgtrigger.Update | pgtrigger.Delete),
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

    @property
    def trigger_uris(self) -> list[str]:
        names = [t.name for t in self.model._meta.triggers if t.name in {APPEND_ONLY, NEVER_UPDATE}]
        return [f"{self.model._meta.label}:{name}" for name in names]


@cache
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
def erasure_bypass(*model_classes: type[models.Model], reason: str) -> Iterator[None]:
    """The only sanctioned way to change immutable rows or never-update columns.

    Used by GDPR erasure alone, to redact personal columns. It opens its own transaction,
    so the trigger bypass (``pgtrigger.ignore``, a transaction-local setting) ends with it,
    and it logs what it opened. Anything else that needs it is a design error.
    """
    if not reason:
        raise ValueError("erasure_bypass needs a reason")
    rules = [rules_for(m) for m in model_classes]
    uris = [uri for r in rules if r for uri in r.trigger_uris]
    logger.info("erasure bypass opened for %s: %s", ", ".join(m._meta.db_table for m in model_classes), reason)
    token = _bypass.set(_bypass.get() | frozenset(model_classes))
    try:
        # pgtrigger.ignore() with no URI would ignore every trigger: never call it empty.
        ignore = pgtrigger.ignore(*uris) if uris else contextlib.nullcontext()
        with transaction.atomic(), ignore:
            yield
    finally:
        _bypass.reset(token)
