"""The home page (the admin index): what needs the signed-in staff member now.

Each app contributes sections for the roles that work in it (``<app>/home.py``, discovered
like ``panels.py``; see :func:`customer_ops.registry.register_home`); this module picks the
sections of the user's roles (the union for several groups, all for a superuser) and the
recent-actions feed, and never imports an app. Every tile counts the rows of the list it
links to, with the same filters, so the figure and the list agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import connections
from django.db.models import QuerySet

from customer_ops import durations
from customer_ops.admin_base import EstimatedCountPaginator
from customer_ops.registry import RecentAction, Tile, action_feeds, home_sections
from customer_ops.roles import roles_of

# The same bound as the list pages: exact up to here, "1,000+" past it.
COUNT_CAP = EstimatedCountPaginator.EXACT_UP_TO
RECENT_ACTIONS = 10


@dataclass(frozen=True)
class PendingCount:
    """What a count tile reads: the rows it counts, and those whose oldest ``created_at``
    is its detail."""

    qs: QuerySet
    age_of: QuerySet | None = None
    age_label: str = "oldest"


def _sql(qs: QuerySet, db: str) -> tuple[str, list]:
    sql, params = qs.query.get_compiler(using=db).as_sql()
    return sql, list(params)


def _count_sql(qs: QuerySet, cap: int, db: str) -> tuple[str, list]:
    """``COUNT(*)`` over a ``LIMIT cap + 1`` subquery: bounded whatever the number of rows."""
    if not qs.query.combinator:
        qs = qs.values("pk")  # the subquery selects keys only, none of qs's annotations
    sql, params = _sql(qs.order_by()[: cap + 1], db)
    return f"(SELECT count(*) FROM ({sql}) AS v)", params


def _oldest_sql(qs: QuerySet, db: str) -> tuple[str, list]:
    sql, params = _sql(qs.order_by("created_at").values("created_at")[:1], db)
    return f"({sql})", params


def bounded_counts(pending: list[PendingCount], cap: int | None = None) -> list[tuple[int, bool, object]]:
    """``(count, capped, oldest)`` of each :class:`PendingCount`: the count exact up to
    ``cap`` (default :data:`COUNT_CAP`), ``capped`` when there are more, ``oldest`` the
    first ``created_at`` of ``age_of`` (``None`` without one). One statement per database
    the reads are routed to, whatever the number of tiles: each count a scalar subquery."""
    cap = COUNT_CAP if cap is None else cap
    by_db: dict[str, list[int]] = {}
    for i, p in enumerate(pending):
        by_db.setdefault(p.qs.db, []).append(i)
    results: list = [None] * len(pending)
    for db, indexes in by_db.items():
        parts, params = [], []
        for i in indexes:
            sql, sql_params = _count_sql(pending[i].qs, cap, db)
            parts.append(sql)
            params += sql_params
            if pending[i].age_of is not None:
                sql, sql_params = _oldest_sql(pending[i].age_of, db)
                parts.append(sql)
                params += sql_params
        with connections[db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = iter(cursor.fetchone())
        for i in indexes:
            n = next(row)
            oldest = next(row) if pending[i].age_of is not None else None
            results[i] = (min(n, cap), n > cap, oldest)
    return results


def bounded_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """``(count, capped)`` of one queryset (:func:`bounded_counts`)."""
    count, capped, _ = bounded_counts([PendingCount(qs)], cap)[0]
    return count, capped


def age(since, now=None) -> str:
    """The time since ``since`` in its largest unit ("3 hours", "2 days")."""
    return durations.since(since, now)


def count_tile(
    label: str, url: str, qs: QuerySet, *, age_of: QuerySet | None = None, age_label: str = "oldest", **kwargs
) -> Tile:
    """A tile counting ``qs`` (the queryset of the list ``url`` opens), read by
    :func:`counted` with the page's other tiles.

    ``age_of``: when the count is not zero, the detail says the age of its oldest row by
    ``created_at`` ("oldest 3 hours"; the first row of a queue's index). Pass ``qs`` itself,
    or the same rows without the columns only the count's filters need."""
    return Tile(label=label, url=url, pending=PendingCount(qs, age_of, age_label), **kwargs)


def counted(tiles: list[Tile]) -> list[Tile]:
    """``tiles`` with the counts of the pending ones read, all in one statement."""
    pending = [t for t in tiles if t.pending is not None]
    figures = iter(bounded_counts([t.pending for t in pending]))
    done = []
    for tile in tiles:
        if tile.pending is None:
            done.append(tile)
            continue
        count, capped, oldest = next(figures)
        detail = tile.detail
        if count and oldest is not None:
            detail = f"{tile.pending.age_label} {age(oldest)}"
        done.append(replace(tile, count=count, capped=capped, detail=detail, pending=None))
    return done


def sections_for(request) -> list[dict]:
    """The sections of the user's roles, in order, each with its tiles and buttons; the
    counts of all their tiles read in one statement (:func:`counted`)."""
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
    tiles = iter(counted([tile for section in shown for tile in section["tiles"]]))
    for section in shown:
        section["tiles"] = [next(tiles) for _ in section["tiles"]]
    return shown


def recent_actions(request, limit: int = RECENT_ACTIONS) -> list[RecentAction]:
    """The user's own latest actions from every registered feed, newest first."""
    rows: list[RecentAction] = []
    for feed in action_feeds.ordered():
        rows += feed.rows(request.user, limit)
    return sorted(rows, key=lambda r: r.when, reverse=True)[:limit]
