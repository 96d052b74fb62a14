"""The privacy portal's endpoints: file deletion and access requests (issue 22). They enter
the four-eyes workflow; nothing is erased or exported by the API."""

from __future__ import annotations

import json

import pytest

from compliance.models import AccessRequest, AuditLog, DataDeletionRequest
from compliance.services import access_request_approve, deletion_request_approve
from customer_ops.roles import Role
from customer_ops.scopes import PRIVACY_WRITE, TICKETS_WRITE
from tests.api.conftest import assert_problem, bearer
from tests.assertions import unchanged
from tests.factories import CustomerFactory, identity_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(make_token):
    return bearer(make_token([PRIVACY_WRITE], name="privacy-portal")[1])


def post(client, path, body, headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_deletion_request_is_filed_pending_and_any_officer_may_approve_it(client, portal, make_staff):
    customer = CustomerFactory()
    response = post(
        client, "/api/v1/privacy/deletion-requests", {"customer_id": customer.pk, "scopes": ["ALL"]}, portal
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "PENDING" and body["scopes"] == ["ALL"]
    filed = DataDeletionRequest.objects.get(request_id=body["request_id"])
    entry = AuditLog.objects.get(customer_id=customer.pk, action_field="deletion_request")
    assert entry.actor_name == "api:privacy-portal"
    approving_officer = make_staff(Role.COMPLIANCE)
    identity_verified(filed, approving_officer)
    deletion_request_approve(request=filed, actor=approving_officer)  # four eyes: the portal recorded it
    filed.refresh_from_db()
    assert filed.request_status == "PROCESSING"


def test_second_open_deletion_request_is_a_409_and_bad_scope_a_422(client, portal):
    customer = CustomerFactory()
    body = {"customer_id": customer.pk, "scopes": ["ALL"]}
    assert post(client, "/api/v1/privacy/deletion-requests", body, portal).status_code == 201
    with unchanged(DataDeletionRequest, AuditLog):
        assert_problem(post(client, "/api/v1/privacy/deletion-requests", body, portal), 409)
        assert_problem(
            post(client, "/api/v1/privacy/deletion-requests", {**body, "scopes": ["EVERYTHING"]}, portal), 422
        )
        assert_problem(post(client, "/api/v1/privacy/deletion-requests", {**body, "customer_id": 10**12}, portal), 404)


def test_access_request_is_filed_pending(client, portal, make_staff):
    customer = CustomerFactory()
    response = post(
        client, "/api/v1/privacy/access-requests", {"customer_id": customer.pk, "reason": "by email"}, portal
    )
    assert response.status_code == 201, response.content
    filed = AccessRequest.objects.get(request_id=response.json()["request_id"])
    assert filed.status == "PENDING" and filed.recorded_via == "api:privacy-portal"
    with unchanged(AccessRequest, AuditLog):  # one pending request per customer at a time
        assert_problem(post(client, "/api/v1/privacy/access-requests", {"customer_id": customer.pk}, portal), 409)
    approving_officer = make_staff(Role.COMPLIANCE)
    identity_verified(filed, approving_officer)
    access_request_approve(request=filed, actor=approving_officer)  # four eyes: the portal recorded it
    filed.refresh_from_db()
    assert filed.status == "APPROVED"


def test_the_privacy_scope_is_required(client, make_token):
    other = bearer(make_token([TICKETS_WRITE])[1])
    customer = CustomerFactory()
    with unchanged(DataDeletionRequest, AccessRequest, AuditLog):
        body = {"customer_id": customer.pk, "scopes": ["ALL"]}
        assert_problem(post(client, "/api/v1/privacy/deletion-requests", body, other), 403)
        assert_problem(post(client, "/api/v1/privacy/access-requests", {"customer_id": customer.pk}, other), 403)
