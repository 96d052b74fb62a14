"""The hourly incremental trust run (fraud.changes) and the engine's set-based audit rows."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import AuditLog
from customer_ops.audit import AuditEntry, audit, audit_many
from customer_ops.context import Actor, acting_as
from fraud import conf, services
from fraud.jobs import recalculate_changed_trust_scores, recalculate_trust_scores, unblock_expired
from fraud.models import SuspiciousActivity, TrustEngineRun, TrustScore
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
    VerificationHistoryFactory,
)

pytestmark = pytest.mark.django_db

SCORE_FIELDS = (
    "trust_score",
    "fraud_score",
    "risk_level",
    "payment_reliability_score",
    "order_completion_score",
    "false_complaint_score",
    "verification_score",
    "is_fraudulent",
    "is_suspicious",
    "requires_review",
)


@pytest.fixture(autouse=True)
def no_overlap(monkeypatch):
    """Every row of a test is written within a second of the runs: without the margin, "since
    the last run" separates the rows written before it from those written after."""
    monkeypatch.setattr(conf, "INCREMENTAL_OVERLAP", dt.timedelta(0))


@pytest.fixture
def analyst(make_staff):
    from customer_ops.roles import Role

    return make_staff(Role.FRAUD)


def _scores() -> dict[int, tuple]:
    return {row[0]: row[1:] for row in TrustScore.objects.values_list("customer_id", *SCORE_FIELDS)}


def _calculated_at() -> dict[int, dt.datetime]:
    return dict(TrustScore.objects.values_list("customer_id", "last_calculated_at"))


def test_without_a_recorded_run_the_incremental_run_is_a_full_one():
    a, b = CustomerFactory(), CustomerFactory()
    result = recalculate_changed_trust_scores()
    assert result.customers == 2 and set(_scores()) == {a.pk, b.pk}
    assert TrustEngineRun.last().kind == TrustEngineRun.Kind.FULL


def test_only_customers_whose_inputs_changed_are_rescored():
    changed, unchanged = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=unchanged, status="COMPLETED")
    full = recalculate_trust_scores()
    before = _calculated_at()
    run = TrustEngineRun.last()
    assert (run.kind, run.customers, run.started_at) == (TrustEngineRun.Kind.FULL, 2, before[changed.pk])

    FraudAlertFactory(customer=changed, alert_severity="HIGH")
    result = recalculate_changed_trust_scores()

    assert result.customers == 1
    after = _calculated_at()
    assert after[unchanged.pk] == before[unchanged.pk]  # not touched
    assert after[changed.pk] > before[changed.pk]
    assert TrustScore.objects.get(customer=changed).fraud_score > 0
    run = TrustEngineRun.last()
    assert (run.kind, run.customers, run.since) == (TrustEngineRun.Kind.INCREMENTAL, 1, before[changed.pk])
    # Nothing changed since: the next hourly run scores nobody.
    assert recalculate_changed_trust_scores().customers == 0
    assert full.customers == 2


def _world():
    """Customers with every kind of input, and a blocked customer sharing devices."""
    c = [CustomerFactory() for _ in range(16)]
    for customer in c:
        OrderFactory(customer=customer, status="COMPLETED")
    placed = OrderFactory(customer=c[1], status="PLACED")
    dispute = DisputeFactory(customer=c[3], dispute_status="OPEN")
    refund = RefundRequestFactory(customer=c[4], refund_status="PENDING")
    alert = FraudAlertFactory(customer=c[6], alert_severity="CRITICAL")
    activity = SuspiciousActivityFactory(customer=c[7])
    # c[9] is blocked; c[10] shares a device with c[9] already; c[11] will; c[12]'s block expires.
    BlockFactory(customer=c[9], block_type="ACCOUNT_BLOCK", service_type=None)
    LoginHistoryFactory(customer=c[9], device_id="dev-9")
    CustomerSessionFactory(customer=c[10], device_id="dev-9")
    expiring = BlockFactory(
        customer=c[12], block_type="ACCOUNT_BLOCK", service_type=None, auto_unblock=True,
        blocked_until=timezone.now() + dt.timedelta(minutes=30),
    )  # fmt: skip
    LoginHistoryFactory(customer=c[12], device_id="dev-12")
    LoginHistoryFactory(customer=c[13], device_id="dev-12")
    LoginHistoryFactory(customer=c[14], device_id="dev-14")
    return c, placed, dispute, refund, alert, activity, expiring


def _change_everything(c, placed, dispute, refund, alert, activity, analyst):
    OrderFactory(customer=c[0], status="CANCELLED")  # a new order
    placed.status = "COMPLETED"  # an order's outcome
    placed.save()
    ActivityLogFactory(customer=c[2], activity_type="PAYMENT_FAILED")
    dispute.dispute_status = "REJECTED"
    dispute.save()
    refund.refund_status = "REJECTED"
    refund.save()
    VerificationHistoryFactory(customer=c[5], verification_type="IDENTITY")
    services.alert_resolve(
        outcome="FALSE_POSITIVE", reason_code="DATA_ERROR", alert=alert, notes="false positive", actor=analyst
    )
    services.suspicious_review(activity=SuspiciousActivity.objects.get(pk=activity.pk), notes="ok", actor=analyst)
    services.trust_confirm_fraud(customer=c[8], notes="chargeback ring", actor=analyst)
    ActivityLogFactory(customer=c[11], device_id="dev-9")  # a new link to the blocked c[9]
    BlockFactory(customer=c[14], block_type="ACCOUNT_BLOCK", service_type=None)  # c[14]'s device is c[15]'s
    LoginHistoryFactory(customer=c[15], device_id="dev-14")
    return CustomerFactory()  # a new customer


def test_the_incremental_run_gives_what_a_full_run_gives(analyst):
    c, placed, dispute, refund, alert, activity, expiring = _world()
    recalculate_trust_scores()
    new = _change_everything(c, placed, dispute, refund, alert, activity, analyst)
    later = expiring.blocked_until + dt.timedelta(minutes=1)  # c[12]'s block has expired (not lifted yet)

    result = recalculate_changed_trust_scores(now=later)
    incremental = _scores()
    rescored = {cid for cid, at in _calculated_at().items() if at == later}
    recalculate_trust_scores(now=later)

    assert incremental == _scores()
    # The changed ones and the new customer, and no one else: c[11] for its new device row
    # shared with the blocked c[9], c[13] as c[12]'s block expired, c[15] for c[14]'s new block
    # (a block changes the scores of the customers linked to it, not the blocked one's).
    expected = {c[k].pk for k in (0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 15)} | {new.pk}
    assert rescored == expected and result.customers == len(expected)


def test_command_changed_runs_the_incremental_run():
    CustomerFactory()
    out = StringIO()
    call_command("recalculate_trust_scores", stdout=out)
    call_command("recalculate_trust_scores", "--changed", stdout=out)
    assert "0 trust scores recalculated" in out.getvalue()
    assert TrustEngineRun.last().kind == TrustEngineRun.Kind.INCREMENTAL


# --- audit rows, one INSERT per batch -----------------------------------------------------------


def _audit_inserts(queries) -> int:
    return sum(q["sql"].lstrip().upper().startswith('INSERT INTO "CUSTOMER_AUDIT_LOG"') for q in queries)


def _audit_rows(customer) -> list[tuple]:
    return list(
        AuditLog.objects.filter(customer=customer)
        .order_by("id")
        .values_list(
            "action_type", "action_field", "old_value", "new_value", "action_reason",
            "actor_type", "actor_id", "actor_name", "ip_address", "user_agent",
        )
    )  # fmt: skip


def test_audit_many_writes_the_rows_audit_writes_in_one_insert():
    one, many = CustomerFactory(), CustomerFactory()
    staff = Actor(actor_type="ADMIN", actor_id=7, actor_name="Ann", ip_address="10.0.0.1", user_agent="ua")
    entries = [
        dict(action_type="UPDATE", action_field="risk_level", old_value=None, new_value="HIGH", reason="r1"),
        dict(action_type="STATUS_CHANGE", action_field="block", old_value=3, new_value=True, reason="r2"),
    ]
    with acting_as(staff):
        for e in entries:
            audit(customer_id=one.pk, **e)
        with CaptureQueriesContext(connection) as queries:
            written = audit_many(
                AuditEntry(
                    customer_id=many.pk,
                    action_type=e["action_type"],
                    action_field=e["action_field"],
                    old_value=e["old_value"],
                    new_value=e["new_value"],
                    action_reason=e["reason"],
                )
                for e in entries
            )
    assert written == 2 and _audit_inserts(queries.captured_queries) == 1
    assert _audit_rows(many) == _audit_rows(one)
    assert _audit_rows(one)[1][2:4] == ("3", "True")  # values as text, as audit() writes them
    assert _audit_rows(one)[0][5:] == ("ADMIN", 7, "Ann", "10.0.0.1", "ua")


def test_risk_level_changes_of_a_batch_are_audited_in_one_insert():
    customers = [CustomerFactory() for _ in range(3)]
    recalculate_trust_scores()
    for customer in customers:
        for _ in range(2):
            FraudAlertFactory(customer=customer, alert_severity="HIGH")
    with CaptureQueriesContext(connection) as queries:
        result = recalculate_trust_scores()
    assert len(result.risk_changes) == 3 and _audit_inserts(queries.captured_queries) == 1
    for customer in customers:
        assert _audit_rows(customer) == [
            ("UPDATE", "risk_level", "LOW", "HIGH", "Trust score recalculation", "SYSTEM", None, "system", "", "")
        ]


def test_unblock_expired_audits_every_lifted_block_in_one_insert():
    past = timezone.now() - dt.timedelta(days=1)
    blocks = [
        BlockFactory(
            blocked_at=past - dt.timedelta(days=5), blocked_until=past, auto_unblock=True,
            block_type="PAYMENT_BLOCK", service_type=service,
        )
        for service in ("FOOD", None)
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        lifted = unblock_expired().lifted
    assert lifted == [b.pk for b in blocks] and _audit_inserts(queries.captured_queries) == 1
    for block, scope in zip(blocks, ("FOOD", "ALL"), strict=True):
        reason = f"Block #{block.pk} expired at {past:%Y-%m-%d %H:%M} UTC (auto-unblock)"
        old = f"PAYMENT_BLOCK {scope} in force"
        assert _audit_rows(block.customer) == [
            ("STATUS_CHANGE", "block", old, "lifted", reason, "SYSTEM", None, "system", "", "")
        ]
