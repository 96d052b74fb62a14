"""The referral lifecycle: referrals completed or expired, their rewards created, held for
the fraud team when the two customers share a device or an IP, or sent to processing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from analytics.choices import ReferralStatus
from analytics.models import Referral, RewardHold
from analytics.selectors import shared_signals
from customer_ops.audit import audit

# Progress of the PENDING referrals: the referred customer's completed orders placed since
# the referral was made and completed by its deadline. The referral completes at the moment
# its ``required_orders``-th such order completed; it expires once the deadline has passed
# short of that. COMPLETED and EXPIRED referrals are final and never revisited.
REFERRAL_PROGRESS_SQL = """
    WITH progress AS (
        SELECT r.id, r.referral_status AS old_status, r.referred_customer_id,
               count(o.id)::int AS n,
               (array_agg(coalesce(o.completed_at, o.created_at) ORDER BY coalesce(o.completed_at, o.created_at), o.id)
                  FILTER (WHERE o.id IS NOT NULL))[r.required_orders] AS reached_at,
               r.required_orders, r.completion_deadline
        FROM customer_referrals r
        LEFT JOIN orders o
               ON o.customer_id = r.referred_customer_id
              AND o.status = 'COMPLETED'
              AND o.created_at >= r.created_at
              AND coalesce(o.completed_at, o.created_at) <= %(as_of)s
              AND (r.completion_deadline IS NULL OR coalesce(o.completed_at, o.created_at) <= r.completion_deadline)
        WHERE r.referral_status = 'PENDING'
        GROUP BY r.id
    ),
    decided AS (
        SELECT id, old_status, referred_customer_id, n,
               CASE WHEN n >= required_orders THEN 'COMPLETED'
                    WHEN completion_deadline < %(as_of)s THEN 'EXPIRED'
                    ELSE 'PENDING' END AS new_status,
               CASE WHEN n >= required_orders THEN reached_at END AS completed_at
        FROM progress
    )
    UPDATE customer_referrals r
       SET completed_orders = d.n, referral_status = d.new_status, completed_at = d.completed_at
      FROM decided d
     WHERE r.id = d.id
       AND (r.completed_orders, r.referral_status, r.completed_at) IS DISTINCT FROM (d.n, d.new_status, d.completed_at)
    RETURNING r.id, d.referred_customer_id, d.old_status, d.new_status
"""

# One reward per side of each completed referral, never two (the unique constraint
# customer_referral_rewards_one_per_side is the backstop); a side without a reward
# configured gets none.
REWARD_CREATE_SQL = """
    INSERT INTO customer_referral_rewards
        (referral_id, customer_id, reward_type, reward_amount, reward_status, coupon_code, created_at)
    SELECT r.id, side.customer_id, side.reward_type, side.reward_amount, 'PENDING', '', now()
    FROM customer_referrals r
    CROSS JOIN LATERAL (VALUES
        (r.referrer_customer_id, r.referrer_reward_type, r.referrer_reward_amount),
        (r.referred_customer_id, r.referred_reward_type, r.referred_reward_amount)
    ) AS side (customer_id, reward_type, reward_amount)
    WHERE r.referral_status = 'COMPLETED'
      AND side.reward_type IS NOT NULL AND side.reward_amount IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM customer_referral_rewards x WHERE x.referral_id = r.id AND x.customer_id = side.customer_id
      )
    ON CONFLICT (referral_id, customer_id) DO NOTHING
    RETURNING id, referral_id, customer_id
"""

# PENDING rewards with no undecided hold go to the reward system.
REWARD_START_SQL = """
    UPDATE customer_referral_rewards w SET reward_status = 'PROCESSING'
    WHERE w.reward_status = 'PENDING'
      AND NOT EXISTS (SELECT 1 FROM analytics_reward_hold h WHERE h.reward_id = w.id AND h.status <> 'RELEASED')
    RETURNING w.id
"""


@dataclass(frozen=True)
class ReferralResult:
    completed: int
    expired: int
    progressed: int
    rewards_created: int
    rewards_held: int
    rewards_processing: int

    def __str__(self) -> str:
        return (
            f"referrals: {self.completed} completed, {self.expired} expired, {self.progressed} progressed; "
            f"rewards: {self.rewards_created} created, {self.rewards_held} held for fraud review, "
            f"{self.rewards_processing} sent to processing"
        )


def run_referrals(*, as_of: dt.datetime | None = None) -> ReferralResult:
    """Advance the referral lifecycle as of ``as_of`` (now by default).

    1. PENDING referrals: ``completed_orders``, and COMPLETED (with ``completed_at``) or EXPIRED;
    2. a PENDING reward per side of each newly completed referral;
    3. a reward whose referrer and referred customer share a device id or an IP address is
       held (:class:`analytics.models.RewardHold`) for the fraud team, with the shared signal;
       only a fraud analyst releases or fails it (:mod:`analytics.services`);
    4. PENDING rewards not held move to PROCESSING, for the reward system to complete or fail.
    """
    as_of = as_of or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(REFERRAL_PROGRESS_SQL, {"as_of": as_of})
        changes = cursor.fetchall()
        for _referral_id, customer_id, old, new in changes:
            if old != new:  # one audit entry per status change, not per progress tick
                audit(
                    customer_id=customer_id,
                    action_type="STATUS_CHANGE",
                    action_field="referral_status",
                    old_value=old,
                    new_value=new,
                    reason="Referral job",
                )
        cursor.execute(REWARD_CREATE_SQL)
        created = cursor.fetchall()
        held = _hold_linked_rewards(created)
        cursor.execute(REWARD_START_SQL)
        processing = cursor.rowcount
    return ReferralResult(
        completed=sum(1 for c in changes if c[3] == ReferralStatus.COMPLETED),
        expired=sum(1 for c in changes if c[3] == ReferralStatus.EXPIRED),
        progressed=len(changes),
        rewards_created=len(created),
        rewards_held=held,
        rewards_processing=processing,
    )


def _hold_linked_rewards(created: list[tuple[int, int, int]]) -> int:
    """Hold the new rewards of referrals whose two customers share a device or an IP.

    One :func:`shared_signals` look-up per newly completed referral (a handful a day), not
    per customer.
    """
    referral_ids = sorted({referral_id for _, referral_id, _ in created})
    if not referral_ids:
        return 0
    pairs = Referral.objects.filter(pk__in=referral_ids).values_list(
        "pk", "referrer_customer_id", "referred_customer_id"
    )
    holds = []
    for referral_id, referrer_id, referred_id in pairs:
        signals = shared_signals(referrer_id, referred_id)
        if not any(signals.values()):
            continue
        for reward_id, r_id, customer_id in created:
            if r_id == referral_id:
                holds.append(RewardHold(reward_id=reward_id, shared_signals=signals))
                audit(
                    customer_id=customer_id,
                    action_type="STATUS_CHANGE",
                    action_field="reward_hold",
                    old_value=None,
                    new_value=RewardHold.Status.HELD,
                    reason=f"Referrer and referred customer share {_describe(signals)}",
                )
    RewardHold.objects.bulk_create(holds)
    return len(holds)


def _describe(signals: dict[str, list[str]]) -> str:
    parts = [f"{kind.replace('_', ' ')} {', '.join(values)}" for kind, values in signals.items() if values]
    return "; ".join(parts)
