"""``customer_ops.durations.since`` says what Django's ``timesince(depth=1)`` says, for any
two datetimes: random durations up to two years either way, across month ends and daylight
saving changes, in two languages."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from django.utils import translation
from django.utils.timesince import timesince

from customer_ops.datetimes import held_here
from customer_ops.durations import since

ZONES = [dt.UTC, zoneinfo.ZoneInfo("Europe/Berlin"), zoneinfo.ZoneInfo("America/New_York")]


@pytest.mark.parametrize("language", ["en", "de"])
def test_since_is_djangos_timesince_of_the_largest_unit(language):
    rng = random.Random(20261206)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with translation.override(language):
        for _ in range(20000):
            d = (start + dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))).astimezone(rng.choice(ZONES))
            scale = rng.choice([90, 5400, 3 * 86400, 40 * 86400, 800 * 86400])
            now = (d + dt.timedelta(seconds=rng.uniform(-scale / 10, scale))).astimezone(rng.choice(ZONES))
            assert since(d, now) == timesince(d, now, depth=1), (d, now)
        for d, now in [  # the edges: nothing, less than a minute, a month to the second
            (start, start),
            (start, start + dt.timedelta(seconds=59.9)),
            (start, start + dt.timedelta(minutes=1)),
            (start, start + dt.timedelta(weeks=1)),
            (start + dt.timedelta(hours=1), start),
            (start, start + dt.timedelta(days=31)),
            (start, start + dt.timedelta(days=31, seconds=-1)),
            (dt.datetime(2024, 2, 29, 12, tzinfo=dt.UTC), dt.datetime(2024, 3, 29, 12, tzinfo=dt.UTC)),
            (dt.datetime(2024, 1, 31, tzinfo=dt.UTC), dt.datetime(2024, 2, 29, 23, tzinfo=dt.UTC)),
        ]:
            assert since(d, now) == timesince(d, now, depth=1), (d, now)


def test_since_without_now_and_with_dates():
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3, minutes=1)
    assert since(recent) == timesince(recent, depth=1) == "3\xa0hours"
    assert since(dt.date(2024, 1, 1), dt.date(2024, 1, 15)) == timesince(
        dt.date(2024, 1, 1), dt.date(2024, 1, 15), depth=1
    )


def test_within_held_here_the_language_on_entry_is_the_one_said():
    d, now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 4, tzinfo=dt.UTC)
    with translation.override("de"):
        german = timesince(d, now, depth=1)
        with held_here():
            assert since(d, now) == german
            assert since(d.date(), now.date()) == german  # Django's timesince, our strings
    with translation.override("en"):
        assert since(d, now) == timesince(d, now, depth=1) != german
