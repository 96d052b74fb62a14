"""Reads over the logs that more than one caller needs (fraud evidence, referral checks).

They live beside the logs they read, so ``fraud`` and the referral job can both use them
without a circular import.
"""

from __future__ import annotations

from django.db import connection

# Where a customer's devices and IP addresses are recorded.
_SIGNALS_SQL = """
    SELECT 'device_id' AS kind, device_id AS value FROM customer_login_history
     WHERE customer_id = %(c)s AND device_id <> ''
    UNION SELECT 'ip_address', ip_address FROM customer_login_history
     WHERE customer_id = %(c)s AND ip_address <> ''
    UNION SELECT 'device_id', device_id FROM customer_sessions WHERE customer_id = %(c)s AND device_id <> ''
    UNION SELECT 'ip_address', ip_address FROM customer_sessions WHERE customer_id = %(c)s AND ip_address <> ''
    UNION SELECT 'device_id', device_id FROM customer_activity_log WHERE customer_id = %(c)s AND device_id <> ''
    UNION SELECT 'ip_address', ip_address FROM customer_activity_log
     WHERE customer_id = %(c)s AND ip_address <> ''
"""


def shared_signals(customer_a: int, customer_b: int) -> dict[str, list[str]]:
    """The device ids and IP addresses that two customers have both used.

    ``{"device_id": [...], "ip_address": [...]}``, empty lists when they share nothing.
    Each branch is served by the logs' ``(customer_id, created_at)`` indexes.
    """
    sql = (
        f"SELECT kind, value FROM ({_SIGNALS_SQL.replace('%(c)s', '%(a)s')}) a "
        f"INTERSECT SELECT kind, value FROM ({_SIGNALS_SQL.replace('%(c)s', '%(b)s')}) b ORDER BY 1, 2"
    )
    shared: dict[str, list[str]] = {"device_id": [], "ip_address": []}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"a": customer_a, "b": customer_b})
        for kind, value in cursor.fetchall():
            shared[kind].append(value)
    return shared
