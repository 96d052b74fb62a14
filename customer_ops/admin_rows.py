"""Change-list rows for every admin list page, rendered as one string per row.

Django's ``items_for_result`` works out, for every cell of every row, which field or
callable a column is, its CSS class, its empty value and whether it links (a
``FieldDoesNotExist`` raised and caught per callable cell), and the list template then loops
over the cells again. On a 50-row queue that was about a third of the page's CPU. Here
each column is worked out once per page (:class:`Column`), the commonest kinds of cell are
made by a function built for the column (:meth:`RowRenderer._direct_cell`), and a row is
one join of its cells; the markup is Django's, byte for byte (``tests/customer_ops/test_admin_rows.py``
compares the two on every registered admin). Pages Django renders differently (editable
lists, popups) keep Django's own rows.
"""

from __future__ import annotations

import datetime
import functools
import html
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _boolean_icon,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
    quote,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from customer_ops.datetimes import held_here, local_datetime

_NOWRAP_FIELDS = (models.DateField, models.TimeField, models.ForeignKey)
_PK = "0x0pk0x0"  # stands for a row's key in the one reversed change URL of a page
_TEXT_TYPES = (str, SafeString)
_PLAIN_KEY = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.~")


def _escape(value) -> str:
    """``conditional_escape`` without its lazy-string wrapper: the same text."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


@dataclass(frozen=True)
class Column:
    """One ``list_display`` entry, as Django's ``items_for_result`` would resolve it for
    every cell: worked out once per page."""

    name: object  # a field name, an admin or model attribute name, or a callable
    css: str  # "field-<name>" ("action-checkbox" for the checkbox)
    link: bool
    tag: str  # "th" for the first linked column, else "td"
    empty: str
    field: models.Field | None = None  # a model field shown through display_for_field
    call: Callable | None = None  # the admin's (or list_display's) callable
    boolean: bool = False
    choices: dict | None = None  # a choice field's labels (Django builds the dict per cell)
    plain_ints: bool = False  # integers shown as their digits: no thousand separator is set

    def value(self, row, model_admin):
        """(value, field, empty, boolean) of this column for ``row``, as ``lookup_field``."""
        if self.field is not None:
            return getattr(row, self.name), self.field, self.empty, False
        if self.call is not None:
            return self.call(row), None, self.empty, self.boolean
        # Anything else (a model property or method, a "__" lookup): Django's own lookup.
        field, attr, value = lookup_field(self.name, row, model_admin)
        empty = getattr(attr, "empty_value_display", self.empty)
        boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        return value, field, empty, boolean


def _columns(cl) -> list[Column]:
    model_admin = cl.model_admin
    default_empty = model_admin.get_empty_value_display()
    links = cl.list_display_links
    # formats.number_format's own shortcut for an int, without its three format lookups a cell.
    plain_ints = not settings.USE_THOUSAND_SEPARATOR
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        link = links is not None and ((first and not links) or name in links)
        tag = "th" if link and first else "td"
        first = first and not link
        css = "action-checkbox" if name == "action_checkbox" else f"field-{_coerce_field_name(name, index)}"
        try:
            field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
        if field is not None:
            choices = _choices(field)
            plain = plain_ints and isinstance(field, models.IntegerField)
            columns.append(Column(name, css, link, tag, default_empty, field=field, choices=choices, plain_ints=plain))
            continue
        if callable(name) or (hasattr(model_admin, name) and name != "__str__"):
            call = name if callable(name) else getattr(model_admin, name)
            empty = getattr(call, "empty_value_display", default_empty)
            boolean = getattr(call, "boolean", False)
            columns.append(Column(name, css, link, tag, empty, call=call, boolean=boolean, plain_ints=plain_ints))
            continue
        columns.append(Column(name, css, link, tag, default_empty, plain_ints=plain_ints))
    return columns


def _choices(field) -> dict | None:
    flat = getattr(field, "flatchoices", None)
    if not flat:
        return None
    try:
        return dict(flat)
    except TypeError:  # unhashable choices: Django's own path, per cell
        return None


def _cell(column: Column, row, model_admin, icon: Callable) -> tuple[object, str]:
    """The cell's shown value and its class attribute, as ``items_for_result`` makes them."""
    try:
        value, field, empty, boolean = column.value(row, model_admin)
    except ObjectDoesNotExist:
        return column.empty, f' class="{column.css}"'
    return _shown(column, row, value, field, empty, boolean, icon)


def _shown(column: Column, row, value, field, empty, boolean, icon: Callable) -> tuple[object, str]:
    """:func:`_cell` from the column's value on."""
    classes = column.css
    if isinstance(value, str) and value.strip() == "":
        value = ""
    if field is None or field.auto_created:
        if boolean:
            shown = icon(value)
        elif value and type(value) in _TEXT_TYPES:
            shown = value  # what display_for_value returns for text, without its type checks
        elif value is None or (isinstance(value, str) and not value):
            shown = empty  # display_for_value's empty value, likewise
        elif column.plain_ints and type(value) is int:
            shown = str(value)  # display_for_value's number_format, likewise (the keys)
        else:
            shown = display_for_value(value, empty, boolean)
        if isinstance(value, (datetime.date, datetime.time)):
            classes += " nowrap"
    else:
        if isinstance(field.remote_field, models.ManyToOneRel):
            related = getattr(row, field.name)
            shown = empty if related is None else related
        elif column.choices is not None and field is column.field:
            try:
                shown = column.choices.get(value, empty)
            except TypeError:  # an unhashable value: Django's path
                shown = display_for_field(value, field, empty, avoid_link=column.link)
        elif column.plain_ints and type(value) is int:
            shown = str(value)
        elif isinstance(field, models.BooleanField):
            shown = icon(value)
        elif isinstance(field, models.DateTimeField) and value not in field.empty_values:
            shown = local_datetime(value)  # display_for_field's text, its names translated once
        else:
            shown = display_for_field(value, field, empty, avoid_link=column.link)
        if isinstance(field, _NOWRAP_FIELDS):
            classes += " nowrap"
    return shown, f' class="{classes}"'


def _markup(column: Column, shown, class_attr: str, url: str | None = None) -> str:
    """A cell's markup from :func:`_cell`'s (shown value, class attribute), linked to ``url``."""
    content = _escape(shown)
    if url is not None:
        content = f'<a href="{html.escape(url)}">{content}</a>'
    return f"<{column.tag}{class_attr}>{content}</{column.tag}>"


class RowRenderer:
    """The rows of one change list page."""

    def __init__(self, cl):
        self.cl = cl
        self.columns = _columns(cl)
        self._filters_suffix: str | None = None
        self._url_template: str | None = None
        self._icons: dict = {}
        self._cells = [(column, self._direct_cell(column)) for column in self.columns]

    def _generic_cell(self, column: Column, row) -> str:
        return _markup(column, *_cell(column, row, self.cl.model_admin, self._icon))

    def _direct_cell(self, column: Column) -> Callable | None:
        """For the commonest unlinked columns (a field with choices, a yes/no, an integer, a
        time, a foreign key, a callable's text), a function making the cell's markup from
        the row in one step, with what does not vary from row to row (the tag and its class,
        a choice's escaped label) made once: what :func:`_cell` and :meth:`row` make of it.
        Any other value goes to them, row by row. None for the other columns."""
        if column.link:
            return None
        field, generic = column.field, functools.partial(self._generic_cell, column)
        if column.call is not None and not column.boolean:
            return self._callable_cell(column, generic)
        if field is None or field.auto_created or isinstance(field.remote_field, models.ManyToManyRel):
            return None
        name, close = column.name, f"</{column.tag}>"
        nowrap = " nowrap" if isinstance(field, _NOWRAP_FIELDS) else ""
        start = f'<{column.tag} class="{column.css}{nowrap}">'
        if isinstance(field.remote_field, models.ManyToOneRel):

            def cell(row):
                try:
                    related = getattr(row, field.name)
                except ObjectDoesNotExist:
                    related = None
                return generic(row) if related is None else start + _escape(related) + close

        elif column.choices is not None:
            # A blank key is looked up as "" by _cell: left to it.
            labels = {k: _escape(v) for k, v in column.choices.items() if not (isinstance(k, str) and not k.strip())}

            def cell(row):
                try:
                    return start + labels[getattr(row, name)] + close
                except (KeyError, TypeError):
                    return generic(row)

        elif isinstance(field, models.BooleanField):

            def cell(row):
                return start + self._icon(getattr(row, name)) + close

        elif column.plain_ints:

            def cell(row):
                value = getattr(row, name)
                return start + str(value) + close if type(value) is int else generic(row)

        elif isinstance(field, models.DateTimeField):

            def cell(row):
                value = getattr(row, name)
                return generic(row) if value is None else start + html.escape(local_datetime(value)) + close

        else:
            return None
        return cell

    def _callable_cell(self, column: Column, generic: Callable) -> Callable:
        call, close = column.call, f"</{column.tag}>"
        start = f'<{column.tag} class="{column.css}">'

        def cell(row):
            try:
                value = call(row)
            except ObjectDoesNotExist:
                return generic(row)
            if value and type(value) in _TEXT_TYPES and not value.isspace():
                return start + _escape(value) + close
            return _markup(column, *_shown(column, row, value, None, column.empty, False, self._icon))

        return cell

    def _icon(self, value) -> str:
        """Django's yes/no/unknown icon: three static URLs a page, not one per cell."""
        key = (type(value), value)  # the alt text is the value as given (1 is not True)
        if key not in self._icons:
            self._icons[key] = _boolean_icon(value)
        return self._icons[key]

    def _change_url(self, row) -> str:
        """``cl.url_for_result``: one ``reverse()`` per page, each plain key put in its place."""
        key = str(quote(getattr(row, self.cl.pk_attname)))
        if self._url_template is None:
            opts = self.cl.opts
            name = f"admin:{opts.app_label}_{opts.model_name}_change"
            self._url_template = reverse(name, args=(_PK,), current_app=self.cl.model_admin.admin_site.name)
        if _PK in self._url_template and _PLAIN_KEY.issuperset(key):
            return self._url_template.replace(_PK, key)
        return self.cl.url_for_result(row)  # a key reverse() would percent-encode

    def _url(self, row) -> str | None:
        try:
            url = self._change_url(row)
        except NoReverseMatch:
            return None
        if self._filters_suffix is None:
            # The preserved filters are the page's: the same query string on every row.
            full = add_preserved_filters({"preserved_filters": self.cl.preserved_filters, "opts": self.cl.opts}, url)
            if not full.startswith(url):  # not a plain suffix: Django's call on every row
                return full
            self._filters_suffix = full[len(url) :]
        return url + self._filters_suffix

    def row(self, row) -> str:
        model_admin = self.cl.model_admin
        cells = []
        for column, direct in self._cells:
            if direct is not None:
                cells.append(direct(row))
                continue
            shown, class_attr = _cell(column, row, model_admin, self._icon)
            url = self._url(row) if column.link else None
            cells.append(_markup(column, shown, class_attr, url))
        return SafeString("".join(cells))

    def rows(self) -> list[ResultList]:
        with held_here():  # the cells' times and durations: one lookup of zone and language a page
            return [ResultList(None, [self.row(row)]) for row in self.cl.result_list]


def result_list(cl) -> dict:
    """The context of ``change_list_results.html``, as Django's ``result_list`` tag builds it."""
    headers = list(result_headers(cl))
    lean = not (cl.formset or cl.is_popup)
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": RowRenderer(cl).rows() if lean else list(results(cl)),
    }
