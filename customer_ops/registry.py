"""Registries the apps plug into, so pages that span domains never import the apps.

Each app registers, in its ``AppConfig.ready()``:

* a **customer panel** for the customer 360 page (and the ticket and refund-approval
  sidebars, which show the same panels): :func:`register_panel`;
* **dashboard charts** for the analytics dashboard: :func:`register_chart`;
* a **demo seeder** for ``manage.py seed_demo``: :func:`register_seeder`;
* **scale data** for ``manage.py generate_data`` (the app's tables, written through the COPY
  engine of ``customer_ops.datagen``): :func:`register_scale_data`;
* a **daily job** for ``manage.py run_daily_jobs`` (pre-aggregations of an app's own
  tables that the dashboard reads): :func:`register_daily_job`;
* **home sections** for the roles' home page (the admin index): :func:`register_home`;
* the **recent actions** feed of that page (the audit log's, from ``compliance``):
  :func:`register_recent_actions`.

Personal data and write rules are declared on the models themselves (see
``personal_data.py`` and ``write_rules.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Panel:
    """A block of the customer page.

    ``context(customer, request)`` returns the template context (or ``None`` to hide the
    panel, e.g. when the user's role may not see it); ``template`` renders it (a Jinja2
    template in the app's ``jinja2/`` folder, customer_ops/jinja2_env.py). Panels must
    run a bounded number of queries whatever the customer's history.
    """

    key: str
    title: str
    template: str
    context: Callable[[Any, Any], dict | None]
    order: int = 100
    permission: str | None = None  # "app_label.view_model": hidden without it


@dataclass(frozen=True)
class Chart:
    """A chart of the analytics dashboard: ``data(filters)`` returns Chart.js-ready data."""

    key: str
    title: str
    data: Callable[[dict], dict]
    order: int = 100
    kind: str = "line"
    permission: str | None = None


@dataclass(frozen=True)
class Seeder:
    """Fills one app's tables with demo data: ``seed(ctx)`` gets a shared context dict."""

    key: str
    seed: Callable[[dict], None]
    order: int = 100


@dataclass(frozen=True)
class ScaleData:
    """Fills one app's tables at scale: ``generate(gen)`` gets the
    ``customer_ops.datagen.Generator`` (its COPY, random stream and what earlier steps made:
    ``first_customer``, ``order_sample``...). Steps run in ``order`` and share one random
    stream: a seed gives the same rows only in the same order.

    ``per_customer``: rows per customer of each table the step fills (``gen.target``);
    ``keep_indexes``: per table, the first columns of the indexes its row triggers read,
    kept through the load."""

    key: str
    generate: Callable[[Any], None]
    order: int = 100
    per_customer: dict[str, float] = field(default_factory=dict)
    keep_indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class DailyJob:
    """A pre-aggregation that ``run_daily_jobs`` runs for a range of UTC days.

    ``run(days)`` gets the range (``days.first``, ``days.last``; ``days.params()`` gives
    ``first``, ``last``, ``start``, ``end`` for SQL), must be idempotent and set-based, and
    returns a one-line summary for the progress output. Jobs run in ``order``: a job that
    reads another's table comes after it.

    A ``per_customer`` job recomputes whole customers' histories, those of the customers
    active in the range; ``run_daily_jobs --all-customers`` runs it with ``None`` instead of
    the range: every customer."""

    key: str
    label: str
    run: Callable[[Any], object]
    order: int = 100
    per_customer: bool = False


@dataclass(frozen=True)
class Tile:
    """One figure of the home page, linking to the list it counts.

    ``count`` is exact up to the cap of :func:`customer_ops.home.bounded_count`;
    ``capped`` says it is a lower bound ("1,000+"). A tile without a count (a KPI) shows
    ``value`` instead. ``state`` colours it (``breached``, ``due_soon``, ``ok``, ``""``).
    ``pending``: what a tile from :func:`customer_ops.home.count_tile` still has to read;
    :func:`customer_ops.home.counted` reads every pending tile of a page in one statement.
    """

    label: str
    url: str
    count: int | None = None
    capped: bool = False
    value: str = ""
    detail: str = ""
    state: str = ""
    pending: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class HomeSection:
    """A block of the home page ("what needs me now?") for the roles in ``roles`` (none:
    the superuser's alone).

    ``tiles(request)`` returns the section's tiles (or ``None`` to hide it); it must run a
    fixed number of queries, whatever the size of the tables (the page's budget is tested).
    ``permission`` hides the section from a user without it, whatever their role, so a
    tile never links to a list the user would get a 403 on. ``actions`` are buttons
    (label, URL to POST to) shown under the tiles, e.g. "Take next ticket".
    """

    key: str
    title: str
    roles: tuple[str, ...]
    tiles: Callable[[Any], list[Tile] | None]
    order: int = 100
    permission: str | None = None
    actions: Callable[[Any], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class RecentAction:
    """One line of the staff member's recent actions: what, on whom, when, and where to look."""

    when: Any
    what: str
    url: str = ""
    customer_id: int | None = None
    customer_url: str = ""
    ticket: str = ""
    ticket_url: str = ""


@dataclass(frozen=True)
class ActionFeed:
    """``rows(user, limit)`` -> the user's own latest actions, newest first (one query)."""

    key: str
    rows: Callable[[Any, int], list[RecentAction]]
    order: int = 100


@dataclass(frozen=True)
class StaffTextScrubber:
    """Text staff typed about customers in a table that leads to no customer (a saved search):
    ``scrub(patterns, marker)`` rewrites every match of the erased customer's identifiers
    (the erasure's regular expressions, for ``erasure_scrub``) with ``marker`` and returns
    how many rows it changed. Run by every
    erasure after its steps, since the table's rows cannot be found from the customer."""

    key: str
    scrub: Callable[[list[str], str], int]
    order: int = 100


@dataclass
class _Registry:
    items: dict[str, Any] = field(default_factory=dict)

    def add(self, item) -> None:
        self.items[item.key] = item  # re-registering (autoreload) replaces

    def ordered(self) -> list:
        return sorted(self.items.values(), key=lambda i: (i.order, i.key))


panels = _Registry()
charts = _Registry()
seeders = _Registry()
scale_data = _Registry()
daily_jobs = _Registry()
home_sections = _Registry()
action_feeds = _Registry()
staff_text_scrubbers = _Registry()


def register_panel(**kwargs) -> None:
    panels.add(Panel(**kwargs))


def register_chart(**kwargs) -> None:
    charts.add(Chart(**kwargs))


def register_seeder(**kwargs) -> None:
    seeders.add(Seeder(**kwargs))


def register_scale_data(**kwargs) -> None:
    scale_data.add(ScaleData(**kwargs))


def register_daily_job(**kwargs) -> None:
    daily_jobs.add(DailyJob(**kwargs))


def register_home(**kwargs) -> None:
    home_sections.add(HomeSection(**kwargs))


def register_staff_text_scrubber(**kwargs) -> None:
    staff_text_scrubbers.add(StaffTextScrubber(**kwargs))


def register_recent_actions(**kwargs) -> None:
    action_feeds.add(ActionFeed(**kwargs))
