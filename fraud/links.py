"""Blocked linked accounts, as the trust engine counts them (``fraud.conf``: one hop over a
shared device id in login history, sessions or the activity log; IP addresses left out).

Read from the blocked side, once per run: the devices of the blocked customers (their rows,
through the tables' customer indexes), then every other customer seen on those devices
(through the device indexes). Both sides are small whatever the number of customers, where
reading every scored customer's devices meant every row of the activity log.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

# A block in force at %(now)s (fraud.selectors.in_force_q says the same in the ORM).
IN_FORCE = """
    NOT b.is_unblocked AND b.blocked_at <= %(now)s
    AND (b.blocked_until IS NULL OR b.blocked_until > %(now)s OR NOT b.auto_unblock)
"""

BLOCKED_IN_FORCE = f"SELECT DISTINCT b.customer_id FROM customer_blocks b WHERE {IN_FORCE}"

# The tables that record the device a customer used (fraud.conf: IP addresses left out).
DEVICE_TABLES = ("customer_login_history", "customer_sessions", "customer_activity_log")


def _devices(condition: str) -> str:
    """The (customer, device) pairs of the rows matching ``condition`` in every device table;
    ``device_id <> ''`` matches the tables' partial device indexes."""
    return "\n    UNION ".join(
        f"SELECT customer_id, device_id FROM {table} WHERE {condition} AND device_id <> ''" for table in DEVICE_TABLES
    )


def _links_sql(blocked: str, users: str) -> str:
    """(customer, blocked customer, device) for every customer matching ``users`` seen on a
    device of a customer of ``blocked`` (read from the blocked side: a run)."""
    return f"""
WITH blocked AS ({blocked}),
blocked_devices AS ({_devices("customer_id IN (SELECT customer_id FROM blocked)")}),
users AS ({_devices(f"device_id IN (SELECT device_id FROM blocked_devices) AND {users}")})
SELECT DISTINCT u.customer_id, bd.customer_id, bd.device_id
FROM users u JOIN blocked_devices bd ON bd.device_id = u.device_id AND bd.customer_id <> u.customer_id
"""


# The same links seen from the other side, for a few given customers (a page): their own
# devices (their rows, through the customer indexes), every other customer on those devices
# (the device indexes), kept when that customer has a block in force. The cost follows the
# given customers' devices, not the number of blocked customers.
_LINKS_OF = f"""
WITH mine AS ({_devices("customer_id = ANY(%(ids)s)")}),
others AS ({_devices("device_id IN (SELECT device_id FROM mine)")})
SELECT DISTINCT m.customer_id, o.customer_id, o.device_id
FROM mine m JOIN others o ON o.device_id = m.device_id AND o.customer_id <> m.customer_id
WHERE EXISTS (SELECT 1 FROM customer_blocks b WHERE b.customer_id = o.customer_id AND {IN_FORCE})
"""


@dataclass(frozen=True)
class Link:
    customer_id: int
    blocked_id: int
    device_id: str


def links(
    *, now: dt.datetime, blocked_sql: str = BLOCKED_IN_FORCE, customer_ids: Iterable[int] | None = None, **params
) -> list[Link]:
    """Who shares a device with whom among the customers of ``blocked_sql`` (default: every
    customer with a block in force at ``now``); only ``customer_ids`` on the other side if given."""
    users = "true" if customer_ids is None else "customer_id = ANY(%(users)s)"
    sql = _links_sql(blocked_sql, users)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "now": now, "users": list(customer_ids or ())})
        return [Link(*row) for row in cursor.fetchall()]


def links_of(customer_ids: Iterable[int], *, now: dt.datetime) -> list[Link]:
    """The links of the given customers to customers with a block in force at ``now``: the
    rows :func:`links` gives for them, read from their side (for a page, not a run)."""
    with connection.cursor() as cursor:
        cursor.execute(_LINKS_OF, {"ids": list(customer_ids), "now": now})
        return [Link(*row) for row in cursor.fetchall()]


def blocked_linked_counts(found: Iterable[Link]) -> dict[int, int]:
    """``{customer_id: blocked linked accounts}``: distinct blocked customers per customer."""
    blocked = defaultdict(set)
    for link in found:
        blocked[link.customer_id].add(link.blocked_id)
    return {customer_id: len(ids) for customer_id, ids in blocked.items()}
