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
    """A paginator whose count is the planner's estimate, never an exact COUNT.

    Unfiltered: ``pg_class.reltuples``. Filtered: the row estimate of ``EXPLAIN``. Both are
    cheap whatever the table size; the page itself is still exact (LIMIT/OFFSET).
    """

    @cached_property
    def count(self) -> int:
        estimate = self._estimate()
        if estimate <= self.per_page:
            # The admin shows a result it believes fits one page unpaginated (no LIMIT): a low or
            # stale estimate must not turn into fetching a whole log. A bounded probe decides.
            probe = len(self.object_list.order_by().values("pk")[: self.per_page + 1])
            estimate = max(estimate, probe)
        return estimate

    def _estimate(self) -> int:
        qs = self.object_list
        connection = connections[qs.db]
        with connection.cursor() as cursor:
            if not qs.query.where:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
                )
                row = cursor.fetchone()
                estimate = row[0] if row else 0
                if estimate >= 0:  # -1 means "never analysed": fall through to EXPLAIN
                    return max(int(estimate), 0)
            sql, params = qs.order_by().values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            return int(plan[0]["Plan"]["Plan Rows"])


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
