"""Which customers' trust inputs changed since a moment: the hourly incremental run's targets.

Every input of the engine (``fraud.conf``) is listed here with the index that finds its
changes, so that the hourly run reads an hour of changes and never a whole table:

* orders: ``updated_at`` (trigger-kept, set on insert too; ``orders_updated_idx``);
* payment failures: new ``PAYMENT_FAILED`` activity (``activity_log_type_idx``; the log is
  append-only);
* disputes and refund requests: ``updated_at`` (``*_updated_idx``);
* verifications: new rows (``verification_created_idx``; append-only);
* fraud alerts and suspicious activities: new rows (``*_created_idx``) and every change,
  which only the services make, each with a history row (``history_date`` indexes);
* the analyst's fraud flag: the trust score's history rows not written by the engine
  (``trust_history_by_others_idx``, partial: the engine's rows are left out);
* new customers (``customers_created_idx``): their first score;
* blocked linked accounts: the customers linked to a block that was created, lifted, came
  into force or expired in the window (history, ``blocked_at`` and expiry indexes), and
  the links to a block in force that a new login, session or activity row may have made.

Deleted rows leave no trace (an erasure keeps its rows; nothing else deletes inputs), and
neither do changes of the weights in settings: the nightly full run covers both.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from fraud.links import Link, links

_CHANGED = """
SELECT customer_id FROM orders WHERE updated_at >= %(since)s
UNION SELECT customer_id FROM customer_activity_log
 WHERE activity_type = 'PAYMENT_FAILED' AND created_at >= %(since)s
UNION SELECT customer_id FROM customer_disputes WHERE updated_at >= %(since)s
UNION SELECT customer_id FROM customer_refund_requests WHERE updated_at >= %(since)s
UNION SELECT customer_id FROM customer_verification_history WHERE created_at >= %(since)s
UNION SELECT customer_id FROM customer_fraud_alerts WHERE created_at >= %(since)s
UNION SELECT customer_id FROM fraud_historicalfraudalert WHERE history_date >= %(since)s
UNION SELECT customer_id FROM customer_suspicious_activity WHERE created_at >= %(since)s
UNION SELECT customer_id FROM fraud_historicalsuspiciousactivity WHERE history_date >= %(since)s
UNION SELECT customer_id FROM fraud_historicaltrustscore
 WHERE history_date >= %(since)s AND history_change_reason IS DISTINCT FROM %(engine_reason)s
UNION SELECT id FROM customers WHERE created_at >= %(since)s
UNION SELECT l.customer_id
  FROM unnest(%(link_customers)s::bigint[], %(link_blocked)s::bigint[], %(link_devices)s::text[])
       AS l(customer_id, blocked_id, device_id)
  JOIN (
      -- Rows since the last run on the linked devices (the device indexes): a new link.
      SELECT customer_id, device_id FROM customer_login_history
       WHERE device_id = ANY(%(link_devices)s) AND device_id <> '' AND created_at >= %(since)s
      UNION SELECT customer_id, device_id FROM customer_sessions
       WHERE device_id = ANY(%(link_devices)s) AND device_id <> '' AND started_at >= %(since)s
      UNION SELECT customer_id, device_id FROM customer_activity_log
       WHERE device_id = ANY(%(link_devices)s) AND device_id <> '' AND created_at >= %(since)s
  ) seen ON seen.device_id = l.device_id AND seen.customer_id IN (l.customer_id, l.blocked_id)
"""

# Customers whose blocks changed, or came into force or expired, in [since, now].
_BLOCKS_CHANGED = """
SELECT customer_id FROM fraud_historicalblock WHERE history_date >= %(since)s
UNION SELECT customer_id FROM customer_blocks WHERE blocked_at >= %(since)s AND blocked_at <= %(now)s
UNION SELECT customer_id FROM customer_blocks
 WHERE auto_unblock AND NOT is_unblocked AND blocked_until >= %(since)s AND blocked_until <= %(now)s
"""

#: The history_change_reason of the engine's own history rows (fraud.jobs).
ENGINE_REASON = "Recalculated"


def changed_customers(*, since: dt.datetime, now: dt.datetime, in_force: list[Link]) -> list[int]:
    """The customers whose trust inputs may have changed in [since, now]; ``in_force`` is
    the links to the blocks in force at ``now`` (``fraud.links.links``), which the run has
    read anyway."""
    params = {
        "since": since,
        "now": now,
        "engine_reason": ENGINE_REASON,
        "link_customers": [link.customer_id for link in in_force],
        "link_blocked": [link.blocked_id for link in in_force],
        "link_devices": [link.device_id for link in in_force],
    }
    with connection.cursor() as cursor:
        cursor.execute(_CHANGED, params)
        changed = {row[0] for row in cursor.fetchall()}
    changed.update(link.customer_id for link in links(now=now, blocked_sql=_BLOCKS_CHANGED, since=since))
    return sorted(changed)
