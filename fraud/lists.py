"""Lists: what an entry matches, its backtest before it is saved, and the set-based job that
raises a suspicious activity per matching customer and entry.

A *match* is a ``customer_login_history`` or ``customer_activity_log`` row with the entry's
device id, an address inside its range, or (email domains) any row of a customer whose email
is at the domain. Each kind is read through its index: ``login_history_device_idx`` /
``activity_log_device_idx`` (device id), ``login_history_inet_idx`` /
``activity_log_inet_idx`` (GiST inet_ops, ``<<=``), ``customers_email_domain_idx`` then the
logs' ``(customer_id, created_at)`` indexes (domain).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from customer_ops.permissions import requires
from fraud import conf
from fraud.choices import ListKind

LOGS = ("customer_login_history", "customer_activity_log")

# The spec's activity types have no "list match"; the closest is used, and the evidence and
# description say which entry matched (the review queue shows both).
ACTIVITY_TYPE = "UNUSUAL_ORDER_PATTERN"


def normalise(kind: str, value: str) -> tuple[str, str | None]:
    """(value as stored, network or None); ValueError with a message for the analyst."""
    value = (value or "").strip()
    if not value:
        raise ValueError("Enter the value to list.")
    if kind == ListKind.IP_RANGE:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError("Enter an IP address (203.0.113.7) or a range in CIDR form (203.0.113.0/24).") from None
        if network.num_addresses > 2 ** (network.max_prefixlen - 8):
            raise ValueError("A range wider than a /8 (IPv4) would match too much: list a narrower one.")
        return str(network), str(network)
    if kind == ListKind.EMAIL_DOMAIN:
        domain = value.lower().lstrip("@")
        if "@" in domain or "." not in domain or " " in domain:
            raise ValueError("Enter a domain such as mailinator.com (without the @).")
        return domain, None
    if kind == ListKind.DEVICE_ID:
        return value, None
    raise ValueError("Choose what the entry lists.")


def _row_condition(kind: str, alias: str) -> str:
    """The SQL condition of a log row (``alias``) matching the entry's ``%(value)s``."""
    if kind == ListKind.DEVICE_ID:
        return f"{alias}.device_id <> '' AND {alias}.device_id = %(value)s"
    if kind == ListKind.IP_RANGE:
        return f"{alias}.ip_address <> '' AND fraud_inet({alias}.ip_address) <<= %(value)s::cidr"
    return f"{alias}.customer_id IN (SELECT id FROM customers WHERE lower(split_part(email, '@', 2)) = %(value)s)"


def backtest_sql(kind: str) -> str:
    """Customers and rows matched, over at most ``%(cap)s + 1`` rows: an entry as broad as a
    domain every customer shares stops at the cap (milliseconds) instead of counting millions."""
    rows = " UNION ALL ".join(
        f"SELECT l.customer_id FROM {log} l WHERE {_row_condition(kind, 'l')} AND l.created_at >= %(since)s"
        for log in LOGS
    )
    return f"SELECT count(DISTINCT customer_id), count(*) FROM ({rows} LIMIT %(cap)s + 1) AS matched"


@dataclass(frozen=True)
class Backtest:
    customers: int
    rows: int
    days: int
    capped: bool = False  # more rows than BACKTEST_MAX_ROWS matched: both figures are lower bounds


def backtest(kind: str, value: str, *, now: dt.datetime | None = None) -> Backtest:
    """What the entry would have matched over the last :data:`fraud.conf.BACKTEST_DAYS` days."""
    value, _ = normalise(kind, value)
    since = (now or timezone.now()) - dt.timedelta(days=conf.BACKTEST_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(backtest_sql(kind), {"value": value, "since": since, "cap": conf.BACKTEST_MAX_ROWS})
        customers, rows = cursor.fetchone()
    capped = rows > conf.BACKTEST_MAX_ROWS
    return Backtest(customers=customers, rows=min(rows, conf.BACKTEST_MAX_ROWS), days=conf.BACKTEST_DAYS, capped=capped)


# --- the job ---------------------------------------------------------------------------------

_MATCHES = """
SELECT DISTINCT e.id AS entry_id, l.customer_id
FROM fraud_list_entries e
JOIN {log} l ON {condition}
WHERE e.kind = '{kind}' AND (e.expires_at IS NULL OR e.expires_at > %(now)s)
  AND l.created_at >= GREATEST(e.created_at, %(since)s)
"""

_CONDITIONS = {
    ListKind.DEVICE_ID: "l.device_id <> '' AND l.device_id = e.value",
    ListKind.IP_RANGE: "l.ip_address <> '' AND fraud_inet(l.ip_address) <<= e.network",
    ListKind.EMAIL_DOMAIN: (
        "l.customer_id IN (SELECT id FROM customers WHERE lower(split_part(email, '@', 2)) = e.value)"
    ),
}

RAISE_SQL = """
WITH matches AS ({matches}),
fresh AS (
    SELECT DISTINCT m.entry_id, m.customer_id FROM matches m
    WHERE NOT EXISTS (
        SELECT 1 FROM fraud_list_hits h WHERE h.entry_id = m.entry_id AND h.customer_id = m.customer_id
    )
),
raised AS (
    INSERT INTO customer_suspicious_activity
        (customer_id, activity_type, activity_description, detected_by, evidence, action_recommended)
    SELECT f.customer_id, %(activity_type)s,
           'Matched list entry #' || e.id || ' (' || e.kind || '): ' || e.reason,
           'SYSTEM',
           jsonb_build_object('list_entry_id', e.id, 'list_kind', e.kind),
           'Check the customer''s activity against the listed ' || lower(replace(e.kind, '_', ' '))
    FROM fresh f JOIN fraud_list_entries e ON e.id = f.entry_id
    RETURNING id, customer_id, (evidence ->> 'list_entry_id')::bigint AS entry_id
)
INSERT INTO fraud_list_hits (entry_id, customer_id, activity_id, created_at)
SELECT entry_id, customer_id, id, %(now)s FROM raised
"""

# One run at a time: two overlapping runs would both see a customer as fresh.
LOCK_KEY = 25_0001


# The service API's log ingest looks back this far after each batch (a batch whose run was
# skipped, below, is caught by the next one or by the daily job).
INGEST_WINDOW = dt.timedelta(minutes=10)


def raise_list_matches(*, since: dt.datetime | None = None, now: dt.datetime | None = None, wait: bool = True) -> int:
    """Raise one suspicious activity per (live entry, customer) matched by a log row written
    since ``since`` (default: a day ago) and after the entry was added; a pair already raised
    is never raised again. Returns how many were raised. ``wait=False`` (the ingest path)
    returns 0 at once while another run holds the lock, so batches never queue behind it."""
    now = now or timezone.now()
    since = since or now - dt.timedelta(days=1)
    parts = [
        _MATCHES.format(log=log, kind=kind, condition=condition)
        for kind, condition in _CONDITIONS.items()
        for log in LOGS
    ]
    sql = RAISE_SQL.format(matches=" UNION ".join(parts))
    with transaction.atomic(), connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                return 0
        cursor.execute(sql, {"now": now, "since": since, "activity_type": ACTIVITY_TYPE})
        return cursor.rowcount


def raise_list_matches_after_ingest() -> int:
    """The ingest path's run: the rows of the last :data:`INGEST_WINDOW`, without waiting."""
    now = timezone.now()
    return raise_list_matches(since=now - INGEST_WINDOW, now=now, wait=False)


# --- the service ------------------------------------------------------------------------------


@requires("fraud.add_listentry", what="add list entries")
@transaction.atomic
def list_entry_add(*, kind: str, value: str, reason: str, actor, expires_at: dt.datetime | None = None):
    """List a device id, an IP address or range, or an email domain, with a reason and an
    optional expiry; the matches from now on are raised by :func:`raise_list_matches`."""
    from fraud.models import ListEntry
    from fraud.services import FraudInvalid

    try:
        value, network = normalise(kind, value)
    except ValueError as error:
        raise FraudInvalid(str(error), field="value") from None
    reason = (reason or "").strip()
    if not reason:
        raise FraudInvalid("Say why the value is listed.", field="reason")
    if expires_at is not None and expires_at <= timezone.now():
        raise FraudInvalid("An expiry must be in the future.", field="expires_at")
    staff = actor if getattr(actor, "is_authenticated", False) else None
    return ListEntry.objects.create(
        kind=kind, value=value, network=network, reason=reason, added_by=staff, expires_at=expires_at
    )
