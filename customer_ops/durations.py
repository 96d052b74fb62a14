"""``since(d, now)``: Django's ``timesince`` of the largest unit only ("3 days"), for list
cells that show one per row.

Django's phrases are lazy ``ngettext`` strings translated on every call, through the
catalog's chain of fallbacks: on a 50-row queue with two durations a row, the translation
lookups were most of the cells' cost. The same phrase for the same language, unit and number
is translated once here (``_phrase``). The unit is worked out here the way Django does (a
test compares the two on random durations up to two years, in two languages).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.utils.html import avoid_wrapping
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.timezone import is_aware

from customer_ops.datetimes import current_language


@lru_cache(maxsize=4096)
def _phrase(language: str | None, unit: str, number: int) -> str:
    return avoid_wrapping(str(TIME_STRINGS[unit] % {"num": number}))


class _Unit:
    __slots__ = ("unit",)

    def __init__(self, unit: str):
        self.unit = unit

    def __mod__(self, params: dict) -> str:
        return _phrase(current_language(), self.unit, params["num"])


_CACHED_STRINGS = {unit: _Unit(unit) for unit in TIME_STRINGS}


# Within a calendar month, the largest unit is the first of these the duration reaches.
_UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60))


def since(d, now=None) -> str:
    """The time from ``d`` to ``now`` in its largest unit ("0 minutes" if ``d`` is later).

    Between two datetimes the unit is worked out here, as Django's ``timesince`` does it
    (calendar months and years, then weeks to minutes); dates are Django's."""
    if isinstance(d, dt.datetime) and (now is None or isinstance(now, dt.datetime)):
        if now is None:
            now = dt.datetime.now(d.tzinfo if is_aware(d) else None)
        elif is_aware(now) and is_aware(d):
            now = now.astimezone(d.tzinfo)
        months = (now.year - d.year) * 12 + (now.month - d.month)
        if d.day > now.day or (d.day == now.day and d.time() > now.time()):
            months -= 1
        if months >= 12:
            return _phrase(current_language(), "year", months // 12)
        if months > 0:
            return _phrase(current_language(), "month", months)
        delta = now - d
        if delta.days * 86400 + delta.seconds <= 0:
            return _phrase(current_language(), "minute", 0)
        seconds = delta.total_seconds()
        for unit, length in _UNITS:
            if seconds >= length:
                return _phrase(current_language(), unit, int(seconds // length))
        return _phrase(current_language(), "minute", 0)
    return timesince(d, now, depth=1, time_strings=_CACHED_STRINGS)
