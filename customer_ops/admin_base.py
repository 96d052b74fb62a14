"""Admin building blocks shared by every app.

:class:`RuleAwareAdmin` is the admin layer of the write rules: it reads the model's
declarations (``Meta.triggers``, see :mod:`customer_ops.write_rules`) to make never-update
columns read-only on change forms and to refuse add/change/delete on immutable logs, for
everyone, superusers included.

:class:`EstimatedCountPaginator` keeps list pages of big tables from running an exact
``COUNT(*)``: it asks the planner for its estimate instead.
"""

from __future__ import annotations

import json
from functools import cached_property

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections

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
        qs = self.object_list.order_by()
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
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table])
            row = cursor.fetchone()
        estimate = row[0] if row else -1
        if estimate < 0:  # never analysed (a new table): a capped count is cheap and exact enough
            return qs[: self.EXACT_UP_TO + 1].count()
        return int(estimate)


class RuleAwareAdmin(admin.ModelAdmin):
    """Base admin of every spec table."""

    show_full_result_count = False  # never a second, unfiltered COUNT
    list_per_page = 50

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
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT the log per filter choice

    def get_actions(self, request):
        # Logs have no bulk actions, not even "delete selected".
        return {}
