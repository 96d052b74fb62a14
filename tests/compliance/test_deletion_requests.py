"""Deletion requests: every transition and refusal, bad input, the job, the admin and its 403s."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance import erasure, services
from compliance.choices import RequestStatus
from compliance.models import AccessLog, AuditLog, DataDeletionRequest, ErasureRun
from customer_ops.roles import Role
from tests import factories as f
from tests.assertions import unchanged
from tests.compliance.conftest import find_everywhere

pytestmark = pytest.mark.django_db

# What a refused call could have written: each refusal re-reads it (tests/README.md).
ERASABLE_TABLES = (*apps.get_app_config("compliance").get_models(), *apps.get_app_config("customer_ops").get_models())


@pytest.fixture
def compliance_user(make_staff):
    return make_staff(Role.COMPLIANCE)


@pytest.fixture
def approver(make_staff):
    """A second compliance officer (four eyes: the recorder cannot approve)."""
    return make_staff(Role.COMPLIANCE)


@pytest.fixture
def pending(compliance_user):
    customer = f.CustomerFactory(full_name="Pending Person")
    f.OrderFactory(customer=customer, delivery_address="7 Pending Road")
    request = services.deletion_request_create(
        customer=customer, scopes=["ALL"], reason="leaving", actor=compliance_user
    )
    return f.identity_verified(request, compliance_user)


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
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match=message):
        services.deletion_request_create(customer=customer, scopes=scopes, actor=compliance_user)
    assert not DataDeletionRequest.objects.filter(customer=customer).exists()


def test_create_refuses_a_second_open_request_and_a_future_date(pending, compliance_user):
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match="already open"):
        services.deletion_request_create(customer=pending.customer, scopes=["PROFILE"], actor=compliance_user)
    other = f.CustomerFactory()
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match="future"):
        services.deletion_request_create(
            customer=other,
            scopes=["PROFILE"],
            requested_at=timezone.now() + dt.timedelta(days=1),
            actor=compliance_user,
        )


def test_approve_moves_to_processing_and_queues_the_erasure_for_the_job(pending, approver):
    services.deletion_request_approve(request=pending, actor=approver)
    pending.refresh_from_db()
    assert pending.request_status == RequestStatus.PROCESSING
    assert pending.processed_by == approver and pending.processed_at is not None
    assert pending.completed_at is None
    assert pending.erasure.plan["scopes"]
    # Approval erases nothing: the job does, later.
    assert pending.erasure.chunks == 0 and pending.erasure.progress == {}
    assert find_everywhere(["7 Pending Road", "Pending Person"]) != []
    call_command("process_deletion_requests", stdout=io.StringIO())
    pending.refresh_from_db()
    assert pending.request_status == RequestStatus.COMPLETED and pending.completed_at is not None
    assert find_everywhere(["7 Pending Road", "Pending Person"]) == []


def _trail(request):
    return list(
        AuditLog.objects.filter(customer=request.customer).order_by("id").values_list("actor_id", "action_reason")
    )


def test_the_officer_who_recorded_a_request_cannot_approve_it(pending, compliance_user, approver):
    rows_before = list(DataDeletionRequest.objects.filter(pk=pending.pk).values())
    trail_before = _trail(pending)
    with pytest.raises(services.ComplianceError, match="You recorded .*another compliance officer must approve it"):
        services.deletion_request_approve(request=pending, actor=compliance_user)
    # Nothing changed: the request, its (absent) run, the audit trail.
    assert list(DataDeletionRequest.objects.filter(pk=pending.pk).values()) == rows_before
    assert not ErasureRun.objects.filter(request=pending).exists()
    assert _trail(pending) == trail_before

    services.deletion_request_approve(request=pending, actor=approver)
    # The trail shows both: who recorded (the CREATE entry) and who approved, naming the recorder.
    trail = _trail(pending)
    recorded, approved = trail[0], trail[-1]  # between them: the identity verification
    assert recorded == (compliance_user.pk, f"GDPR erasure {pending.request_id}: recorded")
    assert approved[0] == approver.pk
    assert (
        approved[1]
        == f"GDPR erasure {pending.request_id}: approved (recorded by {_name(compliance_user)} #{compliance_user.pk})"
    )


def _name(user):
    return AuditLog.objects.filter(actor_id=user.pk).values_list("actor_name", flat=True).first()


def test_reject_needs_a_reason_and_writes_nothing_without_one(pending, compliance_user):
    # Rejecting one's own request is allowed: only the irreversible approval needs four eyes.
    before = AuditLog.objects.count()
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match="reason"):
        services.deletion_request_reject(request=pending, reason="  ", actor=compliance_user)
    assert _status(pending) == RequestStatus.PENDING and AuditLog.objects.count() == before
    services.deletion_request_reject(request=pending, reason="Identity not verified", actor=compliance_user)
    pending.refresh_from_db()
    assert pending.request_status == RequestStatus.REJECTED
    assert pending.rejection_reason == "Identity not verified" and pending.processed_by == compliance_user


def _rewrite_scope(request, scopes):
    """Another writer (a service of the platform, in its own transaction: here a savepoint,
    which writes under its own transaction id) changes the request while it stays PENDING."""
    with transaction.atomic():
        DataDeletionRequest.objects.filter(pk=request.pk).update(deletion_scope=scopes)


def test_a_stale_version_is_a_conflict_and_writes_nothing(pending, approver):
    """The approver decides on the plan they saw: a request changed since (still PENDING, so
    the status check alone would let it through) is refused, and nothing is written."""
    seen = services.deletion_request_version(pending)
    assert seen == services.deletion_request_version(pending)  # reading it changes nothing
    _rewrite_scope(pending, ["PROFILE"])
    assert services.deletion_request_version(pending) != seen
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceConflict, match="changed by someone else"):
        services.deletion_request_approve(request=pending, actor=approver, expected_version=seen)
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceConflict, match="changed by someone else"):
        services.deletion_request_reject(request=pending, reason="Not verified", actor=approver, expected_version=seen)
    assert _status(pending) == RequestStatus.PENDING and not ErasureRun.objects.filter(request=pending).exists()

    current = services.deletion_request_version(pending)
    services.deletion_request_reject(request=pending, reason="Not verified", actor=approver, expected_version=current)
    assert _status(pending) == RequestStatus.REJECTED
    assert services.deletion_request_version(pending) != current  # the decision is a write too


def test_the_admin_sends_the_version_it_showed(client, approver, pending):
    client.force_login(approver)
    change = reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk])
    approve = reverse("admin:compliance_deletion_approve", args=[pending.pk])
    reject = reverse("admin:compliance_deletion_reject", args=[pending.pk])
    page = client.get(change)
    seen = page.context["version"]
    assert seen == services.deletion_request_version(pending)
    body = page.content.decode()
    assert body.count(f'name="version" value="{seen}"') == 2  # the approve and the reject form
    assert f'name="version" value="{seen}"' in client.get(reject).content.decode()

    _rewrite_scope(pending, ["PROFILE"])
    with unchanged(*ERASABLE_TABLES):
        refused = client.post(approve, {"version": seen}, follow=True)
        assert "was changed by someone else since you opened it" in refused.content.decode()
        stale = client.post(reject, {"refusal_reason": "OTHER", "rejection_reason": "Not verified", "version": seen})
        assert stale.status_code == 200 and "changed by someone else" in str(stale.context["form"].errors)
        garbled = client.post(approve, {"version": "not-a-version"}, follow=True)
        assert "version is unreadable" in garbled.content.decode()
        garbled = client.post(reject, {"refusal_reason": "OTHER", "rejection_reason": "Not verified", "version": "-1"})
        assert "version is unreadable" in garbled.content.decode()
    assert _status(pending) == RequestStatus.PENDING

    fresh = client.get(change).context["version"]
    client.post(approve, {"version": fresh})
    assert _status(pending) == RequestStatus.PROCESSING


@pytest.mark.parametrize("status", ["PROCESSING", "COMPLETED", "REJECTED"])
def test_only_pending_requests_can_be_approved_or_rejected(compliance_user, status):
    request = f.DataDeletionRequestFactory(request_status=status, deletion_scope=["ALL"])
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match="only a pending request"):
        services.deletion_request_approve(request=request, actor=compliance_user)
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match="only a pending request"):
        services.deletion_request_reject(request=request, reason="x", actor=compliance_user)
    assert _status(request) == status


@pytest.mark.parametrize("status", ["PENDING", "COMPLETED", "REJECTED"])
def test_only_processing_requests_are_erased(status):
    request = f.DataDeletionRequestFactory(request_status=status, deletion_scope=["ALL"])
    with unchanged(*ERASABLE_TABLES), pytest.raises(services.ComplianceError, match="only PROCESSING"):
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
    with unchanged(*ERASABLE_TABLES), pytest.raises(CommandError):  # a completed request has nothing left to do
        call_command("process_deletion_requests", "--request", request.request_id, stdout=io.StringIO())


# --- admin --------------------------------------------------------------------------------


def test_pending_request_page_shows_the_plan_and_holds(client, compliance_user, pending):
    dispute = f.DisputeFactory(customer=pending.customer, legal_notes="Pending Person called twice")
    client.force_login(compliance_user)
    page = client.get(reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk]))
    assert page.status_code == 200
    plan = page.context["plan"]
    assert plan == erasure.plan_for(pending)
    tables = {t["table"]: t for t in page.context["plan_tables"]}
    # Exactly the tables where the customer has rows, with what happens to each.
    assert set(tables) == {
        "customers",
        "orders",
        "customer_disputes",
        "tickets_historicaldispute",
        "customer_data_deletion_requests",
        # the identity verification: its row and its audit entry
        "compliance_request_handling",
        "customer_audit_log",
    }
    assert tables["orders"]["action"] == "redact" and tables["orders"]["columns"] == {
        "ACTIVITY_LOCATION": ["delivery_address"]
    }
    assert tables["orders"]["scrubbed"] == ["order_number"]
    assert "legal_notes" in tables["customer_disputes"]["scrubbed"]
    assert tables["customers"]["action"] == "anonymise"
    hold = f"legal hold: open dispute {dispute.dispute_id}"
    assert tables["customer_disputes"]["rows"] == 0
    assert tables["customer_disputes"]["kept"] == [{"rows": 1, "reason": hold}]
    # Name and its two parts, email and its local part, the phone, two delivery addresses
    # (the second, from the dispute's order, on two lines: whole and each line).
    assert plan["identifiers"] == {"address": 4, "email": 2, "name": 3, "phone": 1}
    body = page.content.decode()
    assert "<th>Scrubbed columns</th>" in body and "delivery_address" in body
    assert hold in body
    assert "Statutory deadline" in body
    # The page never shows the identifiers it will scrub, only how many.
    assert "3 name" in body and pending.customer.email not in body.split("erasure")[-1]


def test_approve_and_reject_through_the_admin(client, compliance_user, approver, pending):
    client.force_login(compliance_user)
    with unchanged(*ERASABLE_TABLES):
        bad = client.post(reverse("admin:compliance_deletion_reject", args=[pending.pk]), {"rejection_reason": ""})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert _status(pending) == RequestStatus.PENDING
    change = reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk])
    # The recorder sees why they cannot approve, and a forged POST is refused with the reason.
    page = client.get(change)
    assert page.status_code == 200 and page.context["recorded_by_you"]
    assert "another compliance officer must approve it" in page.content.decode()
    assert 'value="Approve"' not in page.content.decode()
    refused = client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk]), follow=True)
    assert "another compliance officer must approve it" in refused.content.decode()
    assert _status(pending) == RequestStatus.PENDING

    client.force_login(approver)
    assert 'value="Approve"' in client.get(change).content.decode()
    response = client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk]), follow=True)
    assert response.status_code == 200
    # Queued, not run inside the request: the page says when the job runs.
    assert _status(pending) == RequestStatus.PROCESSING
    body = response.content.decode()
    assert "the erasure job carries it out at" in body and "process_deletion_requests" in body
    assert pending.customer.full_name == "Pending Person"
    assert DataDeletionRequest.objects.get(pk=pending.pk).erasure.chunks == 0

    call_command("process_deletion_requests", stdout=io.StringIO())
    assert _status(pending) == RequestStatus.COMPLETED
    page = client.get(change).content.decode()
    run = DataDeletionRequest.objects.get(pk=pending.pk).erasure
    assert run.digest in page and "Report: completed" in page
    certificate_url = reverse("admin:compliance_deletion_certificate", args=[pending.pk])
    assert f'method="post" action="{certificate_url}"' in page
    again = client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk]))
    assert again.status_code == 302 and _status(pending) == RequestStatus.COMPLETED


def test_certificate_download_is_post_only_and_recorded(client, approver, pending):
    services.deletion_request_approve(request=pending, actor=approver)
    call_command("process_deletion_requests", stdout=io.StringIO())
    run = DataDeletionRequest.objects.get(pk=pending.pk).erasure
    url = reverse("admin:compliance_deletion_certificate", args=[pending.pk])
    client.force_login(approver)
    # A GET (a cross-site link, an image tag) is refused and records nothing.
    assert client.get(url).status_code == 405
    assert not AccessLog.objects.filter(kind="CERTIFICATE", customer=pending.customer).exists()
    # POST without the CSRF token is refused too.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(approver)
    assert strict.post(url).status_code == 403
    assert not AccessLog.objects.filter(kind="CERTIFICATE", customer=pending.customer).exists()

    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="erasure-certificate-{pending.request_id}.json"'
    document = json.loads(response.content)
    assert document["digest"] == erasure.digest(document["plan"], document["outcome"]) == run.digest
    assert (
        AccessLog.objects.filter(
            kind="CERTIFICATE", customer=pending.customer, staff=approver, detail=pending.request_id
        ).count()
        == 1
    )


def test_next_job_run_is_the_next_quarter_hour():
    from compliance.admin import next_job_run

    at = dt.datetime(2026, 11, 29, 21, 7, 30, tzinfo=dt.UTC)
    assert next_job_run(at) == dt.datetime(2026, 11, 29, 21, 15, tzinfo=dt.UTC)
    assert next_job_run(at.replace(minute=59)) == dt.datetime(2026, 11, 29, 22, 0, tzinfo=dt.UTC)
    assert next_job_run(at.replace(minute=15, second=0)) == dt.datetime(2026, 11, 29, 21, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.ANALYST])
def test_other_roles_get_403_on_requests_and_their_actions(client, make_staff, pending, role):
    client.force_login(make_staff(role))
    with unchanged(*ERASABLE_TABLES):
        assert client.get(reverse("admin:compliance_datadeletionrequest_change", args=[pending.pk])).status_code == 403
        assert client.post(reverse("admin:compliance_deletion_approve", args=[pending.pk])).status_code == 403
        reject = client.post(reverse("admin:compliance_deletion_reject", args=[pending.pk]), {"rejection_reason": "x"})
        assert reject.status_code == 403
        assert client.post(reverse("admin:compliance_customer_export", args=[pending.customer_id])).status_code == 403


def test_add_form_records_through_the_service_and_refuses_bad_input(client, compliance_user):
    customer = f.CustomerFactory()
    client.force_login(compliance_user)
    url = reverse("admin:compliance_datadeletionrequest_add")
    with unchanged(*ERASABLE_TABLES):
        bad = client.post(
            url,
            {"customer": customer.pk, "request_reason": "x", "requested_at_0": "2026-01-01", "requested_at_1": "10:00"},
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


def test_the_services_refuse_a_role_that_may_not_whoever_calls_them(pending, make_staff):
    """The role check is the service's own (issue 21), not only the admin's ``_processable``:
    a fraud analyst calling the services directly is refused and nothing is written."""
    from customer_ops.errors import NotAllowed

    analyst = make_staff(Role.FRAUD)
    tables = apps.get_app_config("compliance").get_models()
    with unchanged(*tables), pytest.raises(NotAllowed, match="may not approve or reject deletion requests"):
        services.deletion_request_approve(request=pending, actor=analyst)
    with unchanged(*tables), pytest.raises(NotAllowed, match="may not approve or reject deletion requests"):
        services.deletion_request_reject(request=pending, reason="No", actor=analyst)
    with unchanged(*tables), pytest.raises(NotAllowed, match="may not record deletion requests"):
        services.deletion_request_create(customer=f.CustomerFactory(), scopes=["ALL"], actor=analyst)
    assert _status(pending) == RequestStatus.PENDING
