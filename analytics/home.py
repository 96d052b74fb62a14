"""Analytics' sections of the home page (customer_ops.home).

* analysts: the dashboard's headline KPIs of yesterday against the day before (the
  dashboard's own :func:`analytics.dashboard.kpis`, four queries), each linking to the
  dashboard on that day;
* fraud analysts: referral rewards held for review (the held-rewards queue).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.utils import timezone

from analytics import dashboard
from analytics.choices import HoldStatus
from analytics.filters import dashboard_filters
from analytics.models import RewardHold
from customer_ops.home import count_tile
from customer_ops.keyed_urls import reverse_keys
from customer_ops.registry import Tile, register_home
from customer_ops.replica import read_replica
from customer_ops.roles import Role, with_included

# (key of dashboard.kpis, label, unit shown after the value)
KPIS = [
    ("orders", "Orders placed", ""),
    ("completed", "Completed", ""),
    ("cancellation_rate", "Cancellation rate", " %"),
    ("spent", "Spent (completed)", ""),
    ("average_order_value", "Average order value", ""),
    ("customers", "Ordering customers", ""),
]


def _day_kpis(day: dt.date) -> dict:
    _, f = dashboard_filters({"date_from": day.isoformat(), "date_to": day.isoformat()})
    return dashboard.kpis(f)


def _change(now_value, before) -> tuple[str, str]:
    """("+12.5 % on the day before", state) or ("", "") when there is nothing to compare."""
    if now_value is None or before is None or before == 0:
        return "", ""
    pct = (Decimal(now_value) - Decimal(before)) * 100 / Decimal(before)
    sign = "+" if pct > 0 else ""
    return f"{sign}{pct:.1f} % on the day before ({before})", "up" if pct > 0 else "down" if pct < 0 else ""


def analyst_tiles(request) -> list[Tile]:
    yesterday = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=1)
    before = yesterday - dt.timedelta(days=1)
    with read_replica():  # day-old, pre-aggregated figures: the replica, as the dashboard
        current, previous = _day_kpis(yesterday), _day_kpis(before)
    url = reverse_keys("admin:analytics_dashboard_changelist")
    day_url = url + "?" + urlencode({"date_from": yesterday.isoformat(), "date_to": yesterday.isoformat()})
    tiles = []
    for key, label, unit in KPIS:
        value = current[key]
        detail, state = _change(value, previous[key])
        tiles.append(
            Tile(
                label=f"{label}, {yesterday:%a %d %b}",
                url=day_url,
                value="—" if value is None else f"{value}{unit}",
                detail=detail or "no figure for the day before",
                state=state,
            )
        )
    tiles.append(
        Tile(label="Open the analytics dashboard", url=url, value="30 days", detail="charts, cohorts, referrals")
    )
    return tiles


register_home(
    key="analytics_kpis",
    title="Yesterday at a glance",
    roles=(Role.ANALYST.value,),
    tiles=analyst_tiles,
    order=60,
    permission="analytics.view_dashboard",
)


def held_reward_tiles(request) -> list[Tile]:
    held = RewardHold.objects.filter(status=HoldStatus.HELD)  # reward_hold_status_idx
    url = reverse_keys("admin:analytics_rewardhold_changelist") + "?" + urlencode({"status__exact": HoldStatus.HELD})
    return [count_tile("Referral rewards on hold", url, held, age_of=held)]


register_home(
    key="analytics_reward_holds",
    title="Referral rewards",
    roles=with_included(Role.FRAUD),
    tiles=held_reward_tiles,
    order=31,
    permission="analytics.view_rewardhold",
)
