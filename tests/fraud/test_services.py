"""The fraud team's workflows: each transition, its refusal, and what it writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from compliance.models import AuditLog
from fraud import services
from fraud.models import Block, FraudAlert, TrustScore
from fraud.services import FraudError
from tests.assertions import unchanged
from tests.factories import (
    BlockFactory,
    CustomerFactory,
    FraudAlertFactory,
    SuspiciousActivityFactory,
    TrustScoreFactory,
)

pytestmark = pytest.mark.django_db

# What a refused call could have written: each refusal re-reads it (tests/README.md).
APP_TABLES = tuple(apps.get_app_config("fraud").get_models())  # with their history tables


@pytest.fixture
def analyst(make_staff):
    from customer_ops.roles import Role

    return make_staff(Role.FRAUD)


def _block(analyst, **kwargs) -> Block:
    kwargs.setdefault("customer", CustomerFactory())
    kwargs.setdefault("block_type", "SERVICE_BLOCK")
    kwargs.setdefault("reason", "Chargebacks")
    return services.block_customer(actor=analyst, **kwargs)


# --- blocks ----------------------------------------------------------------------------------


def test_block_customer_writes_the_block_its_history_and_an_audit_entry(analyst):
    until = timezone.now() + dt.timedelta(days=7)
    block = _block(analyst, service_type="FOOD", blocked_until=until, reason_code="CB")
    assert (block.blocked_by, block.blocked_by_staff, block.blocked_until) == ("ADMIN", analyst, until)
    assert block.blocked_by_name == analyst.get_full_name()
    assert block.history.get().history_user == analyst
    entry = AuditLog.objects.get(customer=block.customer, action_field="block")
    assert entry.new_value.startswith("SERVICE_BLOCK FOOD until ") and entry.actor_id == analyst.pk
    assert entry.action_reason == "Chargebacks"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block_type": "ACCOUNT_BLOCK", "service_type": "FOOD"}, "account block covers every service"),
        ({"blocked_until": timezone.now() - dt.timedelta(hours=1)}, "must end in the future"),
        ({"reason": "   "}, "reason is required"),
        ({"block_type": "HOUSE_ARREST"}, "Unknown block type"),
        ({"service_type": "SPACE"}, "Unknown service type"),
    ],
)
def test_block_customer_refuses_bad_input_and_writes_nothing(analyst, kwargs, message):
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match=message):
        _block(analyst, **kwargs)
    assert not Block.objects.exists() and not AuditLog.objects.exists()


def test_block_from_an_alert_records_the_block_as_the_action_taken(analyst):
    alert = FraudAlertFactory()
    block = _block(analyst, customer=alert.customer, block_type="ACCOUNT_BLOCK", alert=alert)
    alert.refresh_from_db()
    assert alert.action_taken == f"Blocked: ACCOUNT_BLOCK ALL (permanent) (block #{block.pk})"
    assert (alert.action_taken_by, alert.is_resolved) == (analyst, False)


def test_unblock_needs_a_reason_and_only_once(analyst):
    block = _block(analyst)
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="reason is required"):
        services.unblock(block=block, reason="", actor=analyst)
    services.unblock(block=block, reason="Paid back", actor=analyst)
    block.refresh_from_db()
    assert (block.is_unblocked, block.unblocked_by, block.unblock_reason) == (True, analyst, "Paid back")
    assert block.history.first().unblock_reason == "Paid back"
    assert AuditLog.objects.filter(customer=block.customer, new_value="lifted", action_reason="Paid back").exists()
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="already lifted"):
        services.unblock(block=block, reason="again", actor=analyst)


def test_unblock_many_lifts_the_active_ones_and_counts_the_rest(analyst):
    active, lifted = BlockFactory(), BlockFactory(is_unblocked=True, unblocked_at=timezone.now())
    assert services.unblock_many(blocks=[active, lifted], reason="Batch review", actor=analyst) == (1, 1)


# --- alerts ----------------------------------------------------------------------------------


def test_record_action_then_resolve_then_refuse_changes(analyst):
    alert = FraudAlertFactory()
    services.alert_record_action(alert=alert, action="Called the customer", actor=analyst)
    alert.refresh_from_db()
    assert (alert.action_taken, alert.action_taken_by) == ("Called the customer", analyst)
    assert alert.action_taken_at is not None
    services.alert_resolve(
        outcome="FALSE_POSITIVE", reason_code="DATA_ERROR", alert=alert, notes="False positive", actor=analyst
    )
    alert.refresh_from_db()
    assert alert.is_resolved and alert.resolved_at and alert.resolution_notes == "False positive"
    assert alert.action_taken == "Called the customer"  # kept
    assert [h.history_type for h in alert.history.all()] == ["~", "~", "+"]
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="already resolved"):
        services.alert_resolve(
            outcome="FALSE_POSITIVE", reason_code="DATA_ERROR", alert=alert, notes="again", actor=analyst
        )
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="resolved"):
        services.alert_record_action(alert=alert, action="late", actor=analyst)


def test_resolve_requires_notes(analyst):
    alert = FraudAlertFactory()
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="notes are required"):
        services.alert_resolve(
            outcome="FALSE_POSITIVE", reason_code="DATA_ERROR", alert=alert, notes=" ", actor=analyst
        )
    alert.refresh_from_db()
    assert not alert.is_resolved


def test_bulk_resolve_with_one_note(make_staff):
    from customer_ops.roles import Role

    lead = make_staff(Role.FRAUD_LEAD)  # bulk decisions are the lead's right
    alerts = [FraudAlertFactory() for _ in range(3)]
    done = FraudAlertFactory(is_resolved=True, resolution_notes="earlier")
    kwargs = {"outcome": "FALSE_POSITIVE", "reason_code": "DATA_ERROR", "notes": "Batch: test accounts"}
    assert services.alerts_resolve(alerts=[*alerts, done], actor=lead, **kwargs) == (3, 1)
    assert set(FraudAlert.objects.values_list("resolution_notes", flat=True)) == {"Batch: test accounts", "earlier"}


# --- suspicious activity ---------------------------------------------------------------------


def test_review_marks_reviewed_once(analyst):
    activity = SuspiciousActivityFactory(action_recommended="Contact customer")
    services.suspicious_review(activity=activity, notes="Travelling", action_taken="None", actor=analyst)
    activity.refresh_from_db()
    assert (activity.reviewed, activity.reviewed_by, activity.review_notes, activity.action_taken) == (
        True,
        analyst,
        "Travelling",
        "None",
    )
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="already reviewed"):
        services.suspicious_review(activity=activity, notes="again", actor=analyst)


def test_raise_alert_from_suspicious_activity_copies_evidence_and_marks_it_reviewed(analyst):
    activity = SuspiciousActivityFactory(
        activity_type="PAYMENT_FAILURE_SPIKE", risk_score=90, evidence={"failures_1h": 7}
    )
    alert = services.suspicious_raise_alert(activity=activity, actor=analyst)
    assert (alert.customer_id, alert.alert_type, alert.alert_severity) == (
        activity.customer_id,
        "PAYMENT_FRAUD",
        "CRITICAL",
    )
    assert alert.evidence["suspicious_activity_id"] == activity.pk
    assert alert.evidence["activity_evidence"] == {"failures_1h": 7}
    activity.refresh_from_db()
    assert activity.reviewed and activity.action_taken == f"Raised fraud alert #{alert.pk}"


def test_raise_alert_refuses_an_unknown_type_and_writes_nothing(analyst):
    activity = SuspiciousActivityFactory()
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="alert_type"):
        services.suspicious_raise_alert(activity=activity, alert_type="ALIENS", actor=analyst)
    assert not FraudAlert.objects.exists()
    activity.refresh_from_db()
    assert not activity.reviewed


# --- the fraud flag ----------------------------------------------------------------------------


def test_only_an_analyst_confirmation_sets_is_fraudulent_and_it_can_be_withdrawn(analyst):
    customer = CustomerFactory()
    TrustScoreFactory(customer=customer, risk_level="LOW")
    score = services.trust_confirm_fraud(customer=customer, notes="Chargeback ring", actor=analyst)
    assert (score.is_fraudulent, score.risk_level) == (True, "CRITICAL")
    fields = set(AuditLog.objects.filter(customer=customer).values_list("action_field", "new_value"))
    assert fields == {("is_fraudulent", "True"), ("risk_level", "CRITICAL")}
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="already confirmed"):
        services.trust_confirm_fraud(customer=customer, notes="again", actor=analyst)
    score = services.trust_clear_fraud(customer=customer, notes="Mistaken identity", actor=analyst)
    assert (score.is_fraudulent, score.risk_level, score.last_calculated_at is not None) == (False, "LOW", True)
    with unchanged(*APP_TABLES), pytest.raises(FraudError, match="not confirmed"):
        services.trust_clear_fraud(customer=customer, notes="again", actor=analyst)


def test_confirm_fraud_creates_the_score_row_if_missing(analyst):
    customer = CustomerFactory()
    services.trust_confirm_fraud(customer=customer, notes="Confirmed by the bank", actor=analyst)
    assert TrustScore.objects.get(customer=customer).is_fraudulent


# --- every caller gets the same rules (issue 21) -------------------------------------------


def test_a_caller_other_than_the_admin_cannot_skip_the_role_check(make_staff):
    """The services check the actor's role themselves: an agent (no fraud permission)
    calling them directly is refused, and nothing is written."""
    from customer_ops.errors import NotAllowed
    from customer_ops.roles import Role

    agent = make_staff(Role.AGENT)
    customer, alert = CustomerFactory(), FraudAlertFactory()
    block = BlockFactory()
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="may not block customers"):
        services.block_customer(customer=customer, block_type="SERVICE_BLOCK", reason="Chargebacks", actor=agent)
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="may not lift blocks"):
        services.unblock(block=block, reason="Paid back", actor=agent)
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="may not work fraud alerts"):
        services.alert_resolve(
            outcome="FALSE_POSITIVE", reason_code="DATA_ERROR", alert=alert, notes="False positive", actor=agent
        )
    with unchanged(*APP_TABLES), pytest.raises(NotAllowed, match="may not confirm fraud"):
        services.trust_confirm_fraud(customer=customer, notes="Ring", actor=agent)


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(analyst):
    from customer_ops.errors import Conflict

    block = _block(analyst)
    seen = services.row_version(block)
    assert seen == Block.objects.get(pk=block.pk).updated_at
    Block.objects.filter(pk=block.pk).update(block_notes="edited meanwhile")  # someone else's change
    with unchanged(*APP_TABLES), pytest.raises(Conflict, match="changed by someone else"):
        services.unblock(block=block, reason="Paid back", actor=analyst, expected_version=seen)
    block.refresh_from_db()  # the page reloaded: the current version
    services.unblock(block=block, reason="Paid back", actor=analyst, expected_version=services.row_version(block))

    alert = FraudAlertFactory()
    services.alert_record_action(alert=alert, action="Called", actor=analyst)
    seen = services.row_version(alert)
    assert seen is not None  # alerts have no updated_at: their latest history row is the version
    services.alert_record_action(alert=alert, action="Called again", actor=analyst, expected_version=seen)
    with unchanged(*APP_TABLES), pytest.raises(Conflict, match="changed by someone else"):
        services.alert_resolve(
            outcome="FALSE_POSITIVE",
            reason_code="DATA_ERROR",
            alert=alert,
            notes="False positive",
            actor=analyst,
            expected_version=seen,
        )
    services.alert_resolve(
        outcome="FALSE_POSITIVE",
        reason_code="DATA_ERROR",
        alert=alert,
        notes="ok",
        actor=analyst,
        expected_version=services.row_version(alert),
    )

    activity = SuspiciousActivityFactory()
    services.suspicious_review(
        activity=activity, notes="x", actor=analyst, expected_version=services.row_version(activity)
    )

    score = TrustScoreFactory()
    stale = score.updated_at - dt.timedelta(seconds=1)
    with unchanged(*APP_TABLES), pytest.raises(Conflict, match="changed by someone else"):
        services.trust_confirm_fraud(customer=score.customer, notes="Ring", actor=analyst, expected_version=stale)
