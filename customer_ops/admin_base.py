"""Admin building blocks shared by every app.

:class:`RuleAwareAdmin` is the admin layer of the write rules: it reads the model's
declarations (``Meta.triggers``, see :mod:`customer_ops.write_rules`) to make never-update
columns read-only on change forms and to refuse add/change/delete on immutable logs, for
everyone, superusers included.

:class:`EstimatedCountPaginator` keeps list pages of big tables from running an exact
``COUNT(*)``: it asks the planner for its estimate instead.

:class:`ExportAdminMixin` is every admin's CSV/XLSX export: formula-safe cells
(:mod:`customer_ops.spreadsheet`), CSV streamed row by row, and a row cap past which an
export needs a bounding filter.

:class:`DomainErrorMixin` shows a service's refusal (any :class:`~customer_ops.errors.DomainError`,
whichever app raised it) to the person who asked, the same way on every page.
"""

from __future__ import annotations

import csv
import html
import json
from functools import cached_property, lru_cache

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets, get_fields_from_path, lookup_spawns_duplicates
from django.contrib.admin.views.main import ChangeList
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections, models, router
from django.http import StreamingHttpResponse
from django.utils.safestring import SafeString
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from import_export.admin import ExportMixin
from import_export.signals import post_export

from customer_ops import spreadsheet
from customer_ops.access import permission_key
from customer_ops.datetimes import current_language
from customer_ops.errors import Conflict, DomainError, NotAllowed
from customer_ops.masking import ConfidentialLookupsMixin
from customer_ops.statements import STAND_IN, ModelStatement
from customer_ops.widgets import LabelledSplitDateTime
from customer_ops.write_rules import rules_for


class EstimatedCountPaginator(Paginator):
    """A paginator that never runs an unbounded COUNT over a big table.

    Unfiltered: the planner's ``pg_class.reltuples``. Filtered: an exact count capped at
    ``EXACT_UP_TO`` rows (``COUNT(*)`` over a ``LIMIT`` subquery, so its cost is bounded),
    and past the cap the planner's ``EXPLAIN`` estimate. Small result sets are exact,
    big ones cheap; the page itself is always exact (LIMIT/OFFSET).
    """

    EXACT_UP_TO = 1000

    @cached_property
    def count(self) -> int:
        # Only the keys: a count needs none of the page's annotations (a row's unread count,
        # escalation flag ...), which a LIMITed subquery would otherwise compute per row.
        qs = self.object_list.order_by()
        if isinstance(qs, models.QuerySet) and not qs.query.combinator:
            qs = qs.values("pk")
        if qs.query.where:
            capped = qs[: self.EXACT_UP_TO + 1].count()
            if capped <= self.EXACT_UP_TO:
                return capped
            return max(self._planner_rows(qs), capped)
        estimate = self._table_estimate(qs)
        if estimate <= self.per_page:
            # The admin shows a result it believes fits one page without a LIMIT: a low or
            # stale estimate (a table loaded since the last ANALYZE) must not turn into
            # fetching a whole log. A bounded probe decides.
            estimate = max(estimate, qs[: self.per_page + 1].count())
        return estimate

    @staticmethod
    def _planner_rows(qs) -> int:
        sql, params = qs.values("pk").query.sql_with_params()
        with connections[qs.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def _table_estimate(self, qs) -> int:
        with connections[qs.db].cursor() as cursor:
            # A partitioned table's own reltuples is only set by a manual ANALYZE (autovacuum
            # never analyses the parent): its partitions' estimates are the fresh ones.
            cursor.execute(
                """
                SELECT CASE WHEN c.relkind = 'p' THEN (
                    SELECT sum(greatest(p.reltuples, 0))::bigint FROM pg_inherits i
                    JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid
                ) ELSE c.reltuples::bigint END
                FROM pg_class c WHERE c.oid = %s::regclass
                """,
                [qs.model._meta.db_table],
            )
            row = cursor.fetchone()
        estimate = row[0] if row and row[0] is not None else -1
        if estimate < 0:  # never analysed (a new table): a capped count is cheap and exact enough
            return qs[: self.EXACT_UP_TO + 1].count()
        return int(estimate)


def estimated_rows(queryset, *, exact_up_to: int = EstimatedCountPaginator.EXACT_UP_TO) -> int:
    """How many rows ``queryset`` returns, at a bounded cost: the planner's estimate, checked
    by a ``COUNT`` over a ``LIMIT`` of ``exact_up_to + 1`` rows when it is that low (a stale
    estimate must not let a big export through); never a full COUNT."""
    paginator = EstimatedCountPaginator(queryset, per_page=exact_up_to)
    paginator.EXACT_UP_TO = exact_up_to
    return paginator.count


class _Echo:
    """A file-like object whose ``write`` hands the line back (the csv module writes into it)."""

    def write(self, value: str) -> str:
        return value


class ExportAdminMixin(ExportMixin):
    """CSV/XLSX export of the filtered change list, for every admin that exports.

    * Cells never run as spreadsheet formulas: the formats are :mod:`customer_ops.spreadsheet`'s.
    * A big table is not built in memory: CSV is streamed row by row (the queryset read in
      chunks), and an export of more than :attr:`EXPORT_ROW_CAP` rows is refused with a
      message asking for a filter (a date range, a service, a customer). The row count is
      the list's own: the planner's estimate unfiltered, an exact count capped at the row
      cap when filtered (``COUNT`` over ``LIMIT cap + 1``, so its cost is bounded by the
      cap), the planner's estimate past it. XLSX is assembled in memory (tablib, openpyxl:
      hundreds of bytes a cell), so its cap is lower.
    """

    #: Rows one CSV export may hold (README, "Exports"). 100,000 rows of CSV is ~15 MB.
    EXPORT_ROW_CAP = 100_000
    #: Rows one XLSX export may hold.
    XLSX_ROW_CAP = 10_000
    export_formats = spreadsheet.EXPORT_FORMATS

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # import-export keeps native types (numbers, dates) only for the stock XLSX class
        # (``type(fmt) in BINARY_FORMATS``): the same for the formula-safe subclass.
        if isinstance(file_format, spreadsheet.XLSX):
            data = self.get_data_for_export(request, queryset, force_native_type=True, **kwargs)
            return file_format.export_data(data)
        return super().get_export_data(file_format, request, queryset, **kwargs)

    def check_export_size(self, queryset, file_format) -> None:
        """Raise ``ValueError`` (shown on the export form) when the export is past the cap."""
        cap = self.EXPORT_ROW_CAP if isinstance(file_format, spreadsheet.CSV) else self.XLSX_ROW_CAP
        rows = estimated_rows(queryset, exact_up_to=cap)
        if rows > cap:
            raise ValueError(
                f"This export would hold about {rows:,} rows, more than the {cap:,} one "
                f"{file_format.get_title().upper()} export may hold. Filter the list first (a date range, "
                "a service, a customer), then export."
            )

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        self.check_export_size(queryset, file_format)
        if not isinstance(file_format, spreadsheet.CSV):
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        resource = self.choose_export_resource_class(export_form, request)(**self.get_export_resource_kwargs(request))
        selected = self.get_export_resource_fields_from_form(export_form)
        response = StreamingHttpResponse(
            self._csv_lines(resource, queryset, selected), content_type=file_format.get_content_type()
        )
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        post_export.send(sender=None, model=self.model)
        return response

    @staticmethod
    def _csv_lines(resource, queryset, selected):
        # Resource.export() without the in-memory Dataset: the same hooks, headers and cells.
        resource.before_export(queryset, export_fields=selected)
        queryset = resource.filter_export(queryset, export_fields=selected)
        writer = csv.writer(_Echo())
        yield writer.writerow(resource.get_export_headers(selected_fields=selected))
        for obj in resource.iter_queryset(queryset):
            cells = resource.export_resource(obj, selected_fields=selected)
            yield writer.writerow([spreadsheet.neutralise(_text(cell)) for cell in cells])


def _text(value):
    return "" if value is None else value


def show_refusal(
    request,
    error: DomainError,
    *,
    form=None,
    not_allowed_403: bool = False,
    conflict_reloads: bool = False,
) -> bool:
    """Show a service's refusal where the user looks for it; nothing was written.

    The one mapping of the kinds of :mod:`customer_ops.errors` to what the admin shows (the
    service API has its own, to status codes):

    * an error that names one of ``form``'s fields goes on that field (an amount above the
      approver's limit, a missing resolution), even a :class:`NotAllowed`;
    * :class:`NotAllowed`, with ``not_allowed_403``: a 403 page with the message (pages whose
      button the role never sees: the post is forged or the role changed meanwhile);
    * :class:`Conflict`, with ``conflict_reloads``: the "changed since you opened it" message
      above the page, and the stale form is dropped (the page re-reads the record);
    * anything else: on ``form`` (at its top) when there is one, else a message above the page.

    Returns whether the refusal is on ``form`` (re-show it bound), so a caller writes::

        except DomainError as error:
            if not show_refusal(request, error, form=form, conflict_reloads=True):
                return self.render_page(request, pk)  # a fresh page, the message on top
    """
    on_field = form is not None and error.field is not None and error.field in form.fields
    if isinstance(error, NotAllowed) and not_allowed_403 and not on_field:
        raise PermissionDenied(error.message) from error
    if isinstance(error, Conflict) and conflict_reloads:
        form = None
    if form is None:
        messages.error(request, error.message)
        return False
    form.add_error(error.field if on_field else None, error.message)
    return True


class DomainErrorMixin:
    """ModelAdmin mixin: :meth:`show_refusal`, the one place a page turns a service's
    :class:`~customer_ops.errors.DomainError` into what the user sees (every project admin
    has it through :class:`BaseAdmin`). Pages catch ``DomainError``, never an app's own kind,
    and pick how the refusal shows (:func:`show_refusal`)."""

    def show_refusal(self, request, error: DomainError, **how) -> bool:
        return show_refusal(request, error, **how)


class LeanRowsMixin:
    """List rows without a template render per row.

    Django renders each row's action checkbox through the form renderer, one template per
    row: about a third of a row's cost on a 100-row page. The same markup is written here
    directly (``actions.js`` finds it by its class).
    """

    def action_checkbox(self, obj):
        label = _select_label() % html.escape(str(obj))
        return SafeString(
            f'<input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{html.escape(str(obj.pk))}"'
            f' class="action-select" aria-label="{label}">'
        )


def _select_label() -> str:
    """Django's checkbox label, translated once per language (not once per row); the
    language as the rows hold it (``datetimes.held_here``: not a context lookup per row)."""
    return _select_label_in(current_language())


@lru_cache(maxsize=16)
def _select_label_in(language: str | None) -> str:
    return _("Select this object for an action - {}").replace("%", "%%").replace("{}", "%s")


class EqualsAny(models.Lookup):
    """``lhs = ANY(rhs)`` for an array ``rhs``: unlike ``IN (subquery)`` (a hashed subplan
    filter), an index on ``lhs`` serves it, also as one arm of an OR (a BitmapOr)."""

    lookup_name = "eq_any"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


class IndexedSearchMixin:
    """Admin search that the indexes serve.

    Exact keys (``"=field"``): Django turns them into ``field__iexact``, that is
    ``UPPER(field::text) = UPPER(term)``, which no btree index on ``field`` serves: on a
    big table every search for a customer id, a device id or an order number scans it.
    Here an exact key is compared as itself: ``field = term`` for numbers (skipped when the
    term is not a number of the field's range), ``field IN (term, TERM, term-in-lower-case)``
    for text. The other prefixes behave as in Django (``icontains`` is served by the
    trigram indexes on ``UPPER(col)``).

    Fields of a related row (``"order__order_number"``, ``"customer__email"``): Django
    joins the related table and ORs across the join, which defeats every index (a scan of
    both tables). Here they become ``order_id = ANY(ARRAY(SELECT id FROM orders WHERE
    ...))``: the related rows are found by their own indexes, and each arm of the OR is an
    index of this table (a BitmapOr). Terms are ANDed, fields ORed, as in Django.
    """

    def get_search_results(self, request, queryset, search_term):
        search_fields = list(self.get_search_fields(request))
        if not search_fields or not search_term:
            return super().get_search_results(request, queryset, search_term)
        model = queryset.model
        lookups = [_search_lookup(model, spec) for spec in search_fields]
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            match = models.Q()
            through: dict[str, models.Q] = {}  # foreign key -> condition on the related table
            for path, kind, field in lookups:
                relation, _, rest = path.partition("__")
                if rest and _is_forward_fk(model, relation) and rest not in ("pk", "id"):
                    condition = _search_condition(rest, kind, field, bit)
                    if condition is not None:
                        through[relation] = through.get(relation, models.Q()) | condition
                    continue
                condition = _search_condition(path, kind, field, bit)
                if condition is not None:
                    match |= condition
            for relation, condition in through.items():
                fk = model._meta.get_field(relation)
                related = fk.related_model._default_manager.filter(condition).values("pk")
                match |= models.Q(EqualsAny(models.F(fk.attname), ArraySubquery(related)))
            queryset = queryset.filter(match) if match else queryset.none()
        may_have_duplicates = any(lookup_spawns_duplicates(self.opts, path) for path, _, _ in lookups)
        return queryset, may_have_duplicates


def _is_forward_fk(model, name: str) -> bool:
    # ("customer__id" stays as it is: Django compares the foreign key column, no join.)
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(field.many_to_one and field.concrete)


_PREFIXES = {"=": "exact", "^": "istartswith", "@": "search"}


def _search_lookup(model, spec: str):
    kind = _PREFIXES.get(spec[:1])
    path = spec[1:] if kind else spec
    if kind != "exact":
        return path, kind or "icontains", None
    parts = path.split("__")
    if parts[-1] == "pk":
        parts[-1] = (
            model if len(parts) == 1 else get_fields_from_path(model, "__".join(parts[:-1]))[-1].related_model
        )._meta.pk.name
    path = "__".join(parts)
    return path, kind, get_fields_from_path(model, path)[-1]


def _search_condition(path: str, kind: str, field, bit: str) -> models.Q | None:
    if kind != "exact":
        return models.Q(**{f"{path}__{kind}": bit})
    if isinstance(field, models.CharField | models.TextField | models.EmailField):
        return models.Q(**{f"{path}__in": sorted({bit, bit.upper(), bit.lower()})})
    try:
        value = field.to_python(bit)
    except ValidationError:
        return None  # "abc" is no customer id: that field cannot match
    if isinstance(field, models.IntegerField):
        low, high = connections["default"].ops.integer_field_range(field.get_internal_type())
        if (low is not None and value < low) or (high is not None and value > high):
            return None
    return models.Q(**{path: value})


class GuardedChangeList(ChangeList):
    """The change list of every project admin (and of its filtered export, which builds one):
    its final ordering, ``o=`` included, goes through the admin's ``check_ordering`` (no
    sorting by a field the user may not read: see :mod:`customer_ops.masking`). The page's
    rows leave out the admin's ``list_deferred`` columns."""

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        self.model_admin.check_ordering(request, ordering)
        return ordering

    def get_results(self, request):
        super().get_results(request)
        deferred = self.model_admin.list_deferred
        if deferred and isinstance(self.result_list, models.QuerySet):
            # The page only: the export reads the changelist's queryset, every column.
            self.result_list = self.result_list.defer(*deferred)


WRITES = ("add", "change", "delete")


class ReadOnlyAdminMixin:
    """ModelAdmin mixin: the writes the admin never offers, whoever the user. Rows that jobs,
    imports or workflow services write are listed and shown here, never added, changed or
    deleted through the admin's forms. ``refused_writes`` names them (``WRITES``, all three,
    for a read-only admin); the others follow the user's permissions and the write rules.
    Every project admin has it through :class:`BaseAdmin`, refusing nothing by default."""

    refused_writes: tuple[str, ...] = WRITES

    def has_add_permission(self, request, *args):
        return "add" not in self.refused_writes and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return "change" not in self.refused_writes and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return "delete" not in self.refused_writes and super().has_delete_permission(request, obj)


class BaseAdmin(
    DomainErrorMixin, ReadOnlyAdminMixin, ConfidentialLookupsMixin, LeanRowsMixin, IndexedSearchMixin, admin.ModelAdmin
):
    """Base admin of every table: indexed search, lean rows, 50 rows a page (a page's cost
    is its rows' rendering), never a second, unfiltered COUNT; no filter, search or sort on
    what the user may not read (:class:`~customer_ops.masking.ConfidentialLookupsMixin`)."""

    refused_writes = ()  # ReadOnlyAdminMixin: an admin names what it never offers
    show_full_result_count = False
    list_per_page = 50
    # Date and time inputs with accessible names (Django's own have none: axe "label").
    formfield_overrides = {models.DateTimeField: {"widget": LabelledSplitDateTime}}
    #: Relations the change page shows (read-only links, deadlines), read with the object
    #: instead of a query each (about a millisecond of CPU apiece).
    change_select_related: tuple[str, ...] = ()
    #: Columns of the model (and of ``list_select_related`` relations, as ``relation__column``)
    #: that no list cell shows: the page's rows are read without them (a 100-row page of
    #: alerts parsed its evidence JSON and its customers' details for nothing).
    list_deferred: tuple[str, ...] = ()

    def get_object(self, request, object_id, from_field=None):
        """Django's ``get_object``, with :attr:`change_select_related`; by an integer key, and
        where the admin knows what its queryset depends on (:meth:`object_query_key`), read by
        a statement compiled once per process and such key (:meth:`_object_statement`;
        building and compiling the query was 6-14% of a change page's CPU)."""
        model = self.model
        field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
        try:
            key = field.to_python(object_id)
        except (ValidationError, ValueError):
            return None
        statement = self._object_statement(request, field, key)
        if statement is not None:
            return next(iter(statement.fetch(pk=key)), None)
        queryset = self.get_queryset(request)
        if self.change_select_related:
            queryset = queryset.select_related(*self.change_select_related)
        try:
            return queryset.get(**{field.name: key})
        except (model.DoesNotExist, ValidationError, ValueError):
            return None

    def object_query_key(self, request):
        """What this admin's ``get_queryset(request)`` depends on, as far as reading one
        object goes (``get`` drops the ordering): a hashable value, the same for every
        request whose query is the same; None where it is not known (Django's path then
        reads the object). Django's ``get_queryset`` depends on nothing but the ordering; an
        admin with its own says what its depends on, or leaves None."""
        return () if type(self).get_queryset is admin.ModelAdmin.get_queryset else None

    def _object_statement(self, request, field, key) -> ModelStatement | None:
        """The kept statement reading one object by ``field``, or None where Django's path
        applies: an admin whose queryset may depend on the request in ways it does not
        declare (:meth:`object_query_key`), a key that is not an integer in the column's range."""
        query_key = self.object_query_key(request)
        if query_key is None or type(key) is not int:
            return None
        alias = router.db_for_read(self.model)
        bounds = connections[alias].ops.integer_field_ranges.get(field.get_internal_type())
        if bounds is None or not bounds[0] <= key <= bounds[1]:
            return None  # not an integer column (a relation's), or no row has the key
        statements = self.__dict__.setdefault("_object_statements", {})
        kept = (alias, field.name, tuple(self.change_select_related), query_key)
        statement = statements.get(kept)
        if statement is None:
            queryset = self.get_queryset(request).using(alias).order_by()
            if self.change_select_related:
                queryset = queryset.select_related(*self.change_select_related)
            statement = statements[kept] = ModelStatement(queryset.filter(**{field.name: STAND_IN}), {"pk"})
        return statement

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Django's ``get_form``, the class kept per what it is built from: the fields, the
        excluded and read-only ones, the change permission, the user's permissions (the
        related-object links and choices' querysets the form fields get) and the language.
        Django built a new ModelForm class on every change page (8-10% of the dispute
        page's CPU). A form instance copies its class's fields (and their querysets), so
        nothing of one request's form reaches another's."""
        if not set(kwargs) <= {"fields"} or not hasattr(request, "user"):
            return super().get_form(request, obj, change, **kwargs)
        fields = kwargs["fields"] if "fields" in kwargs else flatten_fieldsets(self.get_fieldsets(request, obj))
        excluded = self.get_exclude(request, obj)
        key = (
            None if fields is None else tuple(fields),
            None if excluded is None else tuple(excluded),
            tuple(self.get_readonly_fields(request, obj)),
            change and not self.has_change_permission(request, obj),
            permission_key(request.user),
            get_language(),
        )
        forms = self.__dict__.setdefault("_forms", {})
        form = forms.get(key)
        if form is None:
            form = super().get_form(request, obj, change, fields=fields)
            # The fields are made: the class keeps no callback bound to this request.
            form.Meta.formfield_callback = form._meta.formfield_callback = None
            if len(forms) >= 256:  # bounded: the keys are few (fields by role and state), not fixed
                forms.clear()
            forms[key] = form
        return form

    def get_changelist(self, request, **kwargs):
        return GuardedChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        # The pagination compares every page link with the paginator's "…", a lazy string
        # translated again at each comparison: translated once here, for the page.
        paginator.ELLIPSIS = str(paginator.ELLIPSIS)
        return paginator


class RuleAwareAdmin(BaseAdmin):
    """Base admin of every spec table."""

    @property
    def _rules(self):
        return rules_for(self.model)

    def is_log(self) -> bool:
        return bool(self._rules and self._rules.append_only)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        rules = self._rules
        if obj is not None and rules:
            if rules.append_only:
                return [f.name for f in self.model._meta.fields]
            readonly += [f for f in rules.never_update if f not in readonly]
        return readonly

    def has_add_permission(self, request, *args):
        return not self.is_log() and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return not self.is_log() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.is_log() and super().has_delete_permission(request, obj)


class LogAdmin(RuleAwareAdmin):
    """Admin of an immutable log: read-only, estimated counts, no per-row queries."""

    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT the log per filter choice

    def get_actions(self, request):
        # Logs have no bulk actions, not even "delete selected".
        return {}


class RecentValuesListFilter(admin.AllValuesFieldListFilter):
    """A filter on a free-text column whose choices come from the newest rows only.

    Django's ``AllValuesFieldListFilter`` collects its choices with ``SELECT DISTINCT col``
    over the whole table: a full scan of a log on every page view. Here the choices are
    the distinct values among the newest ``SAMPLE`` rows (read through the primary key
    index), plus the value being filtered on. Filtering itself is exact.
    """

    SAMPLE = 5000

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        values = self._recent_values(model, field)
        values.update(v for v in (self.lookup_val or []) if v)
        self.lookup_choices = sorted(values)

    @classmethod
    def _recent_values(cls, model, field) -> set:
        # DISTINCT over the newest rows only, in SQL: the page gets a handful of values, not
        # SAMPLE rows to deduplicate in Python.
        db = connections[router.db_for_read(model)]
        quote = db.ops.quote_name
        table, column, pk = quote(model._meta.db_table), quote(field.column), quote(model._meta.pk.column)
        blank = " AND v <> ''" if isinstance(field, models.CharField | models.TextField) else ""
        with db.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT v FROM (SELECT {column} AS v FROM {table} ORDER BY {pk} DESC LIMIT %s) recent "
                f"WHERE v IS NOT NULL{blank}",
                [cls.SAMPLE],
            )
            return {row[0] for row in cursor.fetchall()}
