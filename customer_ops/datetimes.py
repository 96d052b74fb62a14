"""``local_datetime(value)``: a datetime as the admin's list cells show it, Django's
``localize(template_localtime(value))``, for lists that show one or two per row; with a
format, as Django's ``date`` filter shows it (the customer panels' times).

Django's ``DateFormat`` translates the month's and the weekday's names and "a.m."/"noon"
again for every value, through the catalog's chain of fallbacks; on the 100-row alert queue
that was a seventh of the page's CPU. Here the parts of the format that depend on the date
are worked out once per language and date, those that depend on the time of day once per
language, hour and minute. A format with a part that depends on anything else (seconds, the
time zone's name or offset) is left to Django. A test compares the two on random datetimes,
in every format and language.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from django.conf import settings
from django.utils import dateformat, formats, timezone
from django.utils.translation import get_language

# DateFormat's format characters whose output depends on the date only / the hour and minute only.
_DATE_CHARS = frozenset("bdDEFjlLmMnNoStwWyYz")
_TIME_CHARS = frozenset("aAfgGhHiP")
_DATE, _TIME, _TEXT = 0, 1, 2


@lru_cache(maxsize=64)
def _plan(fmt: str) -> tuple[tuple[int, str], ...] | None:
    """The format split as ``DateFormat.format`` splits it: (kind, character or text)
    pieces; ``None`` when a character depends on more than the date and the minute."""
    pieces = []
    for i, piece in enumerate(dateformat.re_formatchars.split(fmt)):
        if i % 2:
            if piece in _DATE_CHARS:
                pieces.append((_DATE, piece))
            elif piece in _TIME_CHARS:
                pieces.append((_TIME, piece))
            else:
                return None
        elif piece:
            pieces.append((_TEXT, dateformat.re_escaped.sub(r"\1", piece)))
    return tuple(pieces)


@lru_cache(maxsize=4096)
def _date_parts(language: str | None, fmt: str, day: dt.date) -> tuple[str, ...]:
    shown = dateformat.DateFormat(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
    return tuple(str(getattr(shown, c)()) for kind, c in _plan(fmt) if kind == _DATE)


@lru_cache(maxsize=4096)
def _time_parts(language: str | None, fmt: str, hour: int, minute: int) -> tuple[str, ...]:
    shown = dateformat.DateFormat(dt.datetime(2000, 1, 1, hour, minute, tzinfo=dt.UTC))
    return tuple(str(getattr(shown, c)()) for kind, c in _plan(fmt) if kind == _TIME)


_held: ContextVar[tuple | None] = ContextVar("held_here", default=None)


def here() -> tuple:
    """The current (time zone, language): each is a context-local lookup of a few
    microseconds (asgiref's ``Local``), which a list page showing a hundred times looks up
    once. Within :func:`held_here`, the pair it looked up on entry."""
    held = _held.get()
    return held[:2] if held else (timezone.get_current_timezone(), get_language())


def _use_tz() -> bool:
    # settings.USE_TZ: each read of a setting is a Python-level __getattribute__ (2% of the
    # alert queue's CPU, a read per row); within held_here, read on entry.
    held = _held.get()
    return held[2] if held else settings.USE_TZ


def current_language() -> str | None:
    """``get_language()``; within :func:`held_here`, the language it looked up on entry."""
    held = _held.get()
    return held[1] if held else get_language()


@contextmanager
def held_here():
    """Look the time zone and language up once for a block that shows many times and
    durations (a list page's rows, a page's panels): :func:`here` and
    :func:`current_language` answer that pair within it (and ``USE_TZ`` is read once). The
    block must not activate another time zone or language; nothing that renders rows or
    panels does."""
    token = _held.set((timezone.get_current_timezone(), get_language(), settings.USE_TZ))
    try:
        yield
    finally:
        _held.reset(token)


def local_datetime(value: dt.datetime, where: tuple | None = None, fmt: str | None = None) -> str:
    """``value`` in the current time zone and language's ``DATETIME_FORMAT``, or in ``fmt``
    (Django's ``date`` filter's format); ``where`` is :func:`here`'s (time zone, language)
    when the caller looked them up already."""
    zone, language = where or here()
    if _use_tz() and timezone.is_aware(value) and getattr(value, "convert_to_local_time", True):
        value = timezone.localtime(value, zone)  # template_localtime's, in the given zone
    fmt = fmt or str(formats.get_format("DATETIME_FORMAT", lang=language))
    if fmt == "c":
        return value.isoformat()  # DateFormat.c
    plan = _plan(fmt)
    if plan is None:
        return dateformat.format(value, fmt)
    dates = iter(_date_parts(language, fmt, value.date()))
    times = iter(_time_parts(language, fmt, value.hour, value.minute))
    return "".join(next(dates) if kind == _DATE else next(times) if kind == _TIME else text for kind, text in plan)
