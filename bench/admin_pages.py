"""Every admin page at scale, as each role, against a stock ModelAdmin of the same table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_scale8 DEBUG=true \\
        .venv/bin/python bench/admin_pages.py --customers 100000 [--runs 7] [--stock-runs 3] \\
        [--only ticket] [--roles agent,superuser] [--no-stock] [--no-variants]

Use a database of its own (not the test database): ``createdb bo_scale8`` and migrate it.
If it holds fewer than ``--customers`` customers, the script first tops it up with
``manage.py generate_data`` (about 2 minutes per 100,000 customers on 2 cores); later runs
reuse the data.

What is timed: the server time of a GET through Django's test client (middleware, admin
view, queries and template rendering; no network), logged in with ``force_login`` as a
bench user of each role (``bench_agent`` ... ``bench_superuser``, created on first run).
Each page is requested once to warm up, then ``--runs`` times; the table shows the
queries of the last request, their budget, median and p95 milliseconds.

Pages: for every model registered in the admin of the project's apps, the change list
(default view), each string list filter's first choice, a search, and the change page of
the newest row; the consoles' own GET pages (the ticket queue views, the ticket
workspace, refund approval, alert triage, trust score, dispute, deletion request pages,
the dashboard) come from each ModelAdmin's ``get_urls()``. A page is measured as every
role that may view it (the filter and search variants as the superuser only).

Stock: the same table on a separate ``AdminSite`` with a plain ``admin.ModelAdmin``: the
same ``list_display`` (model fields only), ``search_fields`` and string ``list_filter``,
and Django's defaults for the rest (exact ``Paginator`` with the full-result count,
the model's ordering, no select-related hints, no query-set tuning). One concession:
its change forms use raw-id widgets for foreign keys, because a ``<select>`` of
2,000,000 orders takes minutes and gigabytes and says nothing about the list pages.
``ratio`` is stock median / tuned median, measured in the same run.

A page passes when its median is under 300 ms and its queries are within the budget, and,
where the stock page counts or scans a big table, when it is at least 10x faster than the
stock page ("10x" column: a list of a table of at least ``BIG_ROWS`` rows, or a stock page
that itself takes ``BIG_STOCK_MS`` or more, which only a scan of a big table does here).
Timings are not tests: this script is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.exceptions import FieldDoesNotExist  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import URLPattern, path, reverse  # noqa: E402

import backoffice.urls  # noqa: E402
from customer_ops.roles import Role  # noqa: E402

APPS = ("customer_ops", "tickets", "fraud", "analytics", "compliance")
TARGET_MS = 300
BIG_ROWS = 1_000_000
BIG_STOCK_MS = 300
TARGET_RATIO = 10
LIST_BUDGET = 25  # queries of a change list, whatever the page size
CHANGE_BUDGET = 60  # queries of a change page (the customer page renders every app's panel)
STANDARD_SUFFIXES = ("_changelist", "_add", "_history", "_delete", "_change", "_autocomplete")
ROLES = [r.key for r in Role] + ["superuser"]

stock_site = admin.AdminSite(name="stock")


@dataclass
class Page:
    label: str
    url: str
    kind: str  # "list" or "change" or "custom"
    model: type[models.Model]
    stock_url: str | None = None
    roles: list[str] = field(default_factory=list)

    @property
    def budget(self) -> int:
        return LIST_BUDGET if self.kind == "list" else CHANGE_BUDGET


@dataclass
class Result:
    page: Page
    role: str
    queries: int
    median: float
    p95: float
    stock_median: float | None = None
    big_table: bool = False

    @property
    def needs_ratio(self) -> bool:
        # A stock change page reads one row by primary key, whatever the table's size: only
        # lists count or scan a big table (or a stock page slow enough to have scanned one).
        big_list = self.big_table and self.page.kind == "list"
        return self.stock_median is not None and (big_list or self.stock_median >= BIG_STOCK_MS)

    @property
    def ok(self) -> bool:
        fast_enough = not self.needs_ratio or self.ratio >= TARGET_RATIO
        return self.median < TARGET_MS and self.queries <= self.page.budget and fast_enough

    @property
    def ratio(self) -> float | None:
        return self.stock_median / self.median if self.stock_median else None


# --- data and users ------------------------------------------------------------------------


def ensure_data(customers: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers")
        have = cursor.fetchone()[0]
    if have < customers:
        print(f"{have:,} customers: generating {customers - have:,} more ...")
        call_command("generate_data", customers=customers - have)
    with connection.cursor() as cursor:
        for table in ("customers", "orders", "customer_activity_log", "customer_login_history", "customer_tickets"):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
            estimate = cursor.fetchone()[0]
            if estimate < 0:  # a partitioned parent: the sum of its partitions
                cursor.execute(
                    "SELECT sum(greatest(c.reltuples, 0))::bigint FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                    [table],
                )
                estimate = cursor.fetchone()[0]
            print(f"  {table:<28} ~{estimate:>12,} rows")


def big_tables() -> set[str]:
    """Tables (partitioned ones summed over their partitions) of at least BIG_ROWS rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, CASE WHEN c.relkind = 'p' THEN (
                SELECT sum(greatest(p.reltuples, 0)) FROM pg_inherits i
                JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid
            ) ELSE c.reltuples END
            FROM pg_class c
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relnamespace = 'public'::regnamespace
            """
        )
        return {name for name, rows in cursor.fetchall() if rows and rows >= BIG_ROWS}


def bench_user(role: str):
    user, _ = get_user_model().objects.get_or_create(
        username=f"bench_{role}", defaults={"is_staff": True, "is_superuser": role == "superuser"}
    )
    if role != "superuser":
        user.groups.set([Group.objects.get(name=Role[role.upper()].value)])
    return get_user_model().objects.get(pk=user.pk)  # fresh permission caches


# --- pages ---------------------------------------------------------------------------------


def stock_admin_for(model, tuned: admin.ModelAdmin) -> type[admin.ModelAdmin]:
    def is_field(name) -> bool:
        try:
            model._meta.get_field(name)
            return True
        except FieldDoesNotExist:
            return False

    list_display = [n for n in tuned.list_display if isinstance(n, str) and (n == "__str__" or is_field(n))]
    return type(
        f"Stock{model.__name__}Admin",
        (admin.ModelAdmin,),
        {
            "list_display": list_display or ["__str__"],
            "search_fields": list(tuned.search_fields),
            "list_filter": [f for f in tuned.list_filter if isinstance(f, str)],
            "raw_id_fields": [
                f.name for f in model._meta.fields if f.is_relation and f.many_to_one and f.name not in ("id",)
            ],
            # Django's own templates, not the project's per-model ones (which link to the
            # tuned admin's extra views).
            "change_list_template": "admin/change_list.html",
            "change_form_template": "admin/change_form.html",
        },
    )


def _sample(model):
    return model._default_manager.order_by("-pk").first()


def _search_term(model, ma, obj) -> str | None:
    fields = list(ma.search_fields)
    if not fields or obj is None:
        return None
    if model.__name__ == "Customer":
        return obj.full_name.split()[-1][:5]
    if model.__name__ == "Ticket":
        return "refund"
    if any(f.lstrip("=") == "customer__id" for f in fields) and getattr(obj, "customer_id", None):
        return str(obj.customer_id)
    first = fields[0].lstrip("=^@")
    value = obj
    for part in first.split("__"):
        value = getattr(value, part, None)
    return None if value is None else str(value)


def _filter_variants(model, ma) -> list[tuple[str, str]]:
    variants = []
    for name in ma.list_filter:
        if not isinstance(name, str):
            continue
        try:
            f = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(f, models.BooleanField):
            variants.append((f"{name}=yes", f"{name}__exact=1"))
        elif f.choices:
            value = f.choices[0][0]
            variants.append((f"{name}={value}", f"{name}__exact={value}"))
    return variants


def discover(variants: bool) -> list[Page]:
    pages: list[Page] = []
    for model, ma in sorted(admin.site._registry.items(), key=lambda kv: (kv[0]._meta.app_label, kv[0].__name__)):
        opts = model._meta
        if opts.app_label not in APPS:
            continue
        name = f"{opts.app_label}.{opts.model_name}"
        stock = None
        if not opts.proxy:
            stock = stock_admin_for(model, ma)
            stock_site.register(model, stock)
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        stock_list = f"/stock/{opts.app_label}/{opts.model_name}/" if stock else None
        pages.append(Page(f"{name} list", changelist, "list", model, stock_list))
        if opts.proxy:
            continue
        obj = _sample(model)
        if variants:
            for label, query in _filter_variants(model, ma):
                pages.append(
                    Page(f"{name} list ?{label}", f"{changelist}?{query}", "list", model, f"{stock_list}?{query}")
                )
            term = _search_term(model, ma, obj)
            if term:
                pages.append(
                    Page(f"{name} search {term!r}", f"{changelist}?q={term}", "list", model, f"{stock_list}?q={term}")
                )
            if model.__name__ == "Ticket":
                from tickets.selectors import QUEUE_VIEWS

                for key, _ in QUEUE_VIEWS:
                    pages.append(Page(f"{name} queue={key}", f"{changelist}?queue={key}", "list", model))
        if obj is None:
            continue
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        pages.append(Page(f"{name} change", change, "change", model, f"{stock_list}{obj.pk}/change/"))
        for pattern in ma.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name or pattern.name.endswith(STANDARD_SUFFIXES):
                continue
            params = list(pattern.pattern.converters)
            try:
                if not params:
                    url = reverse(f"admin:{pattern.name}", kwargs=pattern.default_args or None)
                elif len(params) == 1:
                    value = getattr(obj, params[0]) if params[0].endswith("_id") and hasattr(obj, params[0]) else obj.pk
                    url = reverse(f"admin:{pattern.name}", kwargs={params[0]: value})
                else:
                    continue
            except Exception:  # noqa: BLE001 (a pattern with extra defaults: not a GET page)
                continue
            pages.append(Page(f"{name} {pattern.name.removeprefix(opts.app_label + '_')}", url, "custom", model))
    return pages


def allowed(user, page: Page) -> bool:
    opts = page.model._meta
    return user.is_superuser or any(
        user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}") for action in ("view", "change")
    )


# --- timing --------------------------------------------------------------------------------


def measure(client: Client, url: str, runs: int) -> tuple[int, int, list[float]]:
    first = client.get(url)
    if first.status_code != 200:
        return first.status_code, 0, []
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    return response.status_code, queries, times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stock-runs", type=int, default=3)
    parser.add_argument("--only", default="", help="only pages whose label contains this text")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--no-stock", action="store_true")
    parser.add_argument("--no-variants", action="store_true", help="skip the filter, search and queue variants")
    args = parser.parse_args()

    ensure_data(args.customers)
    big = big_tables()
    pages = [p for p in discover(not args.no_variants) if args.only in p.label]
    roles = [r for r in args.roles.split(",") if r]
    urlconf = types.ModuleType("bench_urls")
    urlconf.urlpatterns = [path("stock/", stock_site.urls), *backoffice.urls.urlpatterns]

    results: list[Result] = []
    skipped: list[str] = []
    with override_settings(ROOT_URLCONF=urlconf, DEBUG=True):
        for role in roles:
            user = bench_user(role)
            client = Client(raise_request_exception=False)
            client.force_login(user)
            for page in pages:
                variant = page.kind == "list" and ("?" in page.url)
                if not allowed(user, page) or (variant and role != "superuser"):
                    continue
                status, queries, times = measure(client, page.url, args.runs)
                if status != 200:
                    if role == "superuser" or page.kind != "custom":
                        skipped.append(f"{page.label} as {role}: HTTP {status}")
                    continue
                is_big = page.model._meta.db_table in big
                result = Result(page, role, queries, statistics.median(times), p95(times), big_table=is_big)
                if page.stock_url and not args.no_stock:
                    status, _, stock_times = measure(client, page.stock_url, 1)
                    if status == 200 and (stock_times[0] < 3000 and args.stock_runs > 1):
                        _, _, more = measure(client, page.stock_url, args.stock_runs - 1)
                        stock_times += more
                    if stock_times:
                        result.stock_median = statistics.median(stock_times)
                results.append(result)
                print(_row(result), flush=True)

    print()
    print("| page | role | queries (budget) | median ms | p95 ms | stock median ms | ratio | 10x | ok |")
    print("|---|---|---:|---:|---:|---:|---:|:-:|:-:|")
    for r in results:
        stock = f"{r.stock_median:.0f}" if r.stock_median else "–"
        ratio = f"{r.ratio:.1f}x" if r.ratio else "–"
        tenfold = ("yes" if r.ratio >= TARGET_RATIO else "NO") if r.needs_ratio else "–"
        print(
            f"| {r.page.label} | {r.role} | {r.queries} ({r.page.budget}) | {r.median:.1f} | {r.p95:.1f} "
            f"| {stock} | {ratio} | {tenfold} | {'yes' if r.ok else 'NO'} |"
        )
    failing = [r for r in results if not r.ok]
    rated = [r for r in results if r.needs_ratio]
    print(
        f"\n{len(results)} measurements, {len(failing)} failing (over {TARGET_MS} ms, over budget, or under "
        f"{TARGET_RATIO}x stock where stock counts or scans a big table; {len(rated)} such comparisons)."
    )
    for line in skipped:
        print(f"  skipped: {line}")
    sys.exit(1 if failing else 0)


def _row(r: Result) -> str:
    stock = f"stock {r.stock_median:8.0f} ms ({r.ratio:6.1f}x)" if r.stock_median else ""
    flag = "" if r.ok else "  <-- FAILING"
    return f"{r.page.label:<58} {r.role:<10} {r.queries:>3}q {r.median:8.1f} ms p95 {r.p95:8.1f} {stock}{flag}"


if __name__ == "__main__":
    main()
