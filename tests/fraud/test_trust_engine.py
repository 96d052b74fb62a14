"""The trust engine on hand-built data with known answers (formulas: fraud.conf)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.models import AuditLog
from fraud.jobs import recalculate_trust_scores, trust_inputs
from fraud.models import TrustScore
from fraud.scoring import TrustInputs, compute, risk_level_for
from tests.factories import (
    ActivityLogFactory,
    BlockFactory,
    CustomerFactory,
    CustomerSessionFactory,
    DisputeFactory,
    FraudAlertFactory,
    LoginHistoryFactory,
    OrderFactory,
    RefundRequestFactory,
    SuspiciousActivityFactory,
    TrustScoreFactory,
    VerificationHistoryFactory,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _score(customer) -> TrustScore:
    return TrustScore.objects.get(customer=customer)


def _orders(customer, completed=0, cancelled=0, placed=0):
    for status, n in (("COMPLETED", completed), ("CANCELLED", cancelled), ("PLACED", placed)):
        for _ in range(n):
            OrderFactory(customer=customer, status=status)


# --- each component on known data ------------------------------------------------------------


def test_payment_reliability_is_orders_over_orders_plus_failures():
    c = CustomerFactory()
    _orders(c, completed=3)
    ActivityLogFactory(customer=c, activity_type="PAYMENT_FAILED")
    ActivityLogFactory(customer=c, activity_type="APP_OPEN")  # not a payment failure
    recalculate_trust_scores([c.pk])
    assert _score(c).payment_reliability_score == D("75.00")


def test_order_completion_leaves_in_flight_orders_out():
    c = CustomerFactory()
    _orders(c, completed=3, cancelled=1, placed=2)
    recalculate_trust_scores([c.pk])
    assert _score(c).order_completion_score == D("75.00")


def test_false_complaints_count_rejected_disputes_and_refunds_over_all_raised():
    c = CustomerFactory()
    DisputeFactory(customer=c, dispute_status="REJECTED")
    DisputeFactory(customer=c, dispute_status="RESOLVED")
    RefundRequestFactory(customer=c, refund_status="REJECTED")
    RefundRequestFactory(customer=c, refund_status="PENDING")
    RefundRequestFactory(customer=c, refund_status="APPROVED")
    recalculate_trust_scores([c.pk])
    # 5 raised (the factories' orders are completed), 2 rejected -> 100 x 3/5
    assert _score(c).false_complaint_score == D("60.00")


def test_verification_is_the_share_of_types_with_a_success():
    c = CustomerFactory()
    VerificationHistoryFactory(customer=c, verification_type="MOBILE", verification_status="SUCCESS")
    VerificationHistoryFactory(customer=c, verification_type="EMAIL", verification_status="FAILED")
    VerificationHistoryFactory(customer=c, verification_type="IDENTITY", verification_status="SUCCESS")
    VerificationHistoryFactory(customer=c, verification_type="IDENTITY", verification_status="SUCCESS")
    recalculate_trust_scores([c.pk])
    assert _score(c).verification_score == D("40.00")  # 2 of 5 types


def test_components_without_data_are_null_and_count_as_100_in_the_base():
    c = CustomerFactory()
    recalculate_trust_scores([c.pk])
    s = _score(c)
    assert (s.payment_reliability_score, s.order_completion_score, s.false_complaint_score) == (None, None, None)
    assert s.verification_score == D("0.00")
    # base = 0.30x100 + 0.25x100 + 0.25x100 + 0.20x0 = 80; fraud = 0.5 x 20
    assert (s.trust_score, s.fraud_score, s.risk_level) == (D("80.00"), D("10.00"), "LOW")
    assert s.last_calculated_at is not None


def test_trust_and_fraud_scores_from_the_components():
    c = CustomerFactory()
    _orders(c, completed=3, cancelled=1)  # payment 100 x 4/(4+0) = 100; completion 75
    DisputeFactory(customer=c, dispute_status="REJECTED", order=OrderFactory(customer=c, status="PLACED"))
    RefundRequestFactory(customer=c, refund_status="PENDING", order=OrderFactory(customer=c, status="PLACED"))
    VerificationHistoryFactory(customer=c, verification_type="MOBILE")
    VerificationHistoryFactory(customer=c, verification_type="EMAIL")
    recalculate_trust_scores([c.pk])
    s = _score(c)
    # 6 orders, no failures: 100; completion 3/(3+1) = 75; complaints 1 of 2 rejected = 50; verification 2/5 = 40
    assert (s.payment_reliability_score, s.order_completion_score) == (D("100.00"), D("75.00"))
    assert (s.false_complaint_score, s.verification_score) == (D("50.00"), D("40.00"))
    # base = 30 + 18.75 + 12.5 + 8 = 69.25; fraud = 0.5 x 30.75 = 15.375 -> 15.38 (half up)
    assert (s.trust_score, s.fraud_score, s.risk_level) == (D("69.25"), D("15.38"), "LOW")
    assert (s.is_suspicious, s.requires_review) == (False, False)


def test_open_alerts_and_unreviewed_suspicious_activity_add_signal_points():
    c = CustomerFactory()
    VerificationHistoryFactory(customer=c, verification_type="MOBILE")  # base = 75 + 0.2x20 = 84
    FraudAlertFactory(customer=c, alert_severity="HIGH")  # 25
    FraudAlertFactory(customer=c, alert_severity="LOW")  # 5
    FraudAlertFactory(customer=c, alert_severity="CRITICAL", is_resolved=True)  # resolved: 0
    SuspiciousActivityFactory(customer=c)  # requires review, not reviewed: 10
    SuspiciousActivityFactory(customer=c, reviewed=True)  # reviewed: 0
    SuspiciousActivityFactory(customer=c, requires_review=False)  # nothing to review: 0
    recalculate_trust_scores([c.pk])
    s = _score(c)
    # signals 40: trust = 84 - 20 = 64; fraud = 0.5 x 16 + 40 = 48 -> MEDIUM
    assert (s.trust_score, s.fraud_score, s.risk_level) == (D("64.00"), D("48.00"), "MEDIUM")
    assert s.is_suspicious is True  # an open HIGH alert
    assert s.requires_review is False  # MEDIUM is not a review level


def test_blocked_linked_accounts_through_a_shared_device_add_signal_points():
    c, linked, ip_only = CustomerFactory(), CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=c, device_id="dev-shared", ip_address="10.9.9.9")
    CustomerSessionFactory(customer=linked, device_id="dev-shared", ip_address="10.1.1.1")
    ActivityLogFactory(customer=ip_only, device_id="dev-other", ip_address="10.9.9.9")
    BlockFactory(customer=linked, block_type="ACCOUNT_BLOCK", service_type=None)
    BlockFactory(customer=ip_only, block_type="ACCOUNT_BLOCK", service_type=None)  # IPs do not count
    recalculate_trust_scores([c.pk])
    assert trust_inputs([c.pk])[c.pk].blocked_linked_accounts == 1
    # base 80, signals 15: trust 72.5, fraud 10 + 15 = 25 -> MEDIUM
    assert (_score(c).trust_score, _score(c).fraud_score, _score(c).risk_level) == (D("72.50"), D("25.00"), "MEDIUM")


def test_a_lifted_block_on_a_linked_account_does_not_count():
    c, linked = CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=c, device_id="dev-shared")
    LoginHistoryFactory(customer=linked, device_id="dev-shared")
    BlockFactory(customer=linked, is_unblocked=True)
    assert trust_inputs([c.pk])[c.pk].blocked_linked_accounts == 0


# --- thresholds and flags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraud", "level"),
    [
        ("0", "LOW"),
        ("24.99", "LOW"),
        ("25", "MEDIUM"),
        ("49.99", "MEDIUM"),
        ("50", "HIGH"),
        ("74.99", "HIGH"),
        ("75", "CRITICAL"),
        ("100", "CRITICAL"),
    ],
)
def test_risk_level_thresholds(fraud, level):
    assert risk_level_for(D(fraud)) == level


def test_a_confirmed_fraudster_is_always_critical():
    assert risk_level_for(D("0"), is_fraudulent=True) == "CRITICAL"
    assert compute(TrustInputs(customer_id=1, verified_types=5, is_fraudulent=True)).risk_level == "CRITICAL"


def test_flags():
    quiet = compute(TrustInputs(customer_id=1, verified_types=5))
    assert (quiet.trust_score, quiet.fraud_score, quiet.is_suspicious, quiet.requires_review) == (
        D("100.00"),
        D("0.00"),
        False,
        False,
    )
    # fraud 50 from signals alone: suspicious, HIGH, something to review
    risky = compute(TrustInputs(customer_id=1, verified_types=5, unreviewed_suspicious=5))
    assert (risky.fraud_score, risky.risk_level, risky.is_suspicious, risky.requires_review) == (
        D("50.00"),
        "HIGH",
        True,
        True,
    )
    # HIGH from linked accounts only: nothing of the customer's own to review
    linked = compute(TrustInputs(customer_id=1, verified_types=5, blocked_linked_accounts=4))
    assert (linked.risk_level, linked.is_suspicious, linked.requires_review) == ("HIGH", True, False)
    # a severe open alert makes the customer suspicious whatever the score
    severe = compute(TrustInputs(customer_id=1, verified_types=5, open_alerts=1, severe_open_alerts=1))
    assert (severe.fraud_score, severe.is_suspicious) == (D("0.00"), True)
    # scores stay within 0-100
    flooded = compute(TrustInputs(customer_id=1, alert_points=D(400), open_alerts=10))
    assert (flooded.trust_score, flooded.fraud_score) == (D("0.00"), D("100.00"))


# --- the engine's contract ---------------------------------------------------------------------


def test_the_engine_never_sets_is_fraudulent_and_keeps_a_confirmation():
    c, confirmed = CustomerFactory(), CustomerFactory()
    for _ in range(5):
        FraudAlertFactory(customer=c, alert_severity="CRITICAL")
    TrustScoreFactory(customer=confirmed, is_fraudulent=True, risk_level="CRITICAL")
    recalculate_trust_scores([c.pk, confirmed.pk])
    assert _score(c).fraud_score == D("100.00") and _score(c).is_fraudulent is False
    assert _score(confirmed).is_fraudulent is True and _score(confirmed).risk_level == "CRITICAL"


def test_upsert_keeps_id_and_created_at_and_records_history_only_when_scores_move():
    c = CustomerFactory()
    old = TrustScoreFactory(customer=c, created_at=timezone.now() - dt.timedelta(days=30))
    recalculate_trust_scores([c.pk])
    s = _score(c)
    assert (s.pk, s.created_at) == (old.pk, old.created_at)
    assert s.history.count() == 2  # the factory's save, and the recalculation that moved it
    recalculate_trust_scores([c.pk])
    assert s.history.count() == 2  # nothing moved
    FraudAlertFactory(customer=c, alert_severity="MEDIUM")
    recalculate_trust_scores([c.pk])
    latest = s.history.first()
    assert (latest.history_type, latest.trust_score, latest.history_change_reason) == ("~", D("75.00"), "Recalculated")


def test_risk_level_changes_are_audited():
    c = CustomerFactory()
    VerificationHistoryFactory(customer=c, verification_type="MOBILE")
    recalculate_trust_scores([c.pk])  # first calculation at LOW: nothing to audit
    assert not AuditLog.objects.filter(customer=c, action_field="risk_level").exists()
    for _ in range(2):
        FraudAlertFactory(customer=c, alert_severity="HIGH")
    recalculate_trust_scores([c.pk])
    entry = AuditLog.objects.get(customer=c, action_field="risk_level")
    assert (entry.old_value, entry.new_value, entry.actor_type) == ("LOW", "HIGH", "SYSTEM")


def _varied_customers():
    """Customers whose rows would leak into each other if the set-based joins fanned out."""
    customers = [CustomerFactory() for _ in range(7)]
    a, b, c, d, e, f, g = customers
    _orders(a, completed=5, cancelled=2)
    ActivityLogFactory(customer=a, activity_type="PAYMENT_FAILED", device_id="dev-ab")
    _orders(b, completed=1, placed=1)
    CustomerSessionFactory(customer=b, device_id="dev-ab")
    BlockFactory(customer=b, block_type="PAYMENT_BLOCK", service_type=None)
    DisputeFactory(customer=c, dispute_status="REJECTED")
    RefundRequestFactory(customer=c, refund_status="REJECTED")
    RefundRequestFactory(customer=c)
    for vtype in ("MOBILE", "EMAIL", "ADDRESS", "PAYMENT_METHOD", "IDENTITY"):
        VerificationHistoryFactory(customer=d, verification_type=vtype)
    VerificationHistoryFactory(customer=e, verification_type="MOBILE", verification_status="FAILED")
    FraudAlertFactory(customer=e, alert_severity="CRITICAL")
    FraudAlertFactory(customer=e, alert_severity="MEDIUM")
    SuspiciousActivityFactory(customer=e)
    SuspiciousActivityFactory(customer=f)
    SuspiciousActivityFactory(customer=f)
    LoginHistoryFactory(customer=g, device_id="dev-ab")
    TrustScoreFactory(customer=g, is_fraudulent=True)
    return customers


def _stored():
    return {
        s.customer_id: (
            s.trust_score,
            s.fraud_score,
            s.risk_level,
            s.payment_reliability_score,
            s.order_completion_score,
            s.false_complaint_score,
            s.verification_score,
            s.is_fraudulent,
            s.is_suspicious,
            s.requires_review,
        )
        for s in TrustScore.objects.all()
    }


def test_set_based_recalculation_equals_one_customer_at_a_time():
    customers = _varied_customers()
    recalculate_trust_scores()  # everyone, one statement
    together = _stored()
    TrustScore.objects.exclude(is_fraudulent=True).delete()
    for customer in customers:
        recalculate_trust_scores([customer.pk])
    assert _stored() == together
    recalculate_trust_scores(batch_size=2)  # several batches: same answers
    assert _stored() == together
    # ... and the Python formulas, fed the same inputs, give the same scores.
    inputs = trust_inputs([c.pk for c in customers])
    for customer in customers:
        row = compute(inputs[customer.pk]).as_row()
        assert row == {k: getattr(_score(customer), k) for k in row}, customer.pk


def test_command_recalculates_the_given_customers_with_progress():
    a, b = CustomerFactory(), CustomerFactory()
    out = StringIO()
    call_command("recalculate_trust_scores", "--customer", str(a.pk), stdout=out)
    assert "1/1 customers scored" in out.getvalue()
    assert TrustScore.objects.filter(customer=a).exists() and not TrustScore.objects.filter(customer=b).exists()
    call_command("recalculate_trust_scores", stdout=out)
    assert TrustScore.objects.filter(customer=b).exists()


def test_links_from_the_customers_side_equal_the_runs_links_on_random_data():
    """The page's reading (fraud.links.links_of: from the customer's devices) and the run's
    (fraud.links.links: from the blocked customers' devices) give the same links."""
    import random

    from fraud import links

    rng = random.Random(7)
    now = timezone.now()
    customers = [CustomerFactory() for _ in range(12)]
    devices = [f"dev-{i}" for i in range(6)] + [""]  # "" is no device and links nobody
    factories = [LoginHistoryFactory, CustomerSessionFactory, ActivityLogFactory]
    for _ in range(40):
        rng.choice(factories)(customer=rng.choice(customers), device_id=rng.choice(devices))
    for c in rng.sample(customers, 5):
        kind = rng.choice(["in force", "lifted", "expired", "future"])
        BlockFactory(
            customer=c,
            is_unblocked=kind == "lifted",
            blocked_at=now + dt.timedelta(hours=1) if kind == "future" else now - dt.timedelta(days=2),
            blocked_until=now - dt.timedelta(hours=1) if kind == "expired" else None,
            auto_unblock=kind == "expired",
        )
    run = links.links(now=now)
    assert run, "the random data links someone to a block in force"
    for c in customers:
        assert sorted(links.links_of([c.pk], now=now), key=str) == sorted(
            (link for link in run if link.customer_id == c.pk), key=str
        ), c.pk
