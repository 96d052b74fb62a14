"""The ML pipeline's, the auth systems' and order approval's endpoints (issue 22): batches
are all or nothing with every bad item named; the decision costs two queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analytics.models import ActivityLog, LoginHistory
from api.models import ApiCall
from customer_ops.roles import Role
from customer_ops.scopes import DECISIONS_READ, FRAUD_WRITE, LOGS_WRITE
from fraud.models import FraudAlert, SuspiciousActivity, VerificationHistory
from tests.api.conftest import assert_problem, bearer
from tests.assertions import unchanged
from tests.factories import BlockFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def post(client, path, body, headers, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **headers, **extra)


@pytest.fixture
def pipeline(make_token):
    return bearer(make_token([FRAUD_WRITE], name="ml-pipeline")[1])


@pytest.fixture
def auth_system(make_token):
    return bearer(make_token([LOGS_WRITE], name="auth")[1])


def alert(customer, **overrides):
    return {"customer_id": customer.pk, "alert_type": "PAYMENT_FRAUD", "alert_severity": "HIGH", **overrides}


def test_alerts_batch_is_written_whole_and_logged(client, pipeline):
    customer = CustomerFactory()
    response = post(client, "/api/v1/fraud/alerts", {"items": [alert(customer)] * 3}, pipeline)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["written"] == 3 and len(body["ids"]) == 3
    assert FraudAlert.objects.filter(customer=customer, is_resolved=False).count() == 3
    assert ApiCall.objects.get(operation="create_fraud_alerts").affected_ids == [str(i) for i in body["ids"]]


def test_a_batch_with_bad_items_writes_nothing_and_names_each(client, pipeline):
    customer = CustomerFactory()
    items = [alert(customer), alert(customer, alert_severity="APOCALYPTIC"), alert(customer), {"customer_id": 10**12}]
    with unchanged(FraudAlert, FraudAlert.history.model):
        response = post(client, "/api/v1/fraud/alerts", {"items": items}, pipeline)
    body = assert_problem(response, 422)
    assert {e["index"] for e in body["errors"]} == {1, 3}
    assert any(e["index"] == 1 and e["field"] == "alert_severity" for e in body["errors"])


def test_suspicious_activities_and_the_batch_cap(client, pipeline):
    customer = CustomerFactory()
    item = {"customer_id": customer.pk, "activity_type": "LOCATION_JUMP", "detected_by": "ML_MODEL"}
    response = post(client, "/api/v1/fraud/suspicious-activities", {"items": [item]}, pipeline)
    assert response.status_code == 201, response.content
    assert SuspiciousActivity.objects.filter(customer=customer, reviewed=False).count() == 1
    with unchanged(SuspiciousActivity):
        too_many = post(client, "/api/v1/fraud/suspicious-activities", {"items": [item] * 1001}, pipeline)
    assert_problem(too_many, 422)


def test_the_fraud_scope_is_required(client, auth_system):
    with unchanged(FraudAlert):
        assert_problem(post(client, "/api/v1/fraud/alerts", {"items": [alert(CustomerFactory())]}, auth_system), 403)


def test_logs_are_appended_in_batches(client, auth_system):
    customer = CustomerFactory()
    logins = [{"customer_id": customer.pk, "login_method": "PASSWORD", "login_success": True, "ip_address": "10.0.0.1"}]
    response = post(client, "/api/v1/logs/logins", {"items": logins * 5}, auth_system)
    assert response.status_code == 201, response.content
    assert response.json()["written"] == 5 and LoginHistory.objects.filter(customer=customer).count() == 5

    verification = {
        "customer_id": customer.pk,
        "verification_type": "EMAIL",
        "verification_method": "OTP",
        "verification_status": "SUCCESS",
    }
    response = post(client, "/api/v1/logs/verifications", {"items": [verification]}, auth_system)
    assert response.status_code == 201, response.content
    assert VerificationHistory.objects.filter(customer=customer).count() == 1

    activity = {"customer_id": customer.pk, "activity_type": "APP_OPENED"}
    response = post(client, "/api/v1/logs/activities", {"items": [activity, activity]}, auth_system)
    assert response.status_code == 201, response.content
    assert ActivityLog.objects.filter(customer=customer).count() == 2


def test_a_bad_log_row_refuses_the_batch(client, auth_system):
    customer = CustomerFactory()
    good = {"customer_id": customer.pk, "login_method": "PASSWORD", "login_success": True}
    bad = {**good, "ip_address": "999.1.1.1"}
    with unchanged(LoginHistory):
        body = assert_problem(post(client, "/api/v1/logs/logins", {"items": [good, good, bad]}, auth_system), 422)
    assert [e["index"] for e in body["errors"]] == [2]


@pytest.fixture
def approval(make_token):
    return bearer(make_token([DECISIONS_READ], name="order-approval")[1])


def test_decision_for_a_clear_customer_in_two_queries(client, approval, django_assert_num_queries):
    customer = CustomerFactory()
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/customers/{customer.pk}/decision", {"service": "FOOD"}, **approval)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["may_order"] and body["may_pay"] and body["blocks"] == []


def test_decision_names_the_block_for_that_service_only(client, approval):
    customer = CustomerFactory()
    BlockFactory(customer=customer, block_type="SERVICE_BLOCK", service_type="FOOD")
    food = client.get(f"/api/v1/customers/{customer.pk}/decision", {"service": "FOOD"}, **approval).json()
    ride = client.get(f"/api/v1/customers/{customer.pk}/decision", {"service": "RIDE"}, **approval).json()
    assert not food["may_order"] and food["blocks"][0]["block_type"] == "SERVICE_BLOCK"
    assert ride["may_order"] and ride["blocks"] == []


def test_decision_refusals(client, approval, make_token):
    customer = CustomerFactory()
    url = f"/api/v1/customers/{customer.pk}/decision"
    assert_problem(client.get("/api/v1/customers/999999999/decision", {"service": "FOOD"}, **approval), 404)
    assert_problem(client.get(url, {"service": "BOAT"}, **approval), 422)
    assert_problem(client.get(url, **approval), 422)
    assert_problem(client.get(url, {"service": "FOOD"}), 401)
    assert_problem(client.get(url, {"service": "FOOD"}, **bearer(make_token([FRAUD_WRITE])[1])), 403)


def test_ingested_logins_and_activities_are_matched_against_the_lists(client, auth_system, make_staff):
    """The ingest path raises list matches with the batch (issue 25, item 3), once per customer."""
    from fraud import services as fraud_services
    from fraud.models import ListEntry

    analyst = make_staff(Role.FRAUD)
    entry = fraud_services.list_entry_add(kind="DEVICE_ID", value="dev-ring-1", reason="ring", actor=analyst)
    ListEntry.objects.filter(pk=entry.pk).update(created_at=entry.created_at - dt.timedelta(minutes=1))
    ring, bystander = CustomerFactory(), CustomerFactory()
    login = {"customer_id": ring.pk, "login_method": "PASSWORD", "login_success": True, "device_id": "dev-ring-1"}
    other = {**login, "customer_id": bystander.pk, "device_id": "dev-other"}
    raised = SuspiciousActivity.objects.filter(evidence__list_entry_id=entry.pk)
    assert post(client, "/api/v1/logs/logins", {"items": [login, other]}, auth_system).status_code == 201
    assert list(raised.values_list("customer_id", flat=True)) == [ring.pk]
    second = CustomerFactory()
    activity = {"customer_id": second.pk, "activity_type": "APP_OPENED", "device_id": "dev-ring-1"}
    again = {**activity, "customer_id": ring.pk}  # the ring customer is raised once per entry
    assert post(client, "/api/v1/logs/activities", {"items": [activity, again]}, auth_system).status_code == 201
    assert sorted(raised.values_list("customer_id", flat=True)) == sorted([ring.pk, second.pk])
