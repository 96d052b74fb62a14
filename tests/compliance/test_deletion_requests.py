"""Deletion requests: every transition and refusal, bad input, the job, the admin and its 403s."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from compliance import erasure, services
from compliance.choices import RequestStatus
from compliance.models import AccessLog, AuditLog, DataDeletionRequest
from customer_ops.roles import Role
from tests import factories as f
from tests.compliance.conftest import find_everywhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def compliance_user(make_staff):
    return make_staff(Role.COMPLIANCE)


@pytest.fixture
def pending(compliance_user):
    customer = f.CustomerFactory(full_name="Pending Person")
    f.OrderFactory(customer=customer, delivery_address="7 Pending Road")
    return services.deletion_request_create(customer=customer, scopes=["ALL"], reason="leaving", actor=compliance_user)


def _status(request):
    return DataDeletionRequest.objects.get(pk=request.pk).request_status


def test_create_records_a_pending_request_and_audits_it(pending):
    assert pending.request_status == RequestStatus.PENDING and pending.request_id.startswith("DEL-")
    assert AuditLog.objects.filter(
        customer=pending.customer, action_type="CREATE", action_field="deletion_request"
    ).exists()


@pytest.mark.parametrize(
    ("scopes", "message"),
    [([], "at least one"), (["NOPE"], "Unknown"), ([""], "at least one")],
)
def test_create_refuses_bad_scopes(compliance_user, scopes, message):
    customer = f.CustomerFactory()
    with pytest.raises(services.ComplianceError, match=message):
        services.deletion_request_create(customer=customer, scopes=scopes, actor=compliance_user)
    assert not DataDeletionRequest.objects.filter(customer=customer).exists()


def test_create_refuses_a_second_open_request_and_a_future_date(pending, compliance_user):
    with pytest.raises(services.ComplianceError, match="already open"):
        services.deletion_request_create(customer=pending.customer, scopes=["PROFILE"], actor=compliance_user)
    with pytest.raises(services.ComplianceError, match="future"):
        services.deletion_request_create(
            customer=f.CustomerFactory(),
            scopes=["PROFILE"],
            requested_at=timezone.now() + dt.timedelta(days=1),
            actor=compliance_user,
        )


def test_approve_moves_to_processing_with_processed_fields_and_stores_the_plan(pending, compliance_user):
    services.deletion_request_approve(request=pending, actor=compliance_user)
    pending.refresh_from_db()
    assert pending.request_status == RequestStatus.PROCESSING
    assert pending.processed_by == compliance_user and pending.processed_at is not None
    assert pending.completed_at is None
    assert pending.erasure.plan["scopes"]


def test_approve_and_run_now_completes(pending, compliance_user):
    services.deletion_request_approve(request=pending, actor=compliance_user, run_now=True)
    pending.refresh_from_db()
    assert pending.request_status == RequestStatus.COMPLETED and pending.completed_at is not None
    assert find_everywhere(["7 Pending Road", "Pending Person"]) == []


def test_reject_needs_a_reason_and_writes_nothing_without_one(pending, compliance_user):
    before = AuditLog.objects.count()
    with pytest.raises(services.ComplianceError, match="reason"):
        services.deletion_request_reject(request=pending, reason="  ", actor=compliance_user)
    assert _status(pending) == RequestStatus.PENDING and AuditLog.objects.count() == before
    services.deletion_request_reject(request=pending, reason="Identity not verified", actor=compliance_user)
    pending.refresh_from_db()
    assert pending.request_status == RequestStatus.REJECTED
    assert pending.rejection_reason == "Identity not verified" and pending.processed_by == compliance_user


@pytest.mark.parametrize("status", ["PROCESSING", "COMPLETED", "REJECTED"])
def test_only_pending_requests_can_be_approved_or_rejected(compliance_user, status):
    request = f.DataDeletionRequestFactory(request_status=status, deletion_scope=["ALL"])
    with pytest.raises(services.ComplianceError, match="only a pending request"):
        services.deletion_request_approve(request=request, actor=compliance_user)
    with pytest.raises(services.ComplianceError, match="only a pending request"):
        services.deletion_request_reject(request=request, reason="x", actor=compliance_user)
    assert _status(request) == status


@pytest.mark.parametrize("status", ["PENDING", "COMPLETED", "REJECTED"])
def test_only_processing_requests_are_erased(status):
    request = f.DataDeletionRequestFactory(request_status=status, deletion_scope=["ALL"])
    with pytest.raises(services.ComplianceError, match="only PROCESSING"):
        services.deletion_request_run(request=request)
    assert _status(request) == status


def test_the_job_erases_requests_inserted_directly_in_processing():
    customer = f.CustomerFactory(full_name="Inserted Directly")
    request = f.DataDeletionRequestFactory(customer=customer, request_status="PROCESSING", deletion_scope=["PROFILE"])
    other = f.DataDeletionRequestFactory(request_status="PENDING", deletion_scope=["ALL"])
    out = io.StringIO()
    call_command("process_deletion_requests", stdout=out)
    assert "1 completed" in out.getvalue()
    assert _status(request) == RequestStatus.COMPLETED and _status(other) == RequestStatus.PENDING
    assert find_everywhere(["Inserted Directly"]) == []
    with pytest.raises(CommandError):  # a completed request has nothing left to do
        call_command("process_deletion_requests", "--request", request.request_id, stdout=io.StringIO())


# --- admin --------------------------------------------------------------------------------


def test_pending_request_page_shows_the_plan_and_holds(client, compliance_user, pending):
    f.DisputeFactory(customer=pending.customer)
    client.force_login(compliance_user)
    page = client.get(reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Erasure plan" in body and "customer_activity_log" not in body or "orders" in body
    assert "legal hold: open dispute" in body
    assert "Statutory deadline" in body or "statutory" in body.lower()


def test_approve_and_reject_through_the_admin(client, compliance_user, pending):
    client.force_login(compliance_user)
    bad = client.post(reverse("admin:compliance_deletion_reject", args=[pending.pk]), {"rejection_reason": ""})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert _status(pending) == RequestStatus.PENDING
    response = client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk]), {"run_now": "on"})
    assert response.status_code == 302
    assert _status(pending) == RequestStatus.COMPLETED
    page = client.get(reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk])).content.decode()
    run = DataDeletionRequest.objects.get(pk=pending.pk).erasure
    assert run.digest in page
    certificate = client.get(reverse("admin:compliance_deletion_certificate", args=[pending.pk]))
    document = json.loads(certificate.content)
    assert document["digest"] == erasure.digest(document["plan"], document["outcome"]) == run.digest
    assert AccessLog.objects.filter(kind="CERTIFICATE", customer=pending.customer).exists()
    again = client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk]))
    assert again.status_code == 302 and _status(pending) == RequestStatus.COMPLETED


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.ANALYST])
def test_other_roles_get_403_on_requests_and_their_actions(client, make_staff, pending, role):
    client.force_login(make_staff(role))
    assert client.get(reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk])).status_code == 403
    assert client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk])).status_code == 403
    assert (
        client.post(
            reverse("admin:compliance_deletion_reject", args=[pending.pk]), {"rejection_reason": "x"}
        ).status_code
        == 403
    )
    assert client.post(reverse("admin:compliance_customer_export", args=[pending.customer_id])).status_code == 403
    assert _status(pending) == RequestStatus.PENDING


def test_add_form_records_through_the_service_and_refuses_bad_input(client, compliance_user):
    customer = f.CustomerFactory()
    client.force_login(compliance_user)
    url = reverse("admin:compliance_datadeletionrequest_add")
    bad = client.post(
        url, {"customer": customer.pk, "request_reason": "x", "requested_at_0": "2026-01-01", "requested_at_1": "10:00"}
    )
    assert bad.status_code == 200 and not DataDeletionRequest.objects.filter(customer=customer).exists()
    ok = client.post(
        url,
        {
            "customer": customer.pk,
            "deletion_scope": ["PROFILE", "MARKETING"],
            "request_reason": "x",
            "requested_at_0": timezone.now().date().isoformat(),
            "requested_at_1": "00:00",
        },
    )
    assert ok.status_code == 302, ok.content
    request = DataDeletionRequest.objects.get(customer=customer)
    assert request.deletion_scope == ["PROFILE", "MARKETING"]
    assert AuditLog.objects.filter(customer=customer, action_field="deletion_request").exists()


def test_overdue_filter(client, compliance_user):
    old = f.DataDeletionRequestFactory(requested_at=timezone.now() - dt.timedelta(days=31))
    soon = f.DataDeletionRequestFactory(requested_at=timezone.now() - dt.timedelta(days=25))
    done = f.DataDeletionRequestFactory(requested_at=timezone.now() - dt.timedelta(days=40), request_status="COMPLETED")
    client.force_login(compliance_user)
    url = reverse("admin:compliance_datadeletionrequest_changelist")
    overdue = {r.pk for r in client.get(url, {"deadline": "overdue"}).context["cl"].result_list}
    assert overdue == {old.pk}
    week = {r.pk for r in client.get(url, {"deadline": "week"}).context["cl"].result_list}
    assert week == {soon.pk}
    assert done.pk not in overdue
