"""Every admin list filter and search has an index behind it (the rule of ARCHITECTURE.md's
"Scale" section and the developers' guide), read from the admin registry and the live
catalogue, so a filter or search field added without its index fails here.

What counts as "behind it":

* an exact search (``"=col"``) or a filter on ``col``: a btree index whose first column
  is ``col`` (for a relation, its ``*_id`` column); through a relation (``"=fk__col"``)
  also an index leading with ``col`` on the related table (its primary key counts);
* a text search (``"col"``, ``"^col"``): a trigram GIN index on ``UPPER(col)``, the
  expression the admin compares;
* a filter class of the project's own: the columns it names in ``index_columns``, which it
  compares with a value (``=``, ``IN``, a range). Such a comparison is never true for NULL,
  so it implies ``col IS NOT NULL`` (PostgreSQL proves the same and reads a partial index
  ``WHERE col IS NOT NULL``); a partial index with that predicate on its own leading column
  serves it. Any other predicate serves only its own condition, not the filter's every value;
  and Django's own field filters also offer "empty" (``IS NULL``), so they need a full index;
* the list's default ordering: an index leading with its first column (read forwards or
  backwards; PostgreSQL sorts ties on the next columns incrementally), so a page is read
  in order instead of sorting the whole table.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import connection

APPS = {"customer_ops", "tickets", "fraud", "analytics", "compliance"}
ADMINS = sorted(
    ((m, ma) for m, ma in admin.site._registry.items() if m._meta.app_label in APPS and not m._meta.proxy),
    key=lambda item: item[0]._meta.db_table,
)


def _index_definitions(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass", [table])
        return [row[0] for row in cursor.fetchall()]


def _leads_with(table: str, column: str, *, partial_ok: bool = False, not_null_ok: bool = False) -> bool:
    for definition in _index_definitions(table):
        if " WHERE " in definition and not partial_ok and not _implied_by_comparison(definition, column, not_null_ok):
            continue  # a partial index serves its own condition, not a filter's every value
        columns = definition[definition.index(" USING ") :].split("(", 1)[1]
        first = columns.split(",")[0].split(")")[0].strip().strip('"').split(" ")[0]
        if first == column:
            return True
    return False


def _implied_by_comparison(definition: str, column: str, comparing: bool) -> bool:
    """True for ``... WHERE (col IS NOT NULL)`` on ``column``, when the query compares it with a value."""
    predicate = definition.split(" WHERE ", 1)[1].replace('"', "").strip()
    return comparing and predicate == f"({column} IS NOT NULL)"


def _leading_columns(definition: str) -> list[str]:
    """The key columns of ``CREATE INDEX ... USING btree (a DESC, b) INCLUDE (c) WHERE ...``."""
    text = definition[definition.index(" USING ") :]
    start = text.index("(") + 1
    depth, end = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        end += 1
    return [part.strip().strip('"').split(" ")[0] for part in text[start : end - 1].split(",")]


def _ordering_gap(model, model_admin) -> str | None:
    ordering = list(model_admin.ordering or model._meta.ordering or [])
    if not ordering:
        return None
    columns = [model._meta.get_field(name.lstrip("-")).column for name in ordering if name.lstrip("-") != "pk"]
    for definition in _index_definitions(model._meta.db_table):
        if " WHERE " not in definition and _leading_columns(definition)[0] == columns[0]:
            return None
    return f"ordering {ordering}: no index leading with {columns[0]}"


def _has_trigram(table: str, column: str) -> bool:
    # UPPER(col) or, for a non-text column, UPPER((col)::text)
    pattern = re.compile(rf"upper\(\(?{re.escape(column)}\b")
    return any("gin_trgm_ops" in d and pattern.search(d.lower().replace('"', "")) for d in _index_definitions(table))


def _search_gaps(model, spec: str) -> list[str]:
    exact = spec.startswith("=")
    path = spec.lstrip("=^@")
    fields = get_fields_from_path(model, path)
    gaps = []
    if len(fields) > 1 and not _leads_with(model._meta.db_table, fields[0].column, not_null_ok=True):  # a join
        gaps.append(f"{model._meta.db_table}.{fields[0].column}")
    last = fields[-1]
    table = last.model._meta.db_table
    if last.primary_key and len(fields) > 1:
        return gaps  # "fk__id" compares the foreign key column itself
    # A search term is never empty: an index WHERE col <> '' serves it.
    if exact and not _leads_with(table, last.column, partial_ok=True):
        gaps.append(f"{table}.{last.column}")
    if not exact and not _has_trigram(table, last.column):
        gaps.append(f"{table}: trigram on UPPER({last.column})")
    return gaps


def _filter_columns(model, spec) -> tuple[list[str], bool]:
    """The columns a filter reads, and whether it only compares them with values (see above)."""
    if isinstance(spec, tuple):
        spec = spec[0]
    if isinstance(spec, str):
        return [get_fields_from_path(model, spec)[0].column], False
    return list(spec.index_columns), True


@pytest.mark.django_db
@pytest.mark.parametrize("model, model_admin", ADMINS, ids=lambda x: getattr(getattr(x, "_meta", None), "db_table", ""))
def test_every_search_field_and_list_filter_has_an_index(model, model_admin):
    gaps = []
    for spec in model_admin.search_fields:
        gaps += [f"search {spec!r}: {gap}" for gap in _search_gaps(model, spec)]
    for spec in model_admin.list_filter:
        columns, comparing = _filter_columns(model, spec)
        for column in columns:
            if not _leads_with(model._meta.db_table, column, not_null_ok=comparing):
                gaps.append(f"filter {getattr(spec, '__name__', spec)!r}: {model._meta.db_table}.{column}")
    if gap := _ordering_gap(model, model_admin):
        gaps.append(gap)
    assert not gaps, "no index behind:\n" + "\n".join(gaps)
