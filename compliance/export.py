"""Right of access: everything held about one customer, as one zip streamed to the browser.

Driven by the personal-data declarations like the erasure: every declared table (this
domain's, the platform's customers, orders and sessions, and the django-simple-history
tables of any of them) contributes one file of the customer's rows, JSON or CSV. What a
table gives is its declaration's ``export`` allow-list (:class:`customer_ops.personal_data.Export`,
written next to the model with the reason for what is withheld); a table that gives
nothing is left out. Columns the downloading user may not see (a dispute's legal fields,
:func:`customer_ops.personal_data.hidden_fields`) are left out as well.

Constant memory whatever the customer's history: rows are read in keyset chunks
(``created_at, pk`` where the table has a ``created_at``, served by the customer indexes
of the logs; no server-side cursor, so it works through a transaction-pooling PgBouncer)
and the zip is written to the response as it is produced (:mod:`zipfile` on a
non-seekable sink writes data descriptors). CSV cells go through
:func:`customer_ops.spreadsheet.sql_neutralise` (the same rule, applied by PostgreSQL,
which renders every value): no value runs as a formula.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customer_ops.personal_data import Export, PersonalData, declarations, hidden_fields
from customer_ops.spreadsheet import sql_neutralise

FORMATS = ("json", "csv")
CHUNK = 5000  # rows per keyset query
HISTORY_COLUMNS = ("history_id", "history_date", "history_type")  # not history_user (staff) nor its reason


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    customer_path: str
    columns: tuple[str, ...]
    only_where: dict[str, models.Q]

    @property
    def name(self) -> str:
        return self.model._meta.db_table


def _tracked(model) -> type[models.Model] | None:
    """The model a django-simple-history table records, or None."""
    tracked = getattr(model, "instance_type", None)
    return tracked if isinstance(tracked, type) and issubclass(tracked, models.Model) else None


def export_rule(model, data: PersonalData | None) -> Export | None:
    """The table's allow-list: its own, or for a history table its tracked model's."""
    if data is not None and data.export is not None:
        return data.export
    tracked = _tracked(model)
    tracked_data = declarations().get(tracked) if tracked else None
    if tracked_data is None or tracked_data.export is None:
        return None
    columns = tracked_data.export.columns
    return Export(columns=(*columns, *HISTORY_COLUMNS) if columns else (), withheld=tracked_data.export.withheld)


def tables(user=None) -> list[Table]:
    """Every table the export writes, in file order, with the columns ``user`` receives."""
    from django.apps import apps

    declared = declarations()
    models_ = dict(declared)
    for model in apps.get_models():  # history tables of declared models, declared or not
        if _tracked(model) in declared and model not in models_:
            models_[model] = None
    out = []
    for model, data in models_.items():
        rule = export_rule(model, data)
        if rule is None or not rule.columns:
            continue
        source = data if data is not None else declared[_tracked(model)]
        hidden = {model._meta.get_field(f).attname for f in hidden_fields(model, user)} if user is not None else set()
        columns = tuple(c for c in rule.columns if c not in hidden)
        out.append(Table(model, source.customer_path, columns, dict(source.only_where)))
    return sorted(out, key=lambda t: t.name)


def _key(model) -> str | None:
    # A keyset column the customer indexes serve (the logs' (customer_id, created_at)); never null.
    for name in ("created_at", "history_date"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.null:
            return name
    return None


class _JsonText(models.Func):
    """A scalar as JSON renders it, unquoted: ISO timestamps, ``true``/``false``, numbers, text."""

    template = "(to_json(%(expressions)s) #>> '{}')"
    output_field = models.TextField()


def _cell(model, column: str, source) -> models.Func:
    """One CSV cell, rendered by PostgreSQL as text (no per-value conversion in Python)."""
    field = next(f for f in model._meta.concrete_fields if f.attname == column)
    if isinstance(field, models.JSONField | ArrayField):
        return Cast(models.Func(source, function="to_json"), models.TextField())
    if isinstance(field, models.CharField | models.TextField):
        return sql_neutralise(source)
    return _JsonText(source)


def rows(table: Table, customer_id: int, fmt: str = "json") -> Iterator:
    """The customer's rows of ``table``, oldest first, in keyset chunks: for CSV a tuple of
    cells (text, neutralised), for JSON one object's text. PostgreSQL renders the values
    (``json_build_object``, ``to_json``): converting each value in Python cost ~4x more."""
    model = table.model
    pk = model._meta.pk.attname
    key = _key(model)
    order = [key, pk] if key else [pk]
    sources = {
        c: models.Case(models.When(table.only_where[c], then=models.F(c)), default=models.Value(None))
        if c in table.only_where
        else models.F(c)
        for c in table.columns
    }
    if fmt == "csv":
        out = {f"_x{i}": _cell(model, c, sources[c]) for i, c in enumerate(table.columns)}
    else:
        pairs = [part for c in table.columns for part in (models.Value(c), sources[c])]
        out = {"_x": Cast(models.Func(*pairs, function="json_build_object"), models.TextField())}
    # The keyset's timestamp comes back as text and only the chunk's last one is parsed:
    # converting every row's timestamp in Python was the export's biggest cost.
    keys = {"_key": Cast(key, models.TextField())} if key else {}
    base = (
        model._default_manager.filter(**{table.customer_path: customer_id})
        .annotate(**out, **keys)
        .order_by(*order)
        .values_list(*out, *keys, pk)
    )
    width = len(out)
    last = None
    while True:
        page = base
        if last is not None:
            if key:  # (key, pk) > (last key, last pk), written so the index serves "key >= ..."
                at = parse_datetime(last[0])
                page = page.filter(**{f"{key}__gte": at}).exclude(**{key: at, f"{pk}__lte": last[-1]})
            else:
                page = page.filter(**{f"{pk}__gt": last[-1]})
        chunk = list(page[:CHUNK])
        for row in chunk:
            yield row[:width] if fmt == "csv" else row[0]
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][width:]


class _Sink:
    """Where the zip writes: bytes collected until the response takes them."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream_customer(customer_id: int, *, user, fmt: str = "json", manifest: dict | None = None) -> Iterator[bytes]:
    """The zip archive, piece by piece. ``manifest`` (if given) is filled in as it goes."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    manifest = manifest if manifest is not None else {}
    manifest.update(
        customer_id=customer_id,
        generated_at=timezone.now().isoformat(),
        generated_by=user.get_username(),
        format=fmt,
        tables={},
    )
    sink = _Sink()
    # Level 1: logs compress well at any level, and the fastest keeps the stream ahead of the download.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for table in tables(user):
            count = 0
            with (
                zf.open(f"{table.name}.{fmt}", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
            ):
                writer = csv.writer(out) if fmt == "csv" else None
                if writer:
                    writer.writerow(table.columns)
                else:
                    out.write("[")
                for row in rows(table, customer_id, fmt):
                    if writer:
                        writer.writerow(row)
                    else:
                        out.write(("," if count else "") + "\n" + row)
                    count += 1
                    if count % CHUNK == 0:
                        out.flush()
                        yield sink.take()
                if not writer:
                    out.write("\n]\n")
            manifest["tables"][table.name] = {"rows": count, "columns": list(table.columns)}
            yield sink.take()
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    yield sink.take()
