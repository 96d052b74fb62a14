"""Querysets compiled once per process, run with each call's own values.

Building and compiling a queryset costs Python more than PostgreSQL takes to answer a small
indexed query; on a path every page takes (the home page's recent actions, a pending
erasure plan's 44 steps, the queue's rows) the compiled SQL is kept. The queryset is built
once with a stand-in where each varying value goes (:data:`STAND_IN` for an id,
:data:`TIME_STAND_IN` for a time, :data:`IDS_STAND_IN` for a list of ids, compared with
``= ANY(%s)``, :data:`KEY_STAND_IN` for a text key); :func:`bound` and :func:`bind` swap
them for the call's own. :class:`ModelStatement` turns the rows of a model queryset's kept
statement into instances, as the queryset itself would; :class:`TuplesStatement` gives a
``values_list`` queryset's rows as tuples, :class:`ValueStatement` one value.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators

# Not a primary key any table hands out (they are positive), so it never means a real row.
STAND_IN = -424242
# A time no row holds (the epoch's 424,242nd microsecond).
TIME_STAND_IN = dt.datetime(1970, 1, 1, 0, 0, 0, 424242, tzinfo=dt.UTC)
# A list of ids, for ``= ANY(%s)``.
IDS_STAND_IN = [STAND_IN, STAND_IN]
# A text key (a session's). Django's session keys are lowercase letters and digits only.
KEY_STAND_IN = "stand-in \x01 424242"


def among_ids(model, column: str = "id") -> RawSQL:
    """``model``'s ``column = ANY(ids)``, with :data:`IDS_STAND_IN` for the call's list of ids
    (``IN`` would compile a placeholder per id: one statement could not serve every list)."""
    return RawSQL(f'"{model._meta.db_table}"."{column}" = ANY(%s)', (IDS_STAND_IN,), output_field=BooleanField())


def compiled(queryset: QuerySet) -> tuple[str, tuple]:
    """``queryset``'s SQL and parameters; it must have been built with :data:`STAND_IN`."""
    sql, params = queryset.query.sql_with_params()
    if not any(_is_stand_in(p) for p in params):
        raise ImproperlyConfigured(f"The stand-in value does not reach the statement: {sql[:120]}")
    return sql, params


def bound(params: tuple, value: int) -> list:
    """``params`` with every :data:`STAND_IN` replaced by ``value``."""
    return bind(params, pk=value)


def bind(
    params: tuple, *, pk: int | None = None, at: dt.datetime | None = None, ids=None, key: str | None = None
) -> list:
    """``params`` with :data:`STAND_IN` replaced by ``pk``, :data:`TIME_STAND_IN` by ``at``,
    :data:`IDS_STAND_IN` by the list ``ids`` and :data:`KEY_STAND_IN` by ``key``."""
    values = {"pk": pk, "at": at, "ids": None if ids is None else list(ids), "key": key}
    return [param if (kind := _kind(param)) is None else values[kind] for param in params]


def _kinds(params) -> set[str]:
    """The stand-ins present in ``params``, by :func:`bind`'s keyword."""
    return {kind for kind in map(_kind, params) if kind is not None}


def _kind(param) -> str | None:
    """Which stand-in ``param`` is (:func:`bind`'s keyword), or None for a real value."""
    if _is_stand_in(param):
        return "pk"
    if isinstance(param, dt.datetime) and param == TIME_STAND_IN:
        return "at"
    if isinstance(param, list) and param == IDS_STAND_IN:
        return "ids"
    if isinstance(param, str) and param == KEY_STAND_IN:
        return "key"
    return None


def _require(params, stand_ins: set[str], sql: str) -> None:
    # Each stand-in must reach the statement, or a call's value would be lost.
    if _kinds(params) != set(stand_ins):
        raise ImproperlyConfigured(f"Stand-ins {_kinds(params)} != {set(stand_ins)}: {sql[:120]}")


def _is_stand_in(param) -> bool:
    # int subclasses too: Django wraps a BigIntegerField's value in psycopg's Int8.
    return isinstance(param, int) and not isinstance(param, bool) and param == STAND_IN


class ModelStatement:
    """A model queryset's statement, compiled once, whose rows become instances as Django's
    ``ModelIterable`` makes them: the model's selected columns (the others deferred), the
    ``select_related`` rows, the annotations as attributes."""

    def __init__(self, queryset: QuerySet, stand_ins: set[str]):
        if queryset._prefetch_related_lookups or queryset._known_related_objects or queryset._fields is not None:
            raise ImproperlyConfigured("ModelStatement takes a plain model queryset")
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        self.sql, self.params = compiler.as_sql()
        _require(self.params, stand_ins, self.sql)
        select, klass_info = compiler.select, compiler.klass_info
        self._compiler = compiler
        self._model = klass_info["model"]
        fields = klass_info["select_fields"]
        self._start, self._end = fields[0], fields[-1] + 1
        self._init_list = [column[0].target.attname for column in select[self._start : self._end]]
        self._related = get_related_populators(klass_info, select, self.db)
        self._annotations = list(compiler.annotation_col_map.items())
        self._converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])

    def fetch(self, **values) -> list:
        """The instances, in the statement's order, for the stand-ins' values (:func:`bind`'s keywords)."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, bind(self.params, **values))
            rows = cursor.fetchall()
        if self._converters:
            rows = self._compiler.apply_converters(rows, self._converters)
        objects = []
        for row in rows:
            obj = self._model.from_db(self.db, self._init_list, row[self._start : self._end])
            for populator in self._related:
                populator.populate(row, obj)
            for name, position in self._annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class ValueStatement:
    """A queryset of one column, compiled once: its first row's value (a count or a sum,
    grouped), None when there is no row."""

    def __init__(self, queryset: QuerySet, stand_ins: set[str]):
        self.db = queryset.db
        self.sql, self.params = queryset.query.get_compiler(using=self.db).as_sql()
        _require(self.params, stand_ins, self.sql)

    def fetch(self, **values):
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, bind(self.params, **values))
            row = cursor.fetchone()
        return None if row is None else row[0]


class TuplesStatement:
    """A ``values_list`` queryset, compiled once: its rows as tuples."""

    def __init__(self, queryset: QuerySet, stand_ins: set[str]):
        if queryset._fields is None or queryset._prefetch_related_lookups:
            raise ImproperlyConfigured("TuplesStatement takes a values_list queryset")
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        self.sql, self.params = compiler.as_sql()
        _require(self.params, stand_ins, self.sql)
        self._compiler = compiler
        self._converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])

    def fetch(self, **values) -> list[tuple]:
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, bind(self.params, **values))
            rows = cursor.fetchall()
        if self._converters:
            rows = [tuple(row) for row in self._compiler.apply_converters(rows, self._converters)]
        return rows


# Every function of kept_rows, kept_tuples and kept_value, for the test that runs each once.
KEPT: list[Callable] = []


_Statement = ModelStatement | TuplesStatement | ValueStatement


def _kept(kind: type[_Statement], model, stand_ins: tuple[str, ...]) -> Callable:
    def decorate(build: Callable[[], QuerySet]) -> Callable:
        kept: dict[str, _Statement] = {}

        @functools.wraps(build)
        def run(**values):
            alias = router.db_for_read(model)
            if alias not in kept:
                kept[alias] = kind(build().using(alias), set(stand_ins))
            return kept[alias].fetch(**values)

        run.stand_ins = set(stand_ins)
        KEPT.append(run)
        return run

    return decorate


def kept_rows(model, *stand_ins: str) -> Callable:
    """Decorates a function that builds a queryset of ``model`` with stand-ins (``"pk"``,
    ``"at"``, ``"ids"``, ``"key"``): the decorated function takes the stand-ins' values and returns the
    instances, from a :class:`ModelStatement` compiled on first use for each database the
    router reads ``model`` from."""
    return _kept(ModelStatement, model, stand_ins)


def kept_tuples(model, *stand_ins: str) -> Callable:
    """As :func:`kept_rows`, for a ``values_list`` queryset: its rows as tuples
    (:class:`TuplesStatement`)."""
    return _kept(TuplesStatement, model, stand_ins)


def kept_value(model, *stand_ins: str) -> Callable:
    """As :func:`kept_rows`, for a queryset of one column (:class:`ValueStatement`)."""
    return _kept(ValueStatement, model, stand_ins)
