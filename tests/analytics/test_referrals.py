"""The referral lifecycle: progress, completion, expiry, one reward per side, the fraud hold
and the reward services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps

from analytics import jobs, services
from analytics.models import Referral, ReferralReward, RewardHold
from compliance.models import AuditLog
from customer_ops import errors
from customer_ops.context import CallingSystem
from customer_ops.roles import Role
from tests.assertions import unchanged
from tests.factories import (
    CustomerFactory,
    CustomerSessionFactory,
    LoginHistoryFactory,
    OrderFactory,
    ReferralFactory,
)

# What a refused call could have written: each refusal re-reads it (tests/README.md).
APP_TABLES = tuple(apps.get_app_config("analytics").get_models())

UTC = dt.UTC
T0 = dt.datetime(2025, 3, 1, 12, tzinfo=UTC)


def _referral(**kwargs) -> Referral:
    defaults = dict(
        created_at=T0,
        required_orders=2,
        completion_deadline=T0 + dt.timedelta(days=30),
        referrer_reward_type="CASH",
        referrer_reward_amount=Decimal("10.00"),
        referred_reward_type="COUPON",
        referred_reward_amount=Decimal("5.00"),
    )
    return ReferralFactory(**{**defaults, **kwargs})


def _completed_order(customer, days: float, **kwargs):
    created = T0 + dt.timedelta(days=days)
    return OrderFactory(
        customer=customer, created_at=created, completed_at=created + dt.timedelta(minutes=40), **kwargs
    )


@pytest.mark.django_db
def test_referral_counts_completed_orders_and_completes_when_required_is_reached():
    referral = _referral()
    _completed_order(referral.referred_customer, 1)
    OrderFactory(customer=referral.referred_customer, created_at=T0 + dt.timedelta(days=1), status="CANCELLED")
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    referral.refresh_from_db()
    assert (referral.referral_status, referral.completed_orders, referral.completed_at) == ("PENDING", 1, None)

    second = _completed_order(referral.referred_customer, 3)
    result = jobs.run_referrals(as_of=T0 + dt.timedelta(days=4))
    referral.refresh_from_db()
    assert referral.referral_status == "COMPLETED"
    assert referral.completed_orders == 2
    assert referral.completed_at == second.completed_at
    assert result.completed == 1
    assert AuditLog.objects.filter(action_field="referral_status", new_value="COMPLETED").count() == 1


@pytest.mark.django_db
def test_orders_before_the_referral_or_after_the_deadline_do_not_count_and_it_expires():
    referral = _referral()
    _completed_order(referral.referred_customer, -1)  # before the referral
    _completed_order(referral.referred_customer, 2)
    _completed_order(referral.referred_customer, 31)  # after the deadline
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=40))
    referral.refresh_from_db()
    assert (referral.referral_status, referral.completed_orders, referral.completed_at) == ("EXPIRED", 1, None)
    assert not ReferralReward.objects.exists()


@pytest.mark.django_db
def test_pending_before_the_deadline_does_not_expire():
    referral = _referral()
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=29))
    referral.refresh_from_db()
    assert referral.referral_status == "PENDING"


@pytest.mark.django_db
def test_a_completed_referral_gets_one_reward_per_side_never_two():
    referral = _referral(required_orders=1)
    _completed_order(referral.referred_customer, 1)
    first = jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    again = jobs.run_referrals(as_of=T0 + dt.timedelta(days=3))

    rewards = {r.customer_id: r for r in ReferralReward.objects.all()}
    assert set(rewards) == {referral.referrer_customer_id, referral.referred_customer_id}
    assert rewards[referral.referrer_customer_id].reward_type == "CASH"
    assert rewards[referral.referrer_customer_id].reward_amount == Decimal("10.00")
    assert rewards[referral.referred_customer_id].reward_type == "COUPON"
    assert {r.reward_status for r in rewards.values()} == {"PROCESSING"}
    assert (first.rewards_created, again.rewards_created, again.progressed) == (2, 0, 0)


@pytest.mark.django_db
def test_a_side_without_a_configured_reward_gets_none():
    referral = _referral(required_orders=1, referred_reward_type=None, referred_reward_amount=None)
    _completed_order(referral.referred_customer, 1)
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    assert list(ReferralReward.objects.values_list("customer_id", flat=True)) == [referral.referrer_customer_id]


# --- the fraud hold -------------------------------------------------------------------------


def _linked_referral() -> Referral:
    referrer, referred = CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=referrer, device_id="shared-phone", ip_address="10.1.1.1")
    CustomerSessionFactory(customer=referred, device_id="shared-phone", ip_address="10.2.2.2")
    referral = _referral(referrer_customer=referrer, referred_customer=referred, required_orders=1)
    _completed_order(referred, 1)
    return referral


@pytest.mark.django_db
def test_a_referral_whose_customers_share_a_device_is_held_not_paid():
    referral = _linked_referral()
    result = jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=3))  # and stays held on the next run

    assert result.rewards_held == 2
    for reward in ReferralReward.objects.filter(referral=referral):
        assert reward.reward_status == "PENDING"
        assert reward.hold.status == "HELD"
        assert reward.hold.shared_signals == {"device_id": ["shared-phone"], "ip_address": []}
    referral.refresh_from_db()
    assert not referral.referrer_reward_given and not referral.referred_reward_given
    assert AuditLog.objects.filter(action_field="reward_hold", new_value="HELD").count() == 2


@pytest.mark.django_db
def test_a_referral_whose_customers_share_nothing_is_not_held():
    referral = _referral(required_orders=1)
    LoginHistoryFactory(customer=referral.referrer_customer, device_id="a", ip_address="10.0.0.1")
    LoginHistoryFactory(customer=referral.referred_customer, device_id="b", ip_address="10.0.0.2")
    _completed_order(referral.referred_customer, 1)
    result = jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    assert not RewardHold.objects.exists()
    # ... because the rewards went straight to processing, not because none were made.
    assert (result.rewards_created, result.rewards_held, result.rewards_processing) == (2, 0, 2)
    assert set(ReferralReward.objects.filter(referral=referral).values_list("reward_status", flat=True)) == {
        "PROCESSING"
    }


@pytest.fixture
def held(db):
    referral = _linked_referral()
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    return RewardHold.objects.filter(reward__customer=referral.referrer_customer).get()


def test_a_fraud_analyst_releases_a_hold_and_the_next_run_sends_the_reward_on(held, make_staff):
    analyst = make_staff(Role.FRAUD)
    services.reward_hold_release(hold=held, actor=analyst, reason="Family sharing a phone, checked")
    held.refresh_from_db()
    assert (held.status, held.decided_by, held.reward.reward_status) == ("RELEASED", analyst, "PENDING")

    jobs.run_referrals(as_of=T0 + dt.timedelta(days=3))
    rewards = {r.pk: r.reward_status for r in ReferralReward.objects.all()}
    assert rewards[held.reward_id] == "PROCESSING"
    assert sorted(rewards.values()) == ["PENDING", "PROCESSING"]  # the other side is still held
    assert AuditLog.objects.filter(action_field="reward_hold", new_value="RELEASED").exists()


def test_a_fraud_analyst_fails_a_hold(held, make_staff):
    services.reward_hold_fail(hold=held, actor=make_staff(Role.FRAUD), reason="Same person, two accounts")
    held.refresh_from_db()
    assert held.status == "FAILED"
    assert held.reward.reward_status == "FAILED" and held.reward.processed_at is not None
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=3))
    held.reward.refresh_from_db()
    assert held.reward.reward_status == "FAILED"


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LEAD, Role.AGENT, None])
def test_only_a_fraud_analyst_may_decide_a_hold(held, make_staff, role):
    with unchanged(*APP_TABLES), pytest.raises(services.RewardError, match="fraud analyst"):
        services.reward_hold_release(hold=held, actor=make_staff(role), reason="x")
    held.refresh_from_db()
    assert held.status == "HELD"


def test_a_decision_needs_a_reason_and_happens_once(held, make_staff):
    analyst = make_staff(Role.FRAUD)
    with unchanged(*APP_TABLES), pytest.raises(services.RewardError, match="reason"):
        services.reward_hold_fail(hold=held, actor=analyst, reason="  ")
    services.reward_hold_fail(hold=held, actor=analyst, reason="Fraud")
    with unchanged(*APP_TABLES), pytest.raises(services.RewardError, match="already decided"):
        services.reward_hold_release(hold=held, actor=analyst, reason="Changed my mind")
    held.refresh_from_db()
    assert held.status == "FAILED"


def test_hold_refusals_are_of_the_common_kinds(held, make_staff):
    """Not allowed (the role), invalid (the input), conflict (already decided): a caller maps
    them without knowing the app (customer_ops.errors)."""
    analyst = make_staff(Role.FRAUD)
    with unchanged(*APP_TABLES), pytest.raises(errors.NotAllowed, match="may not"):
        services.reward_hold_release(hold=held, actor=make_staff(Role.LEAD), reason="x")
    with unchanged(*APP_TABLES), pytest.raises(errors.NotAllowed, match="may not"):
        services.reward_hold_release(hold=held, actor=CallingSystem(name="rewards"), reason="x")
    with unchanged(*APP_TABLES), pytest.raises(errors.Invalid, match="reason") as invalid:
        services.reward_hold_fail(hold=held, actor=analyst, reason="")
    assert invalid.value.field == "reason"
    services.reward_hold_fail(hold=held, actor=analyst, reason="Fraud")
    with unchanged(*APP_TABLES), pytest.raises(errors.Conflict, match="already decided"):
        services.reward_hold_release(hold=held, actor=analyst, reason="Changed my mind")


def test_the_audit_entry_names_the_analyst_who_decided(held, make_staff):
    analyst = make_staff(Role.FRAUD)  # called outside a request: the context's actor is SYSTEM
    services.reward_hold_fail(hold=held, actor=analyst, reason="Same person, two accounts")
    entries = AuditLog.objects.filter(action_field__in=["reward_hold", "reward_status"], new_value="FAILED")
    assert sorted(entries.values_list("action_field", "actor_id")) == [
        ("reward_hold", analyst.pk),
        ("reward_status", analyst.pk),
    ]


# --- the reward system's outcome ----------------------------------------------------------


@pytest.fixture
def processing(db):
    referral = _referral(required_orders=1)
    _completed_order(referral.referred_customer, 1)
    jobs.run_referrals(as_of=T0 + dt.timedelta(days=2))
    return {r.reward_type: r for r in ReferralReward.objects.all()}


def test_completing_a_reward_marks_the_referral_side_given(processing):
    cash = services.reward_complete(reward=processing["CASH"], wallet_transaction_id=771)
    coupon = services.reward_complete(reward=processing["COUPON"], coupon_code="WELCOME5")
    assert (cash.reward_status, cash.wallet_transaction_id) == ("COMPLETED", 771)
    assert (coupon.reward_status, coupon.coupon_code) == ("COMPLETED", "WELCOME5")
    referral = Referral.objects.get()
    assert referral.referrer_reward_given and referral.referred_reward_given
    assert referral.referrer_reward_given_at == cash.processed_at


def test_completing_needs_the_payment_reference_and_a_processing_reward(processing):
    with unchanged(*APP_TABLES), pytest.raises(services.RewardError, match="wallet transaction id"):
        services.reward_complete(reward=processing["CASH"])
    services.reward_fail(reward=processing["CASH"], reason="Wallet closed")
    with unchanged(*APP_TABLES), pytest.raises(services.RewardError, match="not PROCESSING"):
        services.reward_complete(reward=processing["CASH"], wallet_transaction_id=1)
    reward = ReferralReward.objects.get(pk=processing["CASH"].pk)
    assert reward.reward_status == "FAILED" and reward.wallet_transaction_id is None
    assert not Referral.objects.get().referrer_reward_given


@pytest.mark.parametrize("role", [Role.FRAUD, Role.LEAD, None])
def test_only_the_reward_system_reports_a_payment(processing, make_staff, role):
    for actor in (make_staff(role), CallingSystem(name="api-client")):
        with unchanged(*APP_TABLES), pytest.raises(errors.NotAllowed, match="may not"):
            services.reward_complete(reward=processing["CASH"], actor=actor, wallet_transaction_id=1)
        with unchanged(*APP_TABLES), pytest.raises(errors.NotAllowed, match="may not"):
            services.reward_fail(reward=processing["CASH"], actor=actor, reason="x")
