"""The home page (the admin index): what needs the signed-in staff member now.

Each app contributes sections for the roles that work in it (``<app>/home.py``, discovered
like ``panels.py``; see :func:`customer_ops.registry.register_home`); this module picks the
sections of the user's roles (the union for several groups, all for a superuser) and the
recent-actions feed, and never imports an app. Every tile counts the rows of the list it
links to, with the same filters, so the figure and the list agree.
"""

from __future__ import annotations

from django.db.models import QuerySet

from customer_ops import durations
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
    if not qs.query.combinator:
        qs = qs.values("pk")  # the subquery selects keys only, none of qs's annotations
    n = qs.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


def age(since, now=None) -> str:
    """The time since ``since`` in its largest unit ("3 hours", "2 days")."""
    return durations.since(since, now)


def count_tile(
    label: str, url: str, qs: QuerySet, *, age_of: QuerySet | None = None, age_label: str = "oldest", **kwargs
) -> Tile:
    """A tile counting ``qs`` (the queryset of the list ``url`` opens).

    ``age_of``: when the count is not zero, the detail says the age of its oldest row by
    ``created_at`` ("oldest 3 hours"; the first row of a queue's index). Pass ``qs`` itself,
    or the same rows without the columns only the count's filters need."""
    count, capped = bounded_count(qs)
    if count and age_of is not None:
        oldest = age_of.order_by("created_at").values_list("created_at", flat=True).first()
        if oldest is not None:
            kwargs["detail"] = f"{age_label} {age(oldest)}"
    return Tile(label=label, url=url, count=count, capped=capped, **kwargs)


def sections_for(request) -> list[dict]:
    """The sections of the user's roles, in order, each with its tiles and buttons."""
    user = request.user
    roles = {role.value for role in roles_of(user)}
    shown = []
    for section in home_sections.ordered():
        if not (user.is_superuser or roles.intersection(section.roles)):
            continue  # a section with no roles is the superuser's alone
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
