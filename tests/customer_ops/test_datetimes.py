"""``customer_ops.datetimes.local_datetime`` shows what Django's list cells show for a
datetime, ``localize(template_localtime(value))``: random datetimes across years, month
ends and daylight saving changes, in several languages and time zones, in each language's
own format and in formats Django is left to do."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from django.template import defaultfilters
from django.test import override_settings
from django.utils import formats, timezone, translation

from customer_ops import jinja2_env
from customer_ops.datetimes import _plan, current_language, held_here, here, local_datetime

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
LANGUAGES = ["en", "en-gb", "de", "fr", "es", "pl", "ja"]


def _random_datetimes(seed: int, n: int) -> list[dt.datetime]:
    rng = random.Random(seed)
    start = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    values = [start + dt.timedelta(seconds=rng.randrange(8 * 365 * 86400)) for _ in range(n)]
    # The edges of the day's formats: midnight, noon, on the hour.
    values += [dt.datetime(2024, 3, 31, h, m, tzinfo=dt.UTC) for h in (0, 1, 11, 12, 13, 23) for m in (0, 1, 59)]
    return values


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("zone", ZONES)
def test_local_datetime_is_what_django_shows(language, zone):
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        where = here()  # as a list page looks them up, once
        for value in _random_datetimes(LANGUAGES.index(language) * 10 + ZONES.index(zone), 500):
            shown = formats.localize(timezone.template_localtime(value))
            assert local_datetime(value) == shown and local_datetime(value, where) == shown, value


def test_the_given_zone_and_language_are_the_ones_shown():
    value = dt.datetime(2024, 3, 31, 12, 0, tzinfo=dt.UTC)
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")
    with translation.override("de"), timezone.override(kolkata):
        german_in_kolkata = local_datetime(value)
    with translation.override("en"), timezone.override(dt.UTC):
        assert local_datetime(value, (kolkata, "de")) == german_in_kolkata != local_datetime(value)


@pytest.mark.parametrize(
    "fmt",
    [
        "N j, Y, P",  # English
        r"D, jS \o\f F Y, g:i a",  # escaped letters, ordinals, weekday and month names
        "l W o L t z E b A f G h H",  # every other character of the date and of the minute
        "Y-m-d H:i:s",  # seconds: Django's
        "r",  # the time zone's offset: Django's
        "j. F Y e",  # the zone's name: Django's
    ],
)
def test_any_format_is_djangos(fmt):
    handled = _plan(fmt) is not None
    assert handled == (fmt not in {"Y-m-d H:i:s", "r", "j. F Y e"})
    with override_settings(DATETIME_FORMAT=fmt), translation.override(None):
        assert formats.get_format("DATETIME_FORMAT") == fmt
        for value in _random_datetimes(7, 300):
            for zone in ZONES:
                with timezone.override(zoneinfo.ZoneInfo(zone)):
                    assert local_datetime(value) == formats.localize(timezone.template_localtime(value))


@pytest.mark.parametrize("fmt", ["Y-m-d", "Y-m-d H:i", "H:i", "c", "N j, Y, P", "D, j M Y H:i:s", "r", "e"])
def test_a_given_format_is_djangos_date_filter(fmt):
    for language in ["en", "de", "ja"]:
        for zone in ZONES:
            with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
                for value in _random_datetimes(ZONES.index(zone), 200):
                    shown = defaultfilters.date(timezone.template_localtime(value), fmt)
                    assert local_datetime(value, fmt=fmt) == shown == jinja2_env.date(value, fmt), value


def test_the_jinja2_date_filter_is_djangos_for_anything_else():
    value = dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC)
    with translation.override("de"), timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        for shown, arg in [(value, None), (value, "DATETIME_FORMAT"), (value.date(), "Y-m-d"), (None, "c"), ("", "c")]:
            assert jinja2_env.date(shown, arg) == defaultfilters.date(timezone.template_localtime(shown), arg)


def test_held_here_answers_the_pair_looked_up_on_entry():
    berlin, kolkata = zoneinfo.ZoneInfo("Europe/Berlin"), zoneinfo.ZoneInfo("Asia/Kolkata")
    value = dt.datetime(2024, 3, 31, 12, 0, tzinfo=dt.UTC)
    with translation.override("de"), timezone.override(berlin):
        shown = local_datetime(value)
        with held_here():
            assert here() == (berlin, "de") and current_language() == "de"
            assert local_datetime(value) == shown
            with held_here():  # nested: the same pair
                assert here() == (berlin, "de")
        with translation.override("fr"), timezone.override(kolkata):
            assert here() == (kolkata, "fr") and current_language() == "fr"  # left: looked up again


@pytest.mark.parametrize("use_tz", [True, False])
def test_held_here_shows_times_as_django_does_with_either_use_tz(use_tz, settings):
    """USE_TZ is read once on entry to held_here: a time in another zone is converted to the
    current one only when it is on, as Django's template_localtime does."""
    settings.USE_TZ = use_tz
    value = dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        with held_here():
            shown = local_datetime(value)
        assert shown == local_datetime(value) == formats.localize(timezone.template_localtime(value))
    assert shown.startswith("1 Apr") is use_tz  # 05:00 on the 1st in Kolkata
