"""Scheduled, set-based computations of the fraud app.

* :func:`recalculate_trust_scores`: the trust engine. One SQL statement per batch of
  customers reads every input, scores them (the formulas of :mod:`fraud.conf`), upserts
  ``customer_trust_score``, and writes the history rows of the scores that moved. Only the
  risk-level changes come back to Python, for their audit entries (one INSERT per batch).
  The blocked linked accounts are read once per run, from the blocked side (:mod:`fraud.links`).
* :func:`recalculate_changed_trust_scores`: the hourly run, the same engine over only the
  customers whose inputs changed since the last run (:mod:`fraud.changes`).
* :func:`unblock_expired`: lifts the expired blocks that have ``auto_unblock``.

Both are idempotent and safe to re-run; ``manage.py recalculate_trust_scores`` and
``manage.py unblock_expired`` are their thin wrappers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from customer_ops.audit import AuditEntry, audit_many
from customer_ops.choices import EventType
from customer_ops.context import current_actor
from customer_ops.events import announce, outbox_insert_sql
from customer_ops.registry import register_daily_job
from fraud import changes, conf, links
from fraud.choices import AlertSeverity
from fraud.models import Block, TrustEngineRun
from fraud.scoring import TrustInputs

# --- the trust engine ------------------------------------------------------------------------

# A batch's customers: the rows of ``customers`` (target) and the same predicate on any
# table's ``customer_id`` (key), so that each input is read through that table's
# (customer_id, ...) index: a range for the full run's consecutive ids, a list otherwise.
_RANGE = ("SELECT id AS customer_id FROM customers WHERE id BETWEEN %(lo)s AND %(hi)s", "BETWEEN %(lo)s AND %(hi)s")
_IDS = ("SELECT id AS customer_id FROM customers WHERE id = ANY(%(ids)s)", "= ANY(%(ids)s)")

# Every input of every target customer, each CTE on the target customers' rows only. The
# blocked linked accounts are counted once per run (fraud.links) and come in as arrays.
_INPUTS = """
target AS ({target}),
o AS (
    SELECT customer_id, count(*) AS orders,
           count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
           count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled
    FROM orders WHERE customer_id {key} GROUP BY customer_id
),
pf AS (
    SELECT customer_id, count(*) AS failures FROM customer_activity_log
    WHERE activity_type = 'PAYMENT_FAILED' AND customer_id {key}
    GROUP BY customer_id
),
cx AS (
    SELECT customer_id, count(*) AS raised, count(*) FILTER (WHERE rejected) AS rejected FROM (
        SELECT customer_id, dispute_status = 'REJECTED' AS rejected FROM customer_disputes
         WHERE customer_id {key}
        UNION ALL
        SELECT customer_id, refund_status = 'REJECTED' FROM customer_refund_requests
         WHERE customer_id {key}
    ) complaints GROUP BY customer_id
),
v AS (
    SELECT customer_id, count(DISTINCT verification_type) AS verified FROM customer_verification_history
    WHERE verification_status = 'SUCCESS' AND customer_id {key}
    GROUP BY customer_id
),
al AS (
    SELECT customer_id, count(*) AS open_alerts,
           sum(CASE alert_severity
                 WHEN 'LOW' THEN %(pts_low)s WHEN 'MEDIUM' THEN %(pts_medium)s
                 WHEN 'HIGH' THEN %(pts_high)s WHEN 'CRITICAL' THEN %(pts_critical)s ELSE 0 END) AS points,
           count(*) FILTER (WHERE alert_severity = ANY(%(severe)s)) AS severe
    FROM customer_fraud_alerts
    WHERE NOT is_resolved AND customer_id {key}
    GROUP BY customer_id
),
sa AS (
    SELECT customer_id, count(*) AS unreviewed FROM customer_suspicious_activity
    WHERE requires_review AND NOT reviewed AND customer_id {key}
    GROUP BY customer_id
),
lk AS (SELECT * FROM unnest(%(lk_ids)s::bigint[], %(lk_counts)s::int[]) AS lk(customer_id, blocked_linked)),
inputs AS (
    SELECT t.customer_id,
           coalesce(o.orders, 0) AS orders, coalesce(o.completed, 0) AS completed,
           coalesce(o.cancelled, 0) AS cancelled, coalesce(pf.failures, 0) AS failures,
           coalesce(cx.raised, 0) AS raised, coalesce(cx.rejected, 0) AS rejected,
           coalesce(v.verified, 0) AS verified,
           coalesce(al.open_alerts, 0) AS open_alerts, coalesce(al.points, 0)::numeric AS alert_points,
           coalesce(al.severe, 0) AS severe, coalesce(sa.unreviewed, 0) AS unreviewed,
           coalesce(lk.blocked_linked, 0) AS blocked_linked,
           coalesce(ts.is_fraudulent, false) AS is_fraudulent,
           -- The stored row, read here once: the upsert's history and audit compare with it.
           ts.customer_id IS NOT NULL AS scored_before, ts.trust_score AS prev_trust_score,
           ts.fraud_score AS prev_fraud_score, ts.risk_level AS prev_risk_level,
           ts.payment_reliability_score AS prev_payment_reliability_score,
           ts.order_completion_score AS prev_order_completion_score,
           ts.false_complaint_score AS prev_false_complaint_score, ts.verification_score AS prev_verification_score,
           ts.is_suspicious AS prev_is_suspicious, ts.requires_review AS prev_requires_review
    FROM target t
    LEFT JOIN o ON o.customer_id = t.customer_id
    LEFT JOIN pf ON pf.customer_id = t.customer_id
    LEFT JOIN cx ON cx.customer_id = t.customer_id
    LEFT JOIN v ON v.customer_id = t.customer_id
    LEFT JOIN al ON al.customer_id = t.customer_id
    LEFT JOIN sa ON sa.customer_id = t.customer_id
    LEFT JOIN lk ON lk.customer_id = t.customer_id
    LEFT JOIN customer_trust_score ts ON ts.customer_id = t.customer_id
)"""

# The formulas of fraud.conf (fraud.scoring.compute is the same in Python).
_SCORED = """
components AS (
    SELECT i.*,
        CASE WHEN orders + failures > 0 THEN round(100.0 * orders / (orders + failures), 2) END AS pay,
        CASE WHEN completed + cancelled > 0 THEN round(100.0 * completed / (completed + cancelled), 2) END AS comp,
        CASE WHEN raised > 0 THEN round(100.0 * (raised - rejected) / raised, 2) END AS fc,
        round(100.0 * verified / %(verification_types)s, 2) AS ver,
        alert_points + %(pts_suspicious)s * unreviewed + %(pts_linked)s * blocked_linked AS signals
    FROM inputs i
),
based AS (
    SELECT c.*,
        (%(w_pay)s * coalesce(pay, %(no_data)s) + %(w_comp)s * coalesce(comp, %(no_data)s)
         + %(w_fc)s * coalesce(fc, %(no_data)s) + %(w_ver)s * ver)
        / (%(w_pay)s + %(w_comp)s + %(w_fc)s + %(w_ver)s) AS base
    FROM components c
),
scored AS (
    SELECT b.*,
        round(greatest(0, least(100, base - %(trust_factor)s * signals)), 2) AS trust,
        round(greatest(0, least(100, %(fraud_factor)s * (100 - base) + signals)), 2) AS fraud
    FROM based b
),
final AS (
    SELECT s.*,
        CASE WHEN is_fraudulent THEN 'CRITICAL'
             WHEN fraud >= %(t_critical)s THEN 'CRITICAL'
             WHEN fraud >= %(t_high)s THEN 'HIGH'
             WHEN fraud >= %(t_medium)s THEN 'MEDIUM'
             ELSE 'LOW' END AS risk
    FROM scored s
),
flagged AS (
    SELECT f.*,
        (fraud >= %(suspicious)s OR severe > 0) AS suspicious,
        (risk = ANY(%(review_levels)s) AND open_alerts + unreviewed > 0) AS review
    FROM final f
)"""

_SCORE_COLUMNS = (
    "trust_score, fraud_score, risk_level, payment_reliability_score, order_completion_score, "
    "false_complaint_score, verification_score, is_fraudulent, is_suspicious, requires_review"
)

# One ``customer.risk_level_changed`` event (customer_ops.events) per customer whose level
# moved, in the upsert's own statement; a first score at the lowest level moves nothing
# (as for the audit log).
_RISK_EVENTS = outbox_insert_sql(
    EventType.CUSTOMER_RISK_LEVEL_CHANGED,
    f"""
    SELECT up.customer_id, jsonb_build_object('customer_id', up.customer_id,
           'previous_risk_level', prev.prev_risk_level, 'risk_level', up.risk_level) AS data
    FROM up JOIN flagged prev ON prev.customer_id = up.customer_id
    WHERE prev.prev_risk_level IS DISTINCT FROM up.risk_level
      AND NOT (prev.prev_risk_level IS NULL AND up.risk_level = '{conf.LOWEST_RISK_LEVEL}')""",
)

_UPSERT = f"""
up AS (
    INSERT INTO customer_trust_score AS ts
        (customer_id, {_SCORE_COLUMNS}, last_calculated_at, created_at, updated_at)
    SELECT customer_id, trust, fraud, risk, pay, comp, fc, ver, false, suspicious, review, %(now)s, %(now)s, %(now)s
    FROM flagged
    ON CONFLICT (customer_id) DO UPDATE SET
        trust_score = EXCLUDED.trust_score, fraud_score = EXCLUDED.fraud_score,
        risk_level = EXCLUDED.risk_level,
        payment_reliability_score = EXCLUDED.payment_reliability_score,
        order_completion_score = EXCLUDED.order_completion_score,
        false_complaint_score = EXCLUDED.false_complaint_score,
        verification_score = EXCLUDED.verification_score,
        is_suspicious = EXCLUDED.is_suspicious, requires_review = EXCLUDED.requires_review,
        last_calculated_at = EXCLUDED.last_calculated_at
        -- is_fraudulent is the analyst's: never written here.
    RETURNING ts.id, ts.customer_id, {_SCORE_COLUMNS}, ts.last_calculated_at, ts.created_at, ts.updated_at
),
-- History only when a score or flag moved (or the row is new), so that "how the score
-- moved between recalculations" is not buried under identical nightly rows.
hist AS (
    INSERT INTO fraud_historicaltrustscore
        (id, customer_id, {_SCORE_COLUMNS}, last_calculated_at, created_at, updated_at,
         history_date, history_change_reason, history_type, history_user_id)
    SELECT up.id, up.customer_id, up.trust_score, up.fraud_score, up.risk_level, up.payment_reliability_score,
           up.order_completion_score, up.false_complaint_score, up.verification_score, up.is_fraudulent,
           up.is_suspicious, up.requires_review, up.last_calculated_at, up.created_at, up.updated_at,
           %(now)s, %(engine_reason)s, CASE WHEN prev.scored_before THEN '~' ELSE '+' END, %(user_id)s
    FROM up JOIN flagged prev ON prev.customer_id = up.customer_id
    WHERE NOT prev.scored_before
       OR (prev.prev_trust_score, prev.prev_fraud_score, prev.prev_risk_level, prev.prev_payment_reliability_score,
           prev.prev_order_completion_score, prev.prev_false_complaint_score, prev.prev_verification_score,
           prev.prev_is_suspicious, prev.prev_requires_review)
          IS DISTINCT FROM
          (up.trust_score, up.fraud_score, up.risk_level, up.payment_reliability_score,
           up.order_completion_score, up.false_complaint_score, up.verification_score,
           up.is_suspicious, up.requires_review)
    RETURNING 1
),
events AS ({_RISK_EVENTS})
SELECT up.customer_id, prev.prev_risk_level, up.risk_level, (SELECT count(*) FROM hist),
       (SELECT array_agg(id) FROM events)
FROM up JOIN flagged prev ON prev.customer_id = up.customer_id
WHERE prev.prev_risk_level IS DISTINCT FROM up.risk_level
"""


def _params(now: dt.datetime) -> dict:
    w = conf.COMPONENT_WEIGHTS
    p = conf.ALERT_SEVERITY_POINTS
    thresholds = dict(conf.RISK_THRESHOLDS)
    return {
        "now": now,
        "pts_low": p[AlertSeverity.LOW],
        "pts_medium": p[AlertSeverity.MEDIUM],
        "pts_high": p[AlertSeverity.HIGH],
        "pts_critical": p[AlertSeverity.CRITICAL],
        "severe": list(conf.SUSPICIOUS_ALERT_SEVERITIES),
        "pts_suspicious": conf.SUSPICIOUS_ACTIVITY_POINTS,
        "pts_linked": conf.BLOCKED_LINKED_ACCOUNT_POINTS,
        "verification_types": conf.VERIFICATION_TYPE_COUNT,
        "w_pay": w["payment_reliability_score"],
        "w_comp": w["order_completion_score"],
        "w_fc": w["false_complaint_score"],
        "w_ver": w["verification_score"],
        "no_data": conf.NO_DATA_COMPONENT_SCORE,
        "trust_factor": conf.TRUST_SIGNAL_FACTOR,
        "fraud_factor": conf.FRAUD_BASE_FACTOR,
        "t_critical": thresholds["CRITICAL"],
        "t_high": thresholds["HIGH"],
        "t_medium": thresholds["MEDIUM"],
        "suspicious": conf.SUSPICIOUS_THRESHOLD,
        "review_levels": list(conf.REVIEW_RISK_LEVELS),
        "engine_reason": changes.ENGINE_REASON,
    }


def _linked(counts: dict[int, int]) -> dict:
    """The blocked-linked counts as the statement's two arrays (the ``lk`` CTE)."""
    return {"lk_ids": list(counts), "lk_counts": list(counts.values())}


def trust_inputs(customer_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, TrustInputs]:
    """What the engine reads for these customers, as it reads it (the explanation page)."""
    ids = list(customer_ids)
    now = now or timezone.now()
    counts = links.blocked_linked_counts(links.links_of(ids, now=now))  # a page: from the customers' side
    target, key = _IDS
    sql = f"WITH {_INPUTS.format(target=target, key=key)} SELECT * FROM inputs"
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_params(now), **_linked(counts), "ids": ids})
        rows = cursor.fetchall()
    return {
        row[0]: TrustInputs(
            customer_id=row[0],
            orders=row[1],
            completed_orders=row[2],
            cancelled_orders=row[3],
            payment_failures=row[4],
            complaints_raised=row[5],
            complaints_rejected=row[6],
            verified_types=row[7],
            open_alerts=row[8],
            alert_points=Decimal(row[9]),
            severe_open_alerts=row[10],
            unreviewed_suspicious=row[11],
            blocked_linked_accounts=row[12],
            is_fraudulent=row[13],
        )
        for row in rows
    }


@dataclass
class RecalculationResult:
    customers: int = 0
    history_rows: int = 0
    risk_changes: list[tuple[int, str | None, str]] = field(default_factory=list)
    seconds: float = 0.0


def _run_batch(target: tuple[str, str], params: dict) -> tuple[list[tuple], int]:
    sql = f"WITH {_INPUTS.format(target=target[0], key=target[1])}, {_SCORED}, {_UPSERT}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    history = rows[0][3] if rows else 0
    announce((rows[0][4] or []) if rows else [])
    return [(cid, old, new) for cid, old, new, _, _ in rows], history


def _audit_risk_changes(changes: list[tuple[int, str | None, str]]) -> None:
    """One insert for the batch's risk-level changes (``audit_many``)."""
    audit_many(
        AuditEntry(
            customer_id=customer_id,
            action_type="UPDATE",
            action_field="risk_level",
            old_value=old,
            new_value=new,
            action_reason="Trust score recalculation",
        )
        for customer_id, old, new in changes
        # A first calculation at the lowest level changes nothing worth auditing.
        if not (old is None and new == conf.LOWEST_RISK_LEVEL)
    )


# A batch: (target, its parameters, its number of customers).
Batch = tuple[tuple[str, str], dict, int]


def _id_batches(ids: Iterable[int], batch_size: int) -> list[Batch]:
    ids = sorted(set(ids))
    chunks = [ids[k : k + batch_size] for k in range(0, len(ids), batch_size)]
    return [(_IDS, {"ids": chunk}, len(chunk)) for chunk in chunks]


def _range_batches(batch_size: int) -> list[Batch]:
    with connection.cursor() as cursor:
        # Batch bounds: every batch_size-th customer id (one index-only scan of the key).
        cursor.execute(
            """
            SELECT min(id), max(id), count(*) FROM (
                SELECT id, (row_number() OVER (ORDER BY id) - 1) / %s AS batch FROM customers
            ) numbered GROUP BY batch ORDER BY batch
            """,
            [batch_size],
        )
        return [(_RANGE, {"lo": lo, "hi": hi}, n) for lo, hi, n in cursor.fetchall()]


def _score_batches(
    batches: list[Batch], *, now: dt.datetime, linked: dict[int, int], started: float, progress
) -> RecalculationResult:
    """Each batch in its own transaction, with its audit entries; ``progress`` after each."""
    actor = current_actor()
    params = {
        **_params(now),
        **_linked(linked),
        "user_id": actor.actor_id if actor.actor_type != "SYSTEM" else None,
    }
    result = RecalculationResult(customers=sum(n for _, _, n in batches))
    done = 0
    for target, target_params, size in batches:
        with transaction.atomic():
            changes, history = _run_batch(target, {**params, **target_params})
            _audit_risk_changes(changes)
        done += size
        result.risk_changes += changes
        result.history_rows += history
        if progress:
            progress(done, result.customers, time.monotonic() - started)
    result.seconds = time.monotonic() - started
    return result


def recalculate_trust_scores(
    customer_ids: Iterable[int] | None = None,
    *,
    batch_size: int | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> RecalculationResult:
    """Recompute the trust scores of the given customers (default: every customer).

    Set-based: one statement per batch of ``batch_size`` customers (consecutive ids),
    each in its own transaction with its audit entries. ``progress(done, total, seconds)``
    is called after each batch. A run over every customer is recorded
    (:class:`fraud.models.TrustEngineRun`): the hourly incremental run starts from it.
    """
    started = time.monotonic()
    now = now or timezone.now()
    batch_size = batch_size or conf.RECALCULATE_BATCH_SIZE
    if customer_ids is not None:
        ids = list(customer_ids)
        linked = links.blocked_linked_counts(links.links(now=now, customer_ids=ids))
        return _score_batches(_id_batches(ids, batch_size), now=now, linked=linked, started=started, progress=progress)
    linked = links.blocked_linked_counts(links.links(now=now))
    result = _score_batches(_range_batches(batch_size), now=now, linked=linked, started=started, progress=progress)
    TrustEngineRun.record(kind=TrustEngineRun.Kind.FULL, now=now, customers=result.customers)
    return result


def recalculate_changed_trust_scores(
    *,
    batch_size: int | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> RecalculationResult:
    """The hourly run: only the customers whose inputs changed since the last recorded run
    (full or incremental), found through indexes (:mod:`fraud.changes`). Without a recorded
    run it is a full run."""
    started = time.monotonic()
    now = now or timezone.now()
    last = TrustEngineRun.last()
    if last is None:
        return recalculate_trust_scores(batch_size=batch_size, now=now, progress=progress)
    since = last.started_at - conf.INCREMENTAL_OVERLAP
    in_force = links.links(now=now)
    ids = changes.changed_customers(since=since, now=now, in_force=in_force)
    batches = _id_batches(ids, batch_size or conf.RECALCULATE_BATCH_SIZE)
    linked = links.blocked_linked_counts(in_force)
    result = _score_batches(batches, now=now, linked=linked, started=started, progress=progress)
    TrustEngineRun.record(kind=TrustEngineRun.Kind.INCREMENTAL, now=now, customers=result.customers, since=since)
    return result


# --- auto-unblock ----------------------------------------------------------------------------


@dataclass
class UnblockResult:
    lifted: list[int] = field(default_factory=list)  # block ids


# The lift and its ``block.lifted`` events (customer_ops.events) in one statement.
_UNBLOCK_EXPIRED_SQL = f"""
WITH lifted AS (
    UPDATE customer_blocks SET is_unblocked = true, unblocked_at = %(now)s,
           unblock_reason = 'Expired: lifted automatically'
    WHERE NOT is_unblocked AND auto_unblock AND blocked_until IS NOT NULL AND blocked_until <= %(now)s
    RETURNING id, customer_id, block_type, service_type, unblocked_at
),
events AS ({
    outbox_insert_sql(
        EventType.BLOCK_LIFTED,
        "SELECT customer_id, jsonb_build_object('customer_id', customer_id, 'block_id', id, 'block_type', block_type,"
        " 'service_type', service_type, 'unblocked_at', unblocked_at, 'automatic', true) AS data FROM lifted",
    )
})
SELECT coalesce((SELECT array_agg(id ORDER BY id) FROM lifted), '{{}}'),
       coalesce((SELECT array_agg(id) FROM events), '{{}}')
"""


def unblock_expired(*, now: dt.datetime | None = None) -> UnblockResult:
    """Lift every block whose ``blocked_until`` has passed and that has ``auto_unblock``.

    One UPDATE (served by ``customer_blocks_expiry_idx``); the history and audit rows of the
    lifted blocks are written in the same transaction, each kind by one INSERT. Safe to re-run: a lifted block is
    never lifted twice.
    """
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_UNBLOCK_EXPIRED_SQL, {"now": now})
            ids, events = cursor.fetchone()
        if not ids:
            return UnblockResult()
        announce(events)
        lifted = list(Block.objects.filter(pk__in=ids).order_by("id"))
        Block.history.bulk_history_create(lifted, update=True, default_change_reason="Expired: lifted automatically")
        audit_many(
            AuditEntry(
                customer_id=block.customer_id,
                action_type="STATUS_CHANGE",
                action_field="block",
                old_value=f"{block.block_type} {block.service_type or 'ALL'} in force",
                new_value="lifted",
                action_reason=f"Block #{block.pk} expired at {block.blocked_until:%Y-%m-%d %H:%M} UTC (auto-unblock)",
            )
            for block in lifted
        )
    return UnblockResult(lifted=ids)


# --- full recalculation on request (the trust-score page's "Recalculate all") ------------------


def next_requested_run(now: dt.datetime | None = None) -> dt.datetime:
    """When cron's ``recalculate_trust_scores --requested`` next starts (README's schedule)."""
    every = conf.RECALCULATION_REQUEST_EVERY_MINUTES
    start = (now or timezone.now()).replace(second=0, microsecond=0)
    return start + dt.timedelta(minutes=every - start.minute % every)


def run_requested_recalculation(
    *, only_if_requested: bool, batch_size: int | None = None, progress=None
) -> RecalculationResult | None:
    """A full recalculation that serves every pending request, with its progress on them.

    ``only_if_requested``: do nothing (None) unless a request is pending (the frequent cron
    entry); otherwise always run (the nightly full run, which serves pending requests too).
    Requests are claimed under ``FOR UPDATE SKIP LOCKED``, so two overlapping jobs never
    claim the same one; a claim older than ``RECALCULATION_STALE_AFTER`` (a killed run) is
    claimed again.
    """
    from fraud.models import TrustRecalculation

    now = timezone.now()
    claimable = TrustRecalculation.objects.filter(finished_at__isnull=True).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=now - conf.RECALCULATION_STALE_AFTER)
    )
    with transaction.atomic():
        mine = list(claimable.select_for_update(skip_locked=True).values_list("pk", flat=True))
        TrustRecalculation.objects.filter(pk__in=mine).update(started_at=now, customers_done=0)
    if not mine and only_if_requested:
        return None
    claimed = TrustRecalculation.objects.filter(pk__in=mine)

    def report(done: int, total: int, seconds: float) -> None:
        claimed.update(customers_done=done, customers_total=total)  # autocommit: the page sees it now
        if progress:
            progress(done, total, seconds)

    result = recalculate_trust_scores(batch_size=batch_size, progress=report)
    claimed.update(finished_at=timezone.now(), customers_done=result.customers, customers_total=result.customers)
    return result


# --- lists: raise what matched (fraud.lists) ----------------------------------------------------


def run_list_matches(days) -> str:
    """The daily run: log rows of the range (or, for ``--all-customers``, the backtest window)."""
    from fraud.lists import raise_list_matches

    since = days.params()["start"] if days is not None else timezone.now() - dt.timedelta(days=conf.BACKTEST_DAYS)
    return f"{raise_list_matches(since=since)} suspicious activities raised from list matches"


register_daily_job(key="fraud_list_matches", label="list matches", run=run_list_matches, order=90)
