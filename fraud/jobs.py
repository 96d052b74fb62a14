"""Scheduled, set-based computations of the fraud app.

* :func:`recalculate_trust_scores`: the trust engine. One SQL statement per batch of
  customers reads every input, scores them (the formulas of :mod:`fraud.conf`), upserts
  ``customer_trust_score``, and writes the history rows of the scores that moved. Only the
  risk-level changes come back to Python, for their audit entries.
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

from customer_ops.audit import audit
from customer_ops.context import current_actor
from fraud import conf
from fraud.choices import AlertSeverity
from fraud.models import Block
from fraud.scoring import TrustInputs

# --- the trust engine ------------------------------------------------------------------------

_TARGET_RANGE = "SELECT id AS customer_id FROM customers WHERE id BETWEEN %(lo)s AND %(hi)s"
_TARGET_IDS = "SELECT id AS customer_id FROM customers WHERE id = ANY(%(ids)s)"

# A block in force at %(now)s (fraud.selectors.in_force_q says the same in the ORM).
_IN_FORCE = """
    NOT b.is_unblocked AND b.blocked_at <= %(now)s
    AND (b.blocked_until IS NULL OR b.blocked_until > %(now)s OR NOT b.auto_unblock)
"""

# Every input of every target customer. Each CTE reads only the target customers' rows,
# through the tables' (customer_id, ...) indexes.
_INPUTS = f"""
target AS ({{target}}),
o AS (
    SELECT customer_id, count(*) AS orders,
           count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
           count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled
    FROM orders WHERE customer_id IN (SELECT customer_id FROM target) GROUP BY customer_id
),
pf AS (
    SELECT customer_id, count(*) AS failures FROM customer_activity_log
    WHERE activity_type = 'PAYMENT_FAILED' AND customer_id IN (SELECT customer_id FROM target)
    GROUP BY customer_id
),
cx AS (
    SELECT customer_id, count(*) AS raised, count(*) FILTER (WHERE rejected) AS rejected FROM (
        SELECT customer_id, dispute_status = 'REJECTED' AS rejected FROM customer_disputes
         WHERE customer_id IN (SELECT customer_id FROM target)
        UNION ALL
        SELECT customer_id, refund_status = 'REJECTED' FROM customer_refund_requests
         WHERE customer_id IN (SELECT customer_id FROM target)
    ) complaints GROUP BY customer_id
),
v AS (
    SELECT customer_id, count(DISTINCT verification_type) AS verified FROM customer_verification_history
    WHERE verification_status = 'SUCCESS' AND customer_id IN (SELECT customer_id FROM target)
    GROUP BY customer_id
),
al AS (
    SELECT customer_id, count(*) AS open_alerts,
           sum(CASE alert_severity
                 WHEN 'LOW' THEN %(pts_low)s WHEN 'MEDIUM' THEN %(pts_medium)s
                 WHEN 'HIGH' THEN %(pts_high)s WHEN 'CRITICAL' THEN %(pts_critical)s ELSE 0 END) AS points,
           count(*) FILTER (WHERE alert_severity = ANY(%(severe)s)) AS severe
    FROM customer_fraud_alerts
    WHERE NOT is_resolved AND customer_id IN (SELECT customer_id FROM target)
    GROUP BY customer_id
),
sa AS (
    SELECT customer_id, count(*) AS unreviewed FROM customer_suspicious_activity
    WHERE requires_review AND NOT reviewed AND customer_id IN (SELECT customer_id FROM target)
    GROUP BY customer_id
),
blocked AS (SELECT DISTINCT b.customer_id FROM customer_blocks b WHERE {_IN_FORCE}),
-- (customer, device) pairs of the target customers and of the blocked customers: both small.
target_devices AS (
    SELECT customer_id, device_id FROM customer_login_history
     WHERE customer_id IN (SELECT customer_id FROM target) AND device_id <> ''
    UNION SELECT customer_id, device_id FROM customer_sessions
     WHERE customer_id IN (SELECT customer_id FROM target) AND device_id <> ''
    UNION SELECT customer_id, device_id FROM customer_activity_log
     WHERE customer_id IN (SELECT customer_id FROM target) AND device_id <> ''
),
blocked_devices AS (
    SELECT customer_id, device_id FROM customer_login_history
     WHERE customer_id IN (SELECT customer_id FROM blocked) AND device_id <> ''
    UNION SELECT customer_id, device_id FROM customer_sessions
     WHERE customer_id IN (SELECT customer_id FROM blocked) AND device_id <> ''
    UNION SELECT customer_id, device_id FROM customer_activity_log
     WHERE customer_id IN (SELECT customer_id FROM blocked) AND device_id <> ''
),
lk AS (
    SELECT t.customer_id, count(DISTINCT bd.customer_id) AS blocked_linked
    FROM target_devices t JOIN blocked_devices bd ON bd.device_id = t.device_id AND bd.customer_id <> t.customer_id
    GROUP BY t.customer_id
),
inputs AS (
    SELECT t.customer_id,
           coalesce(o.orders, 0) AS orders, coalesce(o.completed, 0) AS completed,
           coalesce(o.cancelled, 0) AS cancelled, coalesce(pf.failures, 0) AS failures,
           coalesce(cx.raised, 0) AS raised, coalesce(cx.rejected, 0) AS rejected,
           coalesce(v.verified, 0) AS verified,
           coalesce(al.open_alerts, 0) AS open_alerts, coalesce(al.points, 0)::numeric AS alert_points,
           coalesce(al.severe, 0) AS severe, coalesce(sa.unreviewed, 0) AS unreviewed,
           coalesce(lk.blocked_linked, 0) AS blocked_linked,
           coalesce(ts.is_fraudulent, false) AS is_fraudulent
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

_UPSERT = f"""
prev AS (
    SELECT customer_id, {_SCORE_COLUMNS} FROM customer_trust_score
    WHERE customer_id IN (SELECT customer_id FROM target)
),
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
           %(now)s, 'Recalculated', CASE WHEN prev.customer_id IS NULL THEN '+' ELSE '~' END, %(user_id)s
    FROM up LEFT JOIN prev ON prev.customer_id = up.customer_id
    WHERE prev.customer_id IS NULL
       OR (prev.trust_score, prev.fraud_score, prev.risk_level, prev.payment_reliability_score,
           prev.order_completion_score, prev.false_complaint_score, prev.verification_score,
           prev.is_suspicious, prev.requires_review)
          IS DISTINCT FROM
          (up.trust_score, up.fraud_score, up.risk_level, up.payment_reliability_score,
           up.order_completion_score, up.false_complaint_score, up.verification_score,
           up.is_suspicious, up.requires_review)
    RETURNING 1
)
SELECT up.customer_id, prev.risk_level, up.risk_level, (SELECT count(*) FROM hist)
FROM up LEFT JOIN prev ON prev.customer_id = up.customer_id
WHERE prev.risk_level IS DISTINCT FROM up.risk_level
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
    }


def trust_inputs(customer_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, TrustInputs]:
    """What the engine reads for these customers, as it reads it (the explanation page)."""
    ids = list(customer_ids)
    sql = f"WITH {_INPUTS.format(target=_TARGET_IDS)} SELECT * FROM inputs"
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_params(now or timezone.now()), "ids": ids})
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


def _run_batch(target_sql: str, params: dict) -> tuple[list[tuple], int]:
    sql = f"WITH {_INPUTS.format(target=target_sql)}, {_SCORED}, {_UPSERT}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    history = rows[0][3] if rows else 0
    return [(cid, old, new) for cid, old, new, _ in rows], history


def _audit_risk_changes(changes: list[tuple[int, str | None, str]]) -> None:
    for customer_id, old, new in changes:
        if old is None and new == conf.LOWEST_RISK_LEVEL:
            continue  # a first calculation at the lowest level changes nothing worth auditing
        audit(
            customer_id=customer_id,
            action_type="UPDATE",
            action_field="risk_level",
            old_value=old,
            new_value=new,
            reason="Trust score recalculation",
        )


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
    is called after each batch.
    """
    started = time.monotonic()
    now = now or timezone.now()
    actor = current_actor()
    params = {**_params(now), "user_id": actor.actor_id if actor.actor_type != "SYSTEM" else None}
    result = RecalculationResult()
    batch_size = batch_size or conf.RECALCULATE_BATCH_SIZE

    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        chunks = [ids[k : k + batch_size] for k in range(0, len(ids), batch_size)]
        batches = [(_TARGET_IDS, {"ids": chunk}, len(chunk)) for chunk in chunks]
    else:
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
            batches = [(_TARGET_RANGE, {"lo": lo, "hi": hi}, n) for lo, hi, n in cursor.fetchall()]
    total = sum(n for _, _, n in batches)

    done = 0
    for target_sql, target_params, size in batches:
        with transaction.atomic():
            changes, history = _run_batch(target_sql, {**params, **target_params})
            _audit_risk_changes(changes)
        done += size
        result.risk_changes += changes
        result.history_rows += history
        if progress:
            progress(done, total, time.monotonic() - started)
    result.customers = total
    result.seconds = time.monotonic() - started
    return result


# --- auto-unblock ----------------------------------------------------------------------------


@dataclass
class UnblockResult:
    lifted: list[int] = field(default_factory=list)  # block ids


def unblock_expired(*, now: dt.datetime | None = None) -> UnblockResult:
    """Lift every block whose ``blocked_until`` has passed and that has ``auto_unblock``.

    One UPDATE (served by ``customer_blocks_expiry_idx``); the history and audit rows of the
    lifted blocks are written in the same transaction. Safe to re-run: a lifted block is
    never lifted twice.
    """
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE customer_blocks SET is_unblocked = true, unblocked_at = %(now)s,
                       unblock_reason = 'Expired: lifted automatically'
                WHERE NOT is_unblocked AND auto_unblock AND blocked_until IS NOT NULL AND blocked_until <= %(now)s
                RETURNING id
                """,
                {"now": now},
            )
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return UnblockResult()
        lifted = list(Block.objects.filter(pk__in=ids).order_by("id"))
        Block.history.bulk_history_create(lifted, update=True, default_change_reason="Expired: lifted automatically")
        for block in lifted:
            audit(
                customer_id=block.customer_id,
                action_type="STATUS_CHANGE",
                action_field="block",
                old_value=f"{block.block_type} {block.service_type or 'ALL'} in force",
                new_value="lifted",
                reason=f"Block #{block.pk} expired at {block.blocked_until:%Y-%m-%d %H:%M} UTC (auto-unblock)",
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
    entry); otherwise always run (the hourly full run, which serves pending requests too).
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
