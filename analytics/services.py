"""Referral reward workflow: the one write path for reward status and reward holds.

Lifecycle of a ``customer_referral_rewards`` row::

    PENDING --(referral job)--> PROCESSING --(reward system)--> COMPLETED | FAILED
       |  held (shared device/IP)
       +--(fraud analyst: release)--> PENDING, picked up by the next job run
       +--(fraud analyst: fail)-----> FAILED

The job (:func:`analytics.jobs.run_referrals`) creates and holds rewards and sends the
unheld ones to PROCESSING; the reward system reports the outcome through
:func:`reward_complete` / :func:`reward_fail`; only a fraud analyst (``change_rewardhold``)
decides a hold. Every function is atomic, locks its rows, validates the transition and
writes the audit entry with the change.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from analytics.choices import HoldStatus, RewardStatus
from analytics.models import Referral, ReferralReward, RewardHold
from customer_ops.audit import audit

DECIDE_HOLD_PERMISSION = "analytics.change_rewardhold"


class RewardError(Exception):
    """A refused reward or hold transition; the admin shows it as a message."""


def _lock_hold(hold: RewardHold) -> tuple[RewardHold, ReferralReward]:
    hold = RewardHold.objects.select_for_update().get(pk=hold.pk)
    reward = ReferralReward.objects.select_for_update().get(pk=hold.reward_id)
    return hold, reward


def _check_decider(actor) -> None:
    if actor is None or not actor.has_perm(DECIDE_HOLD_PERMISSION):
        raise RewardError("Only a fraud analyst may release or fail a held reward.")


def _decide(hold: RewardHold, *, actor, status: str, reason: str) -> tuple[RewardHold, ReferralReward]:
    _check_decider(actor)
    reason = (reason or "").strip()
    if not reason:
        raise RewardError("Give a reason for the decision.")
    hold, reward = _lock_hold(hold)
    if hold.status != HoldStatus.HELD:
        raise RewardError(f"This hold was already decided ({hold.get_status_display().lower()}).")
    if reward.reward_status != RewardStatus.PENDING:
        raise RewardError(f"The reward is {reward.reward_status}, not PENDING: nothing to decide.")
    hold.status = status
    hold.decided_by = actor
    hold.decided_at = timezone.now()
    hold.decision_reason = reason
    hold.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit(
        customer_id=reward.customer_id,
        action_type="STATUS_CHANGE",
        action_field="reward_hold",
        old_value=HoldStatus.HELD,
        new_value=status,
        reason=reason,
    )
    return hold, reward


@transaction.atomic
def reward_hold_release(*, hold: RewardHold, actor, reason: str) -> RewardHold:
    """A fraud analyst clears a held reward: it stays PENDING and the next job run sends it on."""
    hold, _ = _decide(hold, actor=actor, status=HoldStatus.RELEASED, reason=reason)
    return hold


@transaction.atomic
def reward_hold_fail(*, hold: RewardHold, actor, reason: str) -> RewardHold:
    """A fraud analyst refuses a held reward: it is FAILED and never paid."""
    hold, reward = _decide(hold, actor=actor, status=HoldStatus.FAILED, reason=reason)
    _set_status(reward, RewardStatus.FAILED, reason=reason)
    return hold


def _set_status(reward: ReferralReward, status: str, *, reason: str, **fields) -> None:
    old = reward.reward_status
    reward.reward_status = status
    reward.processed_at = timezone.now()
    for name, value in fields.items():
        setattr(reward, name, value)
    reward.save(update_fields=["reward_status", "processed_at", *fields])
    audit(
        customer_id=reward.customer_id,
        action_type="STATUS_CHANGE",
        action_field="reward_status",
        old_value=old,
        new_value=status,
        reason=reason,
    )


def _lock_processing(reward: ReferralReward) -> ReferralReward:
    reward = ReferralReward.objects.select_for_update().get(pk=reward.pk)
    if reward.reward_status != RewardStatus.PROCESSING:
        raise RewardError(f"The reward is {reward.reward_status}, not PROCESSING.")
    return reward


@transaction.atomic
def reward_complete(
    *,
    reward: ReferralReward,
    actor=None,
    coupon_code: str = "",
    wallet_transaction_id: int | None = None,
    points_transaction_id: int | None = None,
) -> ReferralReward:
    """The reward system paid the reward: COMPLETED, and the referral's side marked given."""
    reward = _lock_processing(reward)
    references = {
        "CASH": ("wallet_transaction_id", wallet_transaction_id),
        "COUPON": ("coupon_code", coupon_code),
        "POINTS": ("points_transaction_id", points_transaction_id),
    }[reward.reward_type]
    if not references[1]:
        raise RewardError(f"A {reward.reward_type} reward is completed with its {references[0].replace('_', ' ')}.")
    _set_status(reward, RewardStatus.COMPLETED, reason="Reward paid", **{references[0]: references[1]})
    referral = Referral.objects.select_for_update().get(pk=reward.referral_id)
    side = "referrer" if reward.customer_id == referral.referrer_customer_id else "referred"
    setattr(referral, f"{side}_reward_given", True)
    setattr(referral, f"{side}_reward_given_at", reward.processed_at)
    referral.save(update_fields=[f"{side}_reward_given", f"{side}_reward_given_at", "updated_at"])
    return reward


@transaction.atomic
def reward_fail(*, reward: ReferralReward, reason: str, actor=None) -> ReferralReward:
    """The reward system could not pay the reward: FAILED."""
    reward = _lock_processing(reward)
    _set_status(reward, RewardStatus.FAILED, reason=reason or "Payment failed")
    return reward
