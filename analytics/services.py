"""Referral reward workflow: the one write path for reward status and reward holds.

Lifecycle of a ``customer_referral_rewards`` row::

    PENDING --(referral job)--> PROCESSING --(reward system)--> COMPLETED | FAILED
       |  held (shared device/IP)
       +--(fraud analyst: release)--> PENDING, picked up by the next job run
       +--(fraud analyst: fail)-----> FAILED

The job (:func:`analytics.jobs.run_referrals`) creates and holds rewards and sends the
unheld ones to PROCESSING; the reward system reports the outcome through
:func:`reward_complete` / :func:`reward_fail`; only a fraud analyst (``change_rewardhold``)
decides a hold. Every function checks its own caller (whoever calls it: the admin, a job,
the service API), is atomic, locks its rows, validates the transition and writes the audit
entry with the change, recording the actor through ``customer_ops.context.audit_actor``.

Refusals are :class:`RewardError`, of the three kinds of ``customer_ops.errors``: not
allowed (the actor), conflict (the hold or reward is no longer in the state the step
needs), invalid (the input).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from analytics.choices import HoldStatus, RewardStatus
from analytics.ingest import MAX_LOG_ROWS, LogInvalid, activity_log_append, login_history_append
from analytics.models import Referral, ReferralReward, RewardHold
from customer_ops.audit import audit
from customer_ops.context import SYSTEM, audit_actor
from customer_ops.errors import Conflict, DomainError, Invalid, NotAllowed
from customer_ops.permissions import checked_inside, requires

# The systems' logs (analytics.ingest) are offered here too: the app's one write path.
__all__ = [
    "DECIDE_HOLD_PERMISSION",
    "MAX_LOG_ROWS",
    "LogInvalid",
    "RewardConflict",
    "RewardError",
    "RewardInvalid",
    "RewardNotAllowed",
    "activity_log_append",
    "login_history_append",
    "reward_complete",
    "reward_fail",
    "reward_hold_fail",
    "reward_hold_release",
]

DECIDE_HOLD_PERMISSION = "analytics.change_rewardhold"
DECIDER_ONLY = "Your role may not decide a held reward: only a fraud analyst may release or fail it."


class RewardError(DomainError):
    """A refused reward or hold transition; the admin shows it as a message."""


class RewardNotAllowed(RewardError, NotAllowed):
    pass


class RewardConflict(RewardError, Conflict):
    pass


class RewardInvalid(RewardError, Invalid):
    pass


def _lock_hold(hold: RewardHold) -> tuple[RewardHold, ReferralReward]:
    hold = RewardHold.objects.select_for_update().get(pk=hold.pk)
    reward = ReferralReward.objects.select_for_update().get(pk=hold.reward_id)
    return hold, reward


def _check_decider(actor) -> None:
    """A hold is decided by a person (``decided_by``): an active staff user with the permission."""
    if not (getattr(actor, "is_active", False) and actor.has_perm(DECIDE_HOLD_PERMISSION)):
        raise RewardNotAllowed(DECIDER_ONLY)


def _check_reward_system(actor) -> None:
    """A payment's outcome is reported by the reward system (a job: ``SYSTEM``), never by staff
    or, until the service API declares it, a calling system."""
    if not (actor is None or actor is SYSTEM):
        raise RewardNotAllowed("Your role may not report a reward's payment: only the reward system does.")


def _decide(hold: RewardHold, *, actor, status: str, reason: str) -> tuple[RewardHold, ReferralReward]:
    _check_decider(actor)
    reason = (reason or "").strip()
    if not reason:
        raise RewardInvalid("Give a reason for the decision.", field="reason")
    hold, reward = _lock_hold(hold)
    if hold.status != HoldStatus.HELD:
        raise RewardConflict(f"This hold was already decided ({hold.get_status_display().lower()}).")
    if reward.reward_status != RewardStatus.PENDING:
        raise RewardConflict(f"The reward is {reward.reward_status}, not PENDING: nothing to decide.")
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
        actor=audit_actor(actor),
    )
    return hold, reward


@requires(DECIDE_HOLD_PERMISSION, error=RewardNotAllowed, message=DECIDER_ONLY)
@transaction.atomic
def reward_hold_release(*, hold: RewardHold, actor, reason: str) -> RewardHold:
    """A fraud analyst clears a held reward: it stays PENDING and the next job run sends it on."""
    hold, _ = _decide(hold, actor=actor, status=HoldStatus.RELEASED, reason=reason)
    return hold


@requires(DECIDE_HOLD_PERMISSION, error=RewardNotAllowed, message=DECIDER_ONLY)
@transaction.atomic
def reward_hold_fail(*, hold: RewardHold, actor, reason: str) -> RewardHold:
    """A fraud analyst refuses a held reward: it is FAILED and never paid."""
    hold, reward = _decide(hold, actor=actor, status=HoldStatus.FAILED, reason=reason)
    _set_status(reward, RewardStatus.FAILED, reason=reason, actor=actor)
    return hold


def _set_status(reward: ReferralReward, status: str, *, reason: str, actor, **fields) -> None:
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
        actor=audit_actor(actor),
    )


def _lock_processing(reward: ReferralReward) -> ReferralReward:
    reward = ReferralReward.objects.select_for_update().get(pk=reward.pk)
    if reward.reward_status != RewardStatus.PROCESSING:
        raise RewardConflict(f"The reward is {reward.reward_status}, not PROCESSING.")
    return reward


@checked_inside("the reward system's alone (a job: SYSTEM): every staff member and calling system is refused")
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
    _check_reward_system(actor)
    reward = _lock_processing(reward)
    references = {
        "CASH": ("wallet_transaction_id", wallet_transaction_id),
        "COUPON": ("coupon_code", coupon_code),
        "POINTS": ("points_transaction_id", points_transaction_id),
    }[reward.reward_type]
    if not references[1]:
        raise RewardInvalid(
            f"A {reward.reward_type} reward is completed with its {references[0].replace('_', ' ')}.",
            field=references[0],
        )
    _set_status(reward, RewardStatus.COMPLETED, reason="Reward paid", actor=actor, **{references[0]: references[1]})
    referral = Referral.objects.select_for_update().get(pk=reward.referral_id)
    side = "referrer" if reward.customer_id == referral.referrer_customer_id else "referred"
    setattr(referral, f"{side}_reward_given", True)
    setattr(referral, f"{side}_reward_given_at", reward.processed_at)
    referral.save(update_fields=[f"{side}_reward_given", f"{side}_reward_given_at", "updated_at"])
    return reward


@checked_inside("the reward system's alone (a job: SYSTEM): every staff member and calling system is refused")
@transaction.atomic
def reward_fail(*, reward: ReferralReward, reason: str, actor=None) -> ReferralReward:
    """The reward system could not pay the reward: FAILED."""
    _check_reward_system(actor)
    reward = _lock_processing(reward)
    _set_status(reward, RewardStatus.FAILED, reason=reason or "Payment failed", actor=actor)
    return reward
