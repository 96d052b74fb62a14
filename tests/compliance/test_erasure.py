"""GDPR erasure end to end: every table, chunked and resumable, plan = outcome, holds, certificate."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, models, transaction

from compliance import erasure, services
from compliance.choices import ErasureState, RequestStatus
from compliance.erasure import AUDIT_PREFIX, digest, historical_models, steps
from compliance.holds import HOLD_RULES, held_rows
from compliance.models import AuditLog, DataDeletionRequest, ErasureRun
from customer_ops.models import Customer, Order
from customer_ops.personal_data import Scope, declarations
from tests import factories as f
from tests.compliance.conftest import approve_and_run, find_everywhere
from tests.factories import identity_verified
from tickets.models import Dispute, TicketMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_staff):
    from customer_ops.roles import Role

    return make_staff(Role.COMPLIANCE)


@pytest.fixture
def approver(make_staff):
    """A second compliance officer: whoever records a request cannot approve it."""
    from customer_ops.roles import Role

    return make_staff(Role.COMPLIANCE)


def _plan_rows(plan):
    return {t["step"]: t["rows"] for t in plan["tables"]}


def _outcome_rows(outcome):
    return {t["step"]: t["rows"] for t in outcome["tables"]}


def test_full_erasure_leaves_no_identifier_in_any_column_of_any_table(rich_customer, staff):
    customer = rich_customer.customer
    assert len(find_everywhere(rich_customer.identifiers)) > 15  # the fixture really spreads them
    totals = Order.objects.filter(customer=customer).aggregate(total=models.Sum("order_amount"))

    request, run = approve_and_run(customer, [Scope.ALL], staff)

    assert request.request_status == RequestStatus.COMPLETED
    assert request.completed_at is not None and run.state == ErasureState.DONE
    assert find_everywhere(rich_customer.identifiers) == []
    # Financial records stay, with their amounts.
    assert Order.objects.filter(customer=customer).aggregate(total=models.Sum("order_amount")) == totals
    assert Dispute.objects.get(pk=rich_customer.dispute.pk).disputed_amount == Decimal("20.00")
    customer.refresh_from_db()
    assert customer.status == "ANONYMISED"
    # The erasure's own audit trail remains, readable.
    own = AuditLog.objects.filter(customer=customer, action_reason__startswith=f"{AUDIT_PREFIX} {request.request_id}")
    assert own.filter(action_field="customer_activity_log").exists()
    assert own.filter(new_value=RequestStatus.COMPLETED).exists()


def test_history_tables_are_found_generically_and_erased(rich_customer, staff):
    history = historical_models()
    assert Dispute in history
    assert {s.model for s in steps()} >= set(history.values())
    hist = history[Dispute]
    assert hist.objects.filter(id=rich_customer.dispute.pk).count() == 2
    approve_and_run(rich_customer.customer, [Scope.ALL], staff)
    assert set(hist.objects.filter(id=rich_customer.dispute.pk).values_list("evidence_description", flat=True)) == {
        "[erased]"
    }


def test_plan_counts_equal_what_the_erasure_did(rich_customer, staff, approver):
    request = services.deletion_request_create(customer=rich_customer.customer, scopes=["ALL"], actor=staff)
    identity_verified(request, approver)
    preview = erasure.plan_for(request)
    services.deletion_request_approve(request=request, actor=approver)
    run = services.deletion_request_run(request=request)
    assert run.plan["tables"] == preview["tables"]  # the stored plan is the one the approver saw
    planned, done = _plan_rows(run.plan), _outcome_rows(run.outcome)
    assert {k: v for k, v in planned.items() if v} == {k: v for k, v in done.items() if v}
    assert planned["customer_ops.customer"] == 1
    assert planned["analytics.activitylog"] == 1
    assert planned["tickets.historicaldispute"] == 2
    kept = {t["step"]: t["kept"] for t in run.plan["tables"]}
    assert any("Financial record" in k["reason"] for k in kept["customer_ops.order"])
    assert any("Aggregate" in k["reason"] for k in kept["analytics.dailyanalytics"])


def test_killed_half_way_a_rerun_finishes_and_does_nothing_twice(rich_customer, staff, approver):
    customer = rich_customer.customer
    request = services.deletion_request_create(customer=customer, scopes=["ALL"], actor=staff)
    identity_verified(request, approver)
    services.deletion_request_approve(request=request, actor=approver)
    chunks = []

    def crash_after_five(step_key):
        chunks.append(step_key)
        if len(chunks) == 5:
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        services.deletion_request_run(request=request, chunk_size=1, on_chunk=crash_after_five)
    request.refresh_from_db()
    assert request.request_status == RequestStatus.PROCESSING
    half = find_everywhere(rich_customer.identifiers)
    assert half  # some data is still there...
    assert request.erasure.chunks == 5  # ...and five chunks are committed

    run = services.deletion_request_run(request=request, chunk_size=1)
    request.refresh_from_db()
    assert request.request_status == RequestStatus.COMPLETED
    assert find_everywhere(rich_customer.identifiers) == []
    planned, done = _plan_rows(run.plan), _outcome_rows(run.outcome)
    assert {k: v for k, v in planned.items() if v} == {k: v for k, v in done.items() if v}
    assert run.chunks == sum(planned.values())  # one row per chunk, none done twice
    # Exactly one audit entry per table, whatever the crash.
    own = AuditLog.objects.filter(customer=customer, action_reason__startswith=f"{AUDIT_PREFIX} {request.request_id}:")
    per_table = own.filter(action_type__in=["UPDATE", "DELETE"]).values_list("action_field", flat=True)
    assert sorted(per_table) == sorted(set(per_table))


def _everything_of(customer_id: int) -> dict:
    """Every row of the customer in every erasure step (history included), the run and the audit log."""
    rows = {
        step.key: sorted(
            step.model._default_manager.filter(step.customer_filter(customer_id)).values_list(), key=lambda r: r[0]
        )
        for step in steps()
    }
    rows["runs"] = list(ErasureRun.objects.filter(customer_id=customer_id).values_list())
    rows["audit"] = AuditLog.objects.filter(customer_id=customer_id).count()
    return rows


def test_a_rerun_of_a_completed_request_is_refused_and_changes_nothing(rich_customer, staff):
    request, run = approve_and_run(rich_customer.customer, ["ALL"], staff)
    before = _everything_of(rich_customer.customer.pk)
    assert before["customer_ops.customer"] and before["analytics.activitylog"]  # there is something to compare
    with pytest.raises(services.ComplianceError, match="only PROCESSING requests are erased"):
        services.deletion_request_run(request=request)
    assert _everything_of(rich_customer.customer.pk) == before
    assert DataDeletionRequest.objects.get(pk=request.pk).request_status == RequestStatus.COMPLETED


def test_an_open_dispute_holds_its_records_until_it_closes(rich_customer, staff, approver):
    customer = rich_customer.customer
    open_dispute = f.DisputeFactory(
        customer=customer,
        order=rich_customer.orders[1],
        ticket=rich_customer.ticket,
        dispute_description=f"{customer.full_name} disputes again",
    )
    request = services.deletion_request_create(customer=customer, scopes=["ALL"], actor=staff)
    plan = erasure.plan_for(request)
    kept = {t["step"]: t["kept"] for t in plan["tables"]}
    reason = f"legal hold: open dispute {open_dispute.dispute_id}"
    assert any(reason in k["reason"] for k in kept["tickets.dispute"])
    assert any(reason in k["reason"] for k in kept["tickets.ticketmessage"])
    assert any(reason in k["reason"] for k in kept["customer_ops.customer"])

    identity_verified(request, approver)
    services.deletion_request_approve(request=request, actor=approver)
    run = services.deletion_request_run(request=request)
    request.refresh_from_db()
    assert request.request_status == RequestStatus.PROCESSING and run.state == ErasureState.HELD
    open_dispute.refresh_from_db()
    assert customer.full_name in open_dispute.dispute_description  # kept for the legal case
    customer.refresh_from_db()
    assert customer.status != "ANONYMISED"
    assert TicketMessage.objects.filter(ticket=rich_customer.ticket, message_text__contains="@").exists()
    # What is not held is erased already; the run keeps the identifiers until it completes.
    assert find_everywhere(["dev-zebulon-001", "203.0.113.201"]) == [
        "compliance_erasure_runs.identifiers: dev-zebulon-001",
        "compliance_erasure_runs.identifiers: 203.0.113.201",
    ]

    Dispute.objects.filter(pk=open_dispute.pk).update(dispute_status="REJECTED")
    run = services.deletion_request_run(request=request)
    request.refresh_from_db()
    assert request.request_status == RequestStatus.COMPLETED and run.state == ErasureState.DONE
    assert find_everywhere(rich_customer.identifiers) == []


def test_unresolved_fraud_alert_and_unfinished_refund_are_holds(rich_customer):
    customer = rich_customer.customer
    alert = f.FraudAlertFactory(customer=customer, order=rich_customer.orders[1])
    refund = f.RefundRequestFactory(customer=customer, order=rich_customer.orders[0], refund_status="APPROVED")
    assert "unresolved fraud alert" in held_rows(alert.__class__, customer.pk)[alert.pk]
    assert "unfinished refund" in held_rows(refund.__class__, customer.pk)[refund.pk]
    orders = held_rows(Order, customer.pk)
    assert set(orders) == {o.pk for o in rich_customer.orders}


def test_hold_rules_name_real_models_and_lookups():
    from django.apps import apps

    for rule in HOLD_RULES:
        source = apps.get_model(rule.source)
        source._meta.get_field(rule.label_field)
        for label, lookup in rule.holds.items():
            model = apps.get_model(label)
            if lookup:
                str(model.objects.filter(**{f"{lookup}__in": source.objects.all()}).query)


def test_certificate_digest_can_be_recomputed(rich_customer, staff):
    request, run = approve_and_run(rich_customer.customer, ["ALL"], staff)
    certificate = erasure.certificate(run)
    assert certificate["digest"] == digest(certificate["plan"], certificate["outcome"])
    import hashlib
    import json

    body = json.dumps({"plan": run.plan, "outcome": run.outcome}, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(body.encode()).hexdigest() == run.digest
    run.outcome["tables"][0]["rows"] += 1
    assert digest(run.plan, run.outcome) != run.digest


def test_a_scope_erases_only_its_columns(rich_customer, staff):
    approve_and_run(rich_customer.customer, [Scope.ACTIVITY_LOCATION, Scope.MARKETING], staff)
    order = Order.objects.get(pk=rich_customer.orders[0].pk)
    assert order.delivery_address == "[erased]"
    customer = Customer.objects.get(pk=rich_customer.customer.pk)
    assert customer.full_name == rich_customer.customer.full_name  # PROFILE not requested
    remaining = find_everywhere(["dev-zebulon-001"])
    assert "customer_activity_log.device_id: dev-zebulon-001" in remaining  # DEVICES_NETWORK not requested


def test_delete_rows_with_deletes_instead_of_redacting(rich_customer, staff, monkeypatch):
    declared = TicketMessage.personal_data
    monkeypatch.setattr(
        TicketMessage, "personal_data", dataclasses.replace(declared, delete_rows_with=Scope.SUPPORT_CONTENT)
    )
    steps.cache_clear()
    try:
        request, run = approve_and_run(rich_customer.customer, [Scope.SUPPORT_CONTENT], staff)
        assert not TicketMessage.objects.filter(ticket=rich_customer.ticket).exists()
        assert _outcome_rows(run.outcome)["tickets.ticketmessage"] == 2
    finally:
        steps.cache_clear()


def test_immutable_logs_still_refuse_writes_after_an_erasure(rich_customer, staff):
    approve_and_run(rich_customer.customer, ["ALL"], staff)
    for table in ("customer_activity_log", "customer_audit_log", "customer_consent_log", "compliance_staff_access_log"):
        for sql in (f"UPDATE {table} SET ip_address = 'x'", f"DELETE FROM {table}"):
            operation = sql.split()[0]
            with (
                pytest.raises(DatabaseError, match=rf"{table}(_\w+)?: immutable log, {operation} is not allowed"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)


def test_every_model_with_a_customer_declares_personal_data():
    """ARCHITECTURE.md: a new table cannot be forgotten by erasure, export or masking."""
    from django.apps import apps

    history = set(historical_models().values())
    declared = declarations()
    missing = []
    for model in apps.get_models():
        if model in history or model is Customer or model._meta.proxy:
            continue
        points_at_customer = any(
            f.is_relation and f.many_to_one | f.one_to_one and f.related_model is Customer
            for f in model._meta.concrete_fields
        )
        if points_at_customer and model not in declared:
            missing.append(model._meta.label)
    assert missing == []
    # Every declared column exists and can be redacted.
    for step in steps():
        erasure.redaction(step, [Scope.ALL])
