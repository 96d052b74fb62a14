"""Field and constraint helpers, so every table states types and ranges the same way.

Money is NUMERIC(12,2), scores NUMERIC(5,2) (ARCHITECTURE.md, "Data"). Each range a
field's validators state is also a named CHECK constraint: the validators give the admin
form a clear message, the constraint is the database's backstop for raw SQL.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.base import ModelState
from django.db.models.functions import Now
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from customer_ops.guards import RuleQuerySet, snapshot


class QuickLoad(models.Model):
    """A model whose rows are made from the database without ``Model.__init__``.

    ``Model.__init__`` sets each field through ``setattr`` and sends the init signals; a row
    read from the database needs none of it: its values go into the instance's ``__dict__``,
    which is where ``setattr`` puts a column's value (a fresh instance has no related object
    cached for a foreign key's setter to clear). A customer row: 3.5 to 1.6 microseconds;
    an alert, its snapshot included: 5.6 to 3.2. The alert queue makes two hundred a page.
    ``from_db`` is the hook Django documents for this ("Customizing model loading"). While
    any init signal has a receiver, or where a model has its own ``__init__``, Django's own
    path is taken. A test compares the two on every model, full rows, deferred columns and
    joined rows."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        if pre_init.receivers or post_init.receivers or cls.__init__ is not models.Model.__init__:
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        new._state = state = ModelState()
        state.adding, state.db = False, db
        new.__dict__.update(zip(field_names, values, strict=True))  # the values' attnames, in order
        return new


class RuleBoundModel(QuickLoad):
    """Base of every spec table: bulk writes go through the write-rule checks, and each row
    read keeps the values its never-update fields were loaded with (``guards.snapshot``)."""

    objects = RuleQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        snapshot(instance)
        return instance


def money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)], **kwargs)


def score(**kwargs) -> models.DecimalField:
    """A 0-100 score or confidence, NUMERIC(5,2)."""
    return models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)], **kwargs
    )


def rating(**kwargs) -> models.SmallIntegerField:
    return models.SmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)], **kwargs)


def created_at() -> models.DateTimeField:
    # Python default for the ORM, database default for rows other services insert.
    return models.DateTimeField(default=timezone.now, db_default=Now(), editable=False, db_index=False)


def updated_at(**kwargs) -> models.DateTimeField:
    # Kept current by the touch trigger on UPDATE; auto_now keeps the instance in step.
    return models.DateTimeField(auto_now=True, db_default=Now(), **kwargs)


def staff(column: str, **kwargs) -> models.ForeignKey:
    """A staff-id column of the spec (``resolved_by``, ``processed_by``, ...) as an FK to the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_column=column,
        null=True,
        blank=True,
        related_name="+",
        db_index=kwargs.pop("db_index", False),  # indexed only where a page filters on it
        **kwargs,
    )


def enum_check(table: str, field: str, choices: type[models.TextChoices], *, null: bool = False):
    condition = models.Q(**{f"{field}__in": choices.values})
    if null:
        condition |= models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(
        condition=condition,
        name=f"{table}_{field}_valid",
        violation_error_message=f"{field} must be one of {', '.join(choices.values)}.",
    )


def range_check(table: str, field: str, low=None, high=None):
    condition = models.Q()
    if low is not None:
        condition &= models.Q(**{f"{field}__gte": low})
    if high is not None:
        condition &= models.Q(**{f"{field}__lte": high})
    if low is not None and high is not None:
        message = f"{field} must be between {low} and {high}."
    else:
        message = f"{field} must be at least {low}." if low is not None else f"{field} must be at most {high}."
    return models.CheckConstraint(condition=condition, name=f"{table}_{field}_range", violation_error_message=message)


def not_above(table: str, field: str, limit: str):
    """``field <= limit`` (approved <= requested, refund <= disputed, ...)."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__lte": models.F(limit)}),
        name=f"{table}_{field}_within_{limit}",
        violation_error_message=f"{field} cannot exceed {limit}.",
    )


def filter_index(field: str, name: str, ordering=("-created_at", "-id")) -> models.Index:
    """The index behind an admin list filter: the filtered column, then the list's order.

    A filtered page is then read in order from the index, however rare the value; with the
    ordering index alone, a rare value walks the whole table's index to fill one page.
    """
    return models.Index(fields=[field, *ordering], name=name)


class ReadableId(models.Func):
    """``'TKT-00000042'`` from a PostgreSQL sequence, used as a column's ``db_default``.

    A sequence never hands out a number twice, so concurrent creators never collide, and
    rows that other services insert with raw SQL get an id too. The sequence is created
    by the app's migration (:func:`create_sequence`) before the table.
    """

    output_field = models.TextField()

    def __init__(self, prefix: str, sequence: str):
        if not (prefix.isalnum() and sequence.replace("_", "").isalnum()):
            raise ValueError("prefix and sequence must be plain identifiers")
        self.template = f"('{prefix}-' || lpad(nextval('{sequence}')::text, 8, '0'))"
        super().__init__()


def create_sequence(sequence: str):
    from django.db import migrations

    return migrations.RunSQL(
        f"CREATE SEQUENCE IF NOT EXISTS {sequence}",
        f"DROP SEQUENCE IF EXISTS {sequence}",
    )


def upsert_set(target: str, columns: list[str]) -> str:
    """The ``DO UPDATE SET`` of an ``INSERT ... ON CONFLICT`` that rewrites a row only when a
    column changed (``target``: the table or its alias): a re-run over unchanged figures
    writes nothing, and its count of written rows says what moved."""
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    old = ", ".join(f"{target}.{c}" for c in columns)
    new = ", ".join(f"EXCLUDED.{c}" for c in columns)
    return f"{assignments} WHERE ({old}) IS DISTINCT FROM ({new})"
