"""The ML pipeline's and the auth system's batches into the fraud tables: every rule, all or
nothing (the tables re-read after a refusal), every bad item named, and who may send them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customer_ops.context import CallingSystem
from customer_ops.errors import Invalid, NotAllowed
from customer_ops.roles import Role
from customer_ops.scopes import API_SCOPES, FRAUD_WRITE, LOGS_WRITE
from fraud import services
from fraud.models import FraudAlert, SuspiciousActivity, VerificationHistory
from fraud.services import FraudInvalid, row_version
from tests.assertions import unchanged
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

APP_TABLES = tuple(apps.get_app_config("fraud").get_models())  # with their history tables
PIPELINE = CallingSystem(name="ml-pipeline", client_id=7, scopes=frozenset({FRAUD_WRITE}))
AUTH = CallingSystem(name="auth", client_id=8, scopes=frozenset({LOGS_WRITE}))


@pytest.fixture
def customer():
    return CustomerFactory()


def _alert(customer, **extra) -> dict:
    return {"customer_id": customer.pk, "alert_type": "PAYMENT_FRAUD", "alert_severity": "HIGH", **extra}


def _activity(customer, **extra) -> dict:
    return {"customer_id": customer.pk, "activity_type": "LOCATION_JUMP", "detected_by": "ML_MODEL", **extra}


def _attempt(customer, **extra) -> dict:
    return {
        "customer_id": customer.pk,
        "verification_type": "MOBILE",
        "verification_method": "OTP",
        "verification_status": "SUCCESS",
        **extra,
    }


def _refused(call, **kwargs) -> list[dict]:
    """Call the service expecting a refusal that writes nothing; returns its error list."""
    with unchanged(*APP_TABLES), pytest.raises(FraudInvalid) as refused:
        call(**kwargs)
    assert isinstance(refused.value, Invalid) and "nothing was written" in refused.value.message
    return refused.value.errors


# --- fraud alerts ------------------------------------------------------------------------------


def test_alerts_are_created_open_with_their_history(customer):
    order = OrderFactory(customer=customer)
    created = services.fraud_alerts_create(
        items=[
            _alert(customer, order_id=order.pk, alert_description="Card tested 9 times", evidence={"cards": 9}),
            _alert(customer, alert_type="DEVICE_MISMATCH", alert_severity="LOW"),
        ],
        actor=PIPELINE,
    )
    assert [a.pk for a in created] == list(
        FraudAlert.objects.filter(customer=customer).order_by("id").values_list("pk", flat=True)
    )
    first = FraudAlert.objects.get(pk=created[0].pk)
    assert (first.order, first.alert_severity, first.evidence, first.is_resolved) == (
        order,
        "HIGH",
        {"cards": 9},
        False,
    )
    assert first.action_taken == "" and first.action_taken_at is None
    record = first.history.get()
    assert record.history_type == "+" and record.history_user is None
    assert record.history_change_reason == "Created by api:ml-pipeline"
    assert row_version(first) == record.history_date  # the analysts' forms get a version


def test_an_analyst_may_create_alerts_too(make_staff, customer):
    analyst = make_staff(Role.FRAUD)
    (alert,) = services.fraud_alerts_create(items=[_alert(customer)], actor=analyst)
    assert alert.history.get().history_user == analyst


def test_one_bad_alert_refuses_the_batch_and_every_bad_item_is_named(customer):
    erased = CustomerFactory(status="ANONYMISED")
    others_order = OrderFactory()
    items = [
        _alert(customer),  # 0: good
        _alert(customer, alert_type="CARD_TESTING"),  # 1: not in the spec's list
        _alert(customer, alert_severity="SEVERE", is_resolved=True),  # 2: two problems
        {"alert_type": "PAYMENT_FAILURE", "alert_severity": "LOW"},  # 3: no customer, bad type
        _alert(customer, order_id=others_order.pk),  # 4: another customer's order
        {**_alert(customer), "customer_id": 10**12},  # 5: unknown customer
        _alert(erased),  # 6: erased customer
        _alert(customer, evidence=["not", "an", "object"]),  # 7
        _alert(customer, alert_description="nul\x00byte"),  # 8: PostgreSQL text holds no NUL
        "not an object",  # 9
        _alert(customer, created_at="2026-01-01T00:00:00Z"),  # 10: the system sets created_at
        _alert(customer),  # 11: good
    ]
    errors = _refused(services.fraud_alerts_create, items=items, actor=PIPELINE)
    assert {(e["index"], e["field"]) for e in errors} == {
        (1, "alert_type"),
        (2, "alert_severity"),
        (2, "is_resolved"),
        (3, "customer_id"),
        (3, "alert_type"),
        (4, "order_id"),
        (5, "customer_id"),
        (6, "customer_id"),
        (7, "evidence"),
        (8, "alert_description"),
        (9, ""),
        (10, "created_at"),
    }
    by = {(e["index"], e["field"]): e["message"] for e in errors}
    assert "PAYMENT_FRAUD" in by[(1, "alert_type")]
    assert by[(3, "customer_id")] == "is required"
    assert by[(5, "customer_id")] == f"customer {10**12} does not exist"
    assert "erased" in by[(6, "customer_id")]
    assert f"is not customer {customer.pk}'s" in by[(4, "order_id")]
    assert by[(10, "created_at")] == "is not a field this batch accepts"
    assert [e["index"] for e in errors] == sorted(e["index"] for e in errors)


def test_the_refusal_says_how_many_items_are_bad(customer):
    with pytest.raises(FraudInvalid, match=r"^2 of the 3 fraud alerts are invalid; nothing was written\.$"):
        services.fraud_alerts_create(
            items=[_alert(customer), _alert(customer, alert_severity="x"), _alert(customer, alert_type="y")],
            actor=PIPELINE,
        )


def test_a_batch_over_the_cap_or_not_a_list_is_refused_whole(customer):
    too_many = [_alert(customer)] * (services.MAX_DETECTIONS + 1)
    with unchanged(*APP_TABLES), pytest.raises(FraudInvalid, match="At most 1,000 fraud alerts") as refused:
        services.fraud_alerts_create(items=too_many, actor=PIPELINE)
    assert refused.value.field == "items"
    with pytest.raises(FraudInvalid, match="must be sent as a list"):
        services.fraud_alerts_create(items={"customer_id": customer.pk}, actor=PIPELINE)
    assert len(services.fraud_alerts_create(items=[_alert(customer)] * 1000, actor=PIPELINE)) == 1000


def test_an_empty_batch_writes_nothing(customer):
    with unchanged(*APP_TABLES):
        assert services.fraud_alerts_create(items=[], actor=PIPELINE) == []


# --- suspicious activities ---------------------------------------------------------------------


def test_activities_are_recorded_for_review(customer):
    (activity,) = services.suspicious_activities_create(
        items=[_activity(customer, detection_confidence=87.5, risk_score="64.25", evidence={"km": 900})],
        actor=PIPELINE,
    )
    activity = SuspiciousActivity.objects.get(pk=activity.pk)
    assert (activity.detection_confidence, activity.risk_score) == (Decimal("87.50"), Decimal("64.25"))
    assert (activity.requires_review, activity.reviewed, activity.evidence) == (True, False, {"km": 900})
    assert activity.history.get().history_type == "+"
    (quiet,) = services.suspicious_activities_create(items=[_activity(customer, requires_review=False)], actor=PIPELINE)
    assert quiet.requires_review is False


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"activity_type": "ACCOUNT_TAKEOVER"}, "activity_type"),
        ({"detected_by": "RULES"}, "detected_by"),
        ({"detection_confidence": 100.01}, "detection_confidence"),
        ({"detection_confidence": -1}, "detection_confidence"),
        ({"risk_score": "NaN"}, "risk_score"),
        ({"risk_score": True}, "risk_score"),
        ({"risk_score": "high"}, "risk_score"),
        ({"requires_review": "yes"}, "requires_review"),
        ({"reviewed": True}, "reviewed"),  # the fraud team's field
        ({"action_taken": "blocked"}, "action_taken"),  # the fraud team's field
        ({"customer_id": "12"}, "customer_id"),
        ({"customer_id": 0}, "customer_id"),
        ({"evidence": {"x": float("inf")}}, "evidence"),
        ({"evidence": {"x": "a\x00b"}}, "evidence"),
        ({"activity_description": "x" * 10_001}, "activity_description"),
    ],
)
def test_each_activity_rule(customer, extra, field):
    errors = _refused(
        services.suspicious_activities_create, items=[_activity(customer), _activity(customer, **extra)], actor=PIPELINE
    )
    assert [(e["index"], e["field"]) for e in errors] == [(1, field)]


def test_an_activity_at_the_edges_of_its_ranges_is_accepted(customer):
    created = services.suspicious_activities_create(
        items=[
            _activity(customer, detection_confidence=0, risk_score=100),
            _activity(customer, detection_confidence="100", risk_score=0.0, detected_by="MANUAL_REVIEW"),
        ],
        actor=PIPELINE,
    )
    assert len(created) == 2


# --- verification history ----------------------------------------------------------------------


def test_verification_attempts_are_appended(customer):
    at = timezone.now() - dt.timedelta(hours=2)
    written = services.verification_history_append(
        items=[
            _attempt(customer, ip_address="2001:DB8::1", device_id="dev-1", created_at=at.isoformat()),
            _attempt(
                customer, verification_status="FAILED", attempt_number=2, failure_reason="Wrong code", ip_address=""
            ),
        ],
        actor=AUTH,
    )
    assert written == 2
    first, second = VerificationHistory.objects.filter(customer=customer).order_by("id")
    assert (first.ip_address, first.device_id, first.created_at, first.attempt_number) == (
        "2001:db8::1",
        "dev-1",
        at,
        1,
    )
    assert (second.verification_status, second.attempt_number, second.failure_reason) == ("FAILED", 2, "Wrong code")
    assert timezone.now() - second.created_at < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"verification_type": "PASSPORT"}, "verification_type"),
        ({"verification_method": "SMS"}, "verification_method"),
        ({"verification_status": "PENDING"}, "verification_status"),
        ({"attempt_number": 0}, "attempt_number"),
        ({"attempt_number": 2**31}, "attempt_number"),
        ({"attempt_number": 1.5}, "attempt_number"),
        ({"ip_address": "10.0.0.256"}, "ip_address"),
        ({"ip_address": "not-an-ip"}, "ip_address"),
        ({"created_at": "2026-12-05 10:00"}, "created_at"),  # no UTC offset
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, "created_at"),  # future
        ({"created_at": "2019-01-01T00:00:00Z"}, "created_at"),  # too late to arrive
        ({"session_id": 1}, "session_id"),  # not a field of this table
    ],
)
def test_each_verification_rule(customer, extra, field):
    errors = _refused(
        services.verification_history_append, items=[_attempt(customer, **extra), _attempt(customer)], actor=AUTH
    )
    assert [(e["index"], e["field"]) for e in errors] == [(0, field)]


def test_a_timestamp_a_little_ahead_of_our_clock_is_accepted(customer):
    ahead = timezone.now() + dt.timedelta(minutes=2)
    assert services.verification_history_append(items=[_attempt(customer, created_at=ahead)], actor=AUTH) == 1


def test_one_bad_attempt_in_five_thousand_writes_nothing(customer):
    items = [_attempt(customer) for _ in range(services.MAX_LOG_ROWS)]
    items[4321] = _attempt(customer, verification_status="DONE")
    errors = _refused(services.verification_history_append, items=items, actor=AUTH)
    assert [e["index"] for e in errors] == [4321]
    items[4321] = _attempt(customer)
    assert services.verification_history_append(items=items, actor=AUTH) == 5000


def test_the_batch_checks_its_references_in_one_query(customer):
    items = [_attempt(CustomerFactory()) for _ in range(50)] + [_attempt(customer, customer_id=10**9)]
    with CaptureQueriesContext(connection) as queries, pytest.raises(FraudInvalid):
        services.verification_history_append(items=items, actor=AUTH)
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and "customers" in statements[0]


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["fraud_alerts_create", "suspicious_activities_create"])
def test_detections_need_the_fraud_scope_or_the_fraud_role(make_staff, customer, service):
    call = getattr(services, service)
    item = _alert(customer) if service == "fraud_alerts_create" else _activity(customer)
    others = CallingSystem(name="other", scopes=frozenset(API_SCOPES) - {FRAUD_WRITE})
    for actor in (others, make_staff(Role.AGENT), make_staff(Role.ANALYST), make_staff(None)):
        with unchanged(*APP_TABLES), pytest.raises(NotAllowed):
            call(items=[item], actor=actor)
    assert call.scope == FRAUD_WRITE


def test_verification_history_is_the_auth_systems_alone(superuser, make_staff, customer):
    for actor in (superuser, make_staff(Role.FRAUD), PIPELINE):
        with unchanged(*APP_TABLES), pytest.raises(NotAllowed):
            services.verification_history_append(items=[_attempt(customer)], actor=actor)
    assert services.verification_history_append(items=[_attempt(customer)], actor=None) == 1  # a job may
