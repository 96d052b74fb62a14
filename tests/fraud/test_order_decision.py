"""The order-time decision (order approval, on every order): one query, and each reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fraud import conf, selectors
from fraud.selectors import DecisionBlock, order_decision
from tests.assertions import explain
from tests.factories import BlockFactory, CustomerFactory, TrustScoreFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def customer():
    return CustomerFactory()


def _may(customer, service) -> bool:
    return order_decision(customer.pk, service).may_order


def test_a_customer_with_nothing_against_them_may_order_with_the_spec_defaults(customer):
    decision = order_decision(customer.pk, "FOOD")
    assert (decision.customer_id, decision.service, decision.may_order, decision.may_pay) == (
        customer.pk,
        "FOOD",
        True,
        True,
    )
    assert (decision.blocks, decision.risk_level, decision.requires_review) == ((), "LOW", False)
    assert (decision.trust_score, decision.fraud_score) == (Decimal("100"), Decimal("0"))
    assert decision.customer_status == "ACTIVE"


def test_an_unknown_customer_is_none():
    assert order_decision(10**12, "RIDE") is None


def test_an_unknown_service_is_refused(customer):
    with pytest.raises(ValueError, match="Unknown service type"):
        order_decision(customer.pk, "GROCERY")


def test_exactly_one_query(customer, django_assert_num_queries):
    TrustScoreFactory(customer=customer)
    BlockFactory(customer=customer, service_type=None)
    BlockFactory(customer=customer, block_type="PAYMENT_BLOCK", service_type="FOOD")
    with django_assert_num_queries(1):
        decision = order_decision(customer.pk, "FOOD")
    assert len(decision.blocks) == 2
    with django_assert_num_queries(1):
        assert order_decision(10**12, "FOOD") is None


def test_a_block_for_food_refuses_food_only(customer):
    until = NOW + 48 * HOUR
    BlockFactory(customer=customer, service_type="FOOD", blocked_until=until)
    decision = order_decision(customer.pk, "FOOD")
    assert decision.may_order is False and decision.may_pay is False
    assert decision.blocks == (DecisionBlock("SERVICE_BLOCK", "FOOD", until),)
    for service in ("PARCEL", "RIDE"):
        assert _may(customer, service) and order_decision(customer.pk, service).blocks == ()


def test_a_block_of_every_service_and_an_account_block_refuse_every_service():
    everything = BlockFactory(service_type=None).customer
    account = BlockFactory(block_type="ACCOUNT_BLOCK", service_type=None).customer
    for service in ("FOOD", "PARCEL", "RIDE"):
        assert not _may(everything, service) and not _may(account, service)
    assert order_decision(everything.pk, "RIDE").blocks == (DecisionBlock("SERVICE_BLOCK", None, None),)
    assert order_decision(account.pk, "RIDE").blocks[0].block_type == "ACCOUNT_BLOCK"


def test_a_payment_block_lets_the_customer_order_but_not_pay(customer):
    BlockFactory(customer=customer, block_type="PAYMENT_BLOCK", service_type="PARCEL")
    decision = order_decision(customer.pk, "PARCEL")
    assert (decision.may_order, decision.may_pay) == (True, False)
    assert decision.blocks == (DecisionBlock("PAYMENT_BLOCK", "PARCEL", None),)
    assert order_decision(customer.pk, "FOOD").may_pay


def test_blocks_not_in_force_do_not_count(customer):
    BlockFactory(customer=customer, service_type=None, is_unblocked=True, unblocked_at=NOW)  # lifted
    BlockFactory(customer=customer, blocked_at=NOW - 48 * HOUR, blocked_until=NOW - HOUR)  # expired, auto-unblock
    BlockFactory(customer=customer, blocked_at=NOW + HOUR)  # not started yet
    decision = order_decision(customer.pk, "FOOD")
    assert decision.may_order and decision.blocks == ()


def test_an_expired_block_without_auto_unblock_stays_in_force(customer):
    """As everywhere in the project (fraud.selectors.in_force_q): the date is a review date."""
    until = NOW - HOUR
    BlockFactory(customer=customer, blocked_at=NOW - 48 * HOUR, blocked_until=until, auto_unblock=False)
    decision = order_decision(customer.pk, "FOOD")
    assert not decision.may_order and decision.blocks == (DecisionBlock("SERVICE_BLOCK", "FOOD", until),)


def test_the_decision_agrees_with_is_blocked(customer):
    """One rule of "in force" and of what a block covers: the decision reuses them."""
    other = CustomerFactory()
    BlockFactory(customer=customer, service_type="RIDE")
    BlockFactory(customer=other, block_type="PAYMENT_BLOCK", service_type=None)
    for who in (customer, other):
        for service in ("FOOD", "PARCEL", "RIDE"):
            decision = order_decision(who.pk, service)
            assert decision.may_order == (not selectors.is_blocked(who, service))
            assert decision.may_pay == (not selectors.is_blocked(who, service, payment=True))


@pytest.mark.parametrize("status", ["SUSPENDED", "CLOSED", "ANONYMISED"])
def test_an_account_that_is_not_active_may_not_order(status):
    decision = order_decision(CustomerFactory(status=status).pk, "FOOD")
    assert (decision.may_order, decision.may_pay, decision.customer_status, decision.blocks) == (
        False,
        False,
        status,
        (),
    )


def test_risk_scores_and_review_are_reported_and_do_not_refuse_by_default(customer):
    TrustScoreFactory(customer=customer, trust_score=12, fraud_score=88, risk_level="CRITICAL", requires_review=True)
    decision = order_decision(customer.pk, "RIDE")
    assert (decision.risk_level, decision.trust_score, decision.fraud_score, decision.requires_review) == (
        "CRITICAL",
        Decimal("12.00"),
        Decimal("88.00"),
        True,
    )
    assert decision.may_order is True and conf.DECISION_REFUSED_RISK_LEVELS == ()


def test_risk_levels_the_settings_refuse(customer, monkeypatch):
    TrustScoreFactory(customer=customer, fraud_score=60, risk_level="HIGH")
    monkeypatch.setattr(conf, "DECISION_REFUSED_RISK_LEVELS", ("HIGH", "CRITICAL"))
    assert not _may(customer, "FOOD")
    monkeypatch.setattr(conf, "DECISION_REFUSED_RISK_LEVELS", ("CRITICAL",))
    assert _may(customer, "FOOD")


def test_review_alone_does_not_refuse(customer):
    TrustScoreFactory(customer=customer, requires_review=True, risk_level="MEDIUM")
    decision = order_decision(customer.pk, "PARCEL")
    assert decision.requires_review and decision.may_order


def test_an_index_serves_the_blocks(customer):
    BlockFactory(customer=customer)
    with CaptureQueriesContext(connection) as queries:
        order_decision(customer.pk, "FOOD")
    (query,) = queries.captured_queries
    plan = explain(query["sql"], bitmap_only=True)
    assert plan.uses("customer_blocks") & {"customer_blocks_active_idx", "customer_blocks_customer_idx"}, plan.text
    assert plan.uses("customer_trust_score") and plan.uses("customers"), plan.text
    assert not plan.whole, plan.text


def test_the_decision_is_frozen(customer):
    decision = order_decision(customer.pk, "FOOD")
    with pytest.raises(AttributeError):
        decision.may_order = False  # type: ignore[misc]
