"""The home page (the admin index): what needs the signed-in staff member now.

Each app contributes sections for the roles that work in it (``<app>/home.py``, discovered
like ``panels.py``; see :func:`customer_ops.registry.register_home`); this module picks the
sections of the user's roles (the union for several groups, all for a superuser) and the
recent-actions feed, and never imports an app. Every tile counts the rows of the list it
links to, with the same filters, so the figure and the list agree.
"""

from __future__ import annotations

from django.db.models import QuerySet

from customer_ops.admin_base import EstimatedCountPaginator
from customer_ops.registry import RecentAction, Tile, action_feeds, home_sections
from customer_ops.roles import roles_of

# The same bound as the list pages: exact up to here, "1,000+" past it.
COUNT_CAP = EstimatedCountPaginator.EXACT_UP_TO
RECENT_ACTIONS = 10


def bounded_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """``(count, capped)``: an exact count up to ``cap`` rows (default :data:`COUNT_CAP`),
    whose cost stays bounded (``COUNT(*)`` over a ``LIMIT cap + 1`` subquery) however many
    rows match."""
    cap = COUNT_CAP if cap is None else cap
    n = qs.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


def count_tile(label: str, url: str, qs: QuerySet, **kwargs) -> Tile:
    """A tile counting ``qs`` (the queryset of the list ``url`` opens)."""
    count, capped = bounded_count(qs)
    return Tile(label=label, url=url, count=count, capped=capped, **kwargs)


def sections_for(request) -> list[dict]:
    """The sections of the user's roles, in order, each with its tiles and buttons."""
    user = request.user
    roles = {role.value for role in roles_of(user)}
    shown = []
    for section in home_sections.ordered():
        if not roles.intersection(section.roles):
            continue
        if section.permission and not user.has_perm(section.permission):
            continue
        tiles = section.tiles(request)
        if tiles is None:
            continue
        actions = section.actions(request) if section.actions else []
        shown.append({"key": section.key, "title": section.title, "tiles": tiles, "actions": actions})
    return shown


def recent_actions(request, limit: int = RECENT_ACTIONS) -> list[RecentAction]:
    """The user's own latest actions from every registered feed, newest first."""
    rows: list[RecentAction] = []
    for feed in action_feeds.ordered():
        rows += feed.rows(request.user, limit)
    return sorted(rows, key=lambda r: r.when, reverse=True)[:limit]
