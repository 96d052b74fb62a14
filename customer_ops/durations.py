"""``since(d, now)``: Django's ``timesince`` of the largest unit only ("3 days"), for list
cells that show one per row.

Django's phrases are lazy ``ngettext`` strings translated on every call, through the
catalog's chain of fallbacks: on a 50-row queue with two durations a row, the translation
lookups were most of the cells' cost. The same phrase for the same language, unit and number
is translated once here (``_phrase``); the arithmetic is Django's own.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language


@lru_cache(maxsize=4096)
def _phrase(language: str | None, unit: str, number: int) -> str:
    return str(TIME_STRINGS[unit] % {"num": number})


class _Unit:
    __slots__ = ("unit",)

    def __init__(self, unit: str):
        self.unit = unit

    def __mod__(self, params: dict) -> str:
        return _phrase(get_language(), self.unit, params["num"])


_CACHED_STRINGS = {unit: _Unit(unit) for unit in TIME_STRINGS}


def since(d, now=None) -> str:
    """The time from ``d`` to ``now`` in its largest unit ("0 minutes" if ``d`` is later)."""
    return timesince(d, now, depth=1, time_strings=_CACHED_STRINGS)
