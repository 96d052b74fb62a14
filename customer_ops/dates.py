"""UTC calendar days, as every app's daily jobs and dashboard charts count them.

* :class:`DayRange` (:func:`day_range`): the range of days ``run_daily_jobs`` hands each
  registered daily job (``customer_ops.registry.register_daily_job``);
* :func:`split_range`: a dashboard range split at :data:`RAW_DAYS` ago, so that a chart
  reads the tables the daily jobs keep for older days and the source rows for recent ones.

Here rather than in ``analytics`` so that every app's jobs and charts use them without
importing another domain app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

UTC = dt.UTC


def midnight(day: dt.date) -> dt.datetime:
    """The UTC midnight that starts ``day``."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of UTC calendar days, as the half-open timestamp range the SQL uses."""

    first: dt.date
    last: dt.date

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(f"Empty day range: {self.first} is after {self.last}.")

    @property
    def start(self) -> dt.datetime:
        return midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return midnight(self.last + dt.timedelta(days=1))

    def params(self) -> dict:
        return {"first": self.first, "last": self.last, "start": self.start, "end": self.end}


def day_range(first: dt.date, last: dt.date | None = None) -> DayRange:
    return DayRange(first, last or first)


# Days before this many days ago come from the tables run_daily_jobs keeps (its cron
# recomputes the last two days after midnight, for late events); the more recent ones from
# the source rows themselves (the orders, tickets, refunds of those days only).
RAW_DAYS = 2


def split_range(f: dict) -> dict:
    """The SQL parameters of a dashboard range split at ``RAW_DAYS`` ago: pre-aggregated days
    are ``first`` .. ``raw_first - 1``, raw rows from ``raw_start`` (the later of the range's
    start and ``raw_first``) to ``end``; ``service`` is the chosen service (``""`` for all).

    ``f`` is the dashboard's filter dict (``first``, ``last``, ``start``, ``end``,
    ``service_type``: ``analytics.filters.dashboard_filters``)."""
    today = timezone.now().astimezone(UTC).date()
    raw_first = max(f["first"], today - dt.timedelta(days=RAW_DAYS - 1))
    return {
        "first": f["first"],
        "last": f["last"],
        "raw_first": raw_first,
        "raw_start": max(f["start"], midnight(raw_first)),
        "end": f["end"],
        "service": f["service_type"],
    }
