"""Registries the apps plug into, so pages that span domains never import the apps.

Each app registers, in its ``AppConfig.ready()``:

* a **customer panel** for the customer 360 page (and the ticket and refund-approval
  sidebars, which show the same panels): :func:`register_panel`;
* **dashboard charts** for the analytics dashboard: :func:`register_chart`;
* a **demo seeder** for ``manage.py seed_demo``: :func:`register_seeder`;
* a **daily job** for ``manage.py run_daily_jobs`` (pre-aggregations of an app's own
  tables that the dashboard reads): :func:`register_daily_job`.

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
    panel, e.g. when the user's role may not see it); ``template`` renders it. Panels must
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
class DailyJob:
    """A pre-aggregation that ``run_daily_jobs`` runs for a range of UTC days.

    ``run(days)`` gets the range (``days.first``, ``days.last``; ``days.params()`` gives
    ``first``, ``last``, ``start``, ``end`` for SQL), must be idempotent and set-based, and
    returns a one-line summary for the progress output."""

    key: str
    label: str
    run: Callable[[Any], object]
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
daily_jobs = _Registry()


def register_panel(**kwargs) -> None:
    panels.add(Panel(**kwargs))


def register_chart(**kwargs) -> None:
    charts.add(Chart(**kwargs))


def register_seeder(**kwargs) -> None:
    seeders.add(Seeder(**kwargs))


def register_daily_job(**kwargs) -> None:
    daily_jobs.add(DailyJob(**kwargs))
