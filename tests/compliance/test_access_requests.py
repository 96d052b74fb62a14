"""Right-of-access requests (issue 22): recorded by an officer or the privacy portal, decided
under four eyes, the approved one leading to the customer's data export; and the privacy
portal's deletion requests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance import export, services
from compliance.choices import AccessKind, AccessRequestStatus, RequestStatus
from compliance.home import compliance_tiles
from compliance.models import AccessLog, AccessRequest, AuditLog, DataDeletionRequest
from customer_ops.context import CallingSystem
from customer_ops.errors import Conflict, Invalid, NotAllowed
from customer_ops.home import counted
from customer_ops.roles import Role
from customer_ops.scopes import API_SCOPES, PRIVACY_WRITE
from tests import factories as f
from tests.assertions import assert_page_shows, unchanged
from tests.factories import identity_verified

pytestmark = pytest.mark.django_db

PORTAL = CallingSystem(name="privacy-portal", client_id=7, scopes=frozenset({PRIVACY_WRITE}))


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.COMPLIANCE, first_name="Olive", last_name="Officer")


@pytest.fixture
def approver(make_staff):
    return make_staff(Role.COMPLIANCE)


@pytest.fixture
def customer(db):
    return f.CustomerFactory()


@pytest.fixture
def pending(customer, officer):
    request = services.access_request_create(customer=customer, reason="  wants a copy  ", actor=officer)
    return f.identity_verified(request, officer)


def _fresh(request) -> AccessRequest:
    return AccessRequest.objects.get(pk=request.pk)


# --- recording ----------------------------------------------------------------------------


def test_an_officer_records_a_pending_request_with_its_audit_entry(pending, customer, officer):
    row = _fresh(pending)
    assert row.request_id.startswith("ACC-") and row.status == AccessRequestStatus.PENDING
    assert (row.request_reason, row.recorded_by_id, row.recorded_via) == ("wants a copy", officer.pk, "")
    entry = AuditLog.objects.get(customer=customer, action_field="access_request")
    assert (entry.action_type, entry.new_value, entry.actor_id) == ("CREATE", row.request_id, officer.pk)


def test_the_privacy_portal_files_a_request_and_any_officer_approves_it(customer, officer):
    request = services.access_request_create(customer=customer, actor=PORTAL)
    row = _fresh(request)
    assert (row.recorded_by_id, row.recorded_via) == (None, "api:privacy-portal")
    entry = AuditLog.objects.get(customer=customer, action_field="access_request")
    assert (entry.actor_type, entry.actor_id, entry.actor_name) == ("SYSTEM", None, "api:privacy-portal")
    identity_verified(request, officer)
    services.access_request_approve(request=request, actor=officer)
    assert _fresh(request).status == AccessRequestStatus.APPROVED


@pytest.mark.parametrize(
    "actor",
    [CallingSystem(name="no-scope"), CallingSystem(name="others", scopes=frozenset(API_SCOPES) - {PRIVACY_WRITE})],
)
def test_a_calling_system_without_privacy_write_is_refused(customer, actor):
    with unchanged(AccessRequest), pytest.raises(NotAllowed, match="record access requests"):
        services.access_request_create(customer=customer, actor=actor)


def test_one_pending_request_per_customer(pending, customer, officer):
    with unchanged(AccessRequest), pytest.raises(Conflict, match=f"{pending.request_id} is already pending"):
        services.access_request_create(customer=customer, actor=PORTAL)
    services.access_request_reject(request=pending, reason="duplicate of a call", actor=officer)
    services.access_request_create(customer=customer, actor=PORTAL)  # decided: a new one may follow


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"reason": "x" * 2001}, "longer than"),
        ({"reason": "a\x00b"}, "NUL"),
        ({"reason": 5}, "text"),
        ({"customer": None}, "customer"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(customer, officer, kwargs, words):
    with unchanged(AccessRequest), pytest.raises(Invalid, match=words):
        services.access_request_create(**{"customer": customer, "actor": officer, **kwargs})


# --- deciding -----------------------------------------------------------------------------


def test_the_recorder_may_not_approve_four_eyes(pending, officer):
    with unchanged(pending), pytest.raises(NotAllowed, match="four eyes"):
        services.access_request_approve(request=pending, actor=officer)


def test_another_officer_approves_with_an_audit_entry(pending, approver):
    services.access_request_approve(request=pending.pk, actor=approver, expected_version=pending.updated_at)
    row = _fresh(pending)
    assert (row.status, row.decided_by_id) == (AccessRequestStatus.APPROVED, approver.pk)
    assert row.decided_at is not None and row.updated_at > pending.updated_at
    entry = AuditLog.objects.get(action_field="access_request.status")
    assert (entry.old_value, entry.new_value, entry.actor_id) == ("PENDING", "APPROVED", approver.pk)


def test_a_stale_version_is_refused(pending, approver):
    stale = pending.updated_at - dt.timedelta(seconds=1)
    with unchanged(pending), pytest.raises(Conflict, match="changed since you opened it"):
        services.access_request_approve(request=pending, actor=approver, expected_version=stale)
    with unchanged(pending), pytest.raises(Conflict, match="changed since you opened it"):
        services.access_request_reject(request=pending, reason="no", actor=approver, expected_version=stale)


def test_a_decided_request_is_decided_once(pending, approver, officer):
    services.access_request_approve(request=pending, actor=approver)
    with unchanged(_fresh(pending)), pytest.raises(Conflict, match="approved: only a pending request"):
        services.access_request_reject(request=pending, reason="changed my mind", actor=officer)
    with unchanged(_fresh(pending)), pytest.raises(Conflict, match="approved: only a pending request"):
        services.access_request_approve(request=pending, actor=officer)


def test_a_rejection_needs_a_reason_and_is_audited(pending, officer):
    with unchanged(pending), pytest.raises(Invalid, match="rejection reason is required"):
        services.access_request_reject(request=pending, reason="  ", actor=officer)
    services.access_request_reject(request=pending, reason="identity not verified", actor=officer)
    row = _fresh(pending)
    assert (row.status, row.rejection_reason, row.decided_by_id) == ("REJECTED", "identity not verified", officer.pk)
    assert AuditLog.objects.filter(action_field="access_request.status", new_value="REJECTED").exists()


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.ANALYST])
def test_only_a_compliance_officer_decides(pending, make_staff, role):
    with unchanged(pending), pytest.raises(NotAllowed, match="approve or reject access requests"):
        services.access_request_approve(request=pending, actor=make_staff(role))
    with unchanged(pending), pytest.raises(NotAllowed):
        services.access_request_approve(request=pending, actor=CallingSystem(name="x", scopes=frozenset(API_SCOPES)))


def test_an_unknown_request_is_refused(approver):
    with pytest.raises(Invalid, match="No such access request"):
        services.access_request_approve(request=10**12, actor=approver)


# --- completing: the export produced for the approved request ----------------------------


def _download(client, request, fmt="csv", customer_id=None):
    response = client.post(
        reverse("admin:compliance_customer_export", args=[customer_id or request.customer_id]),
        {"format": fmt, "access_request": str(request.pk)},
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)


def test_the_export_completes_the_approved_request_recorded_against_it(client, pending, approver, officer):
    services.access_request_approve(request=pending, actor=approver)
    client.force_login(officer)  # any officer with the export right; four eyes held at approval
    _download(client, pending, "csv")
    row = _fresh(pending)
    log = AccessLog.objects.get(customer_id=pending.customer_id, kind=AccessKind.EXPORT)
    assert (row.status, row.export_log_id, row.completed_at) == (AccessRequestStatus.COMPLETED, log.pk, log.created_at)
    assert (log.staff_id, log.detail) == (officer.pk, f"{pending.request_id} csv archive")
    entry = AuditLog.objects.get(action_field="access_request.status", new_value="COMPLETED")
    assert (entry.old_value, entry.actor_id) == ("APPROVED", officer.pk)
    assert entry.action_reason == f"Right of access {pending.request_id}: completed (csv archive exported)"

    _download(client, pending, "json")  # a further copy: recorded, the completion unchanged
    again = _fresh(pending)
    assert (again.status, again.export_log_id, again.completed_at) == (row.status, log.pk, row.completed_at)
    assert AccessLog.objects.filter(detail=f"{pending.request_id} json archive").count() == 1
    assert AuditLog.objects.filter(action_field="access_request.status", new_value="COMPLETED").count() == 1
    page = client.get(reverse("admin:compliance_accessrequest_change", args=[pending.pk]))
    assert_page_shows(page, present=["Completed", f"{pending.request_id} csv archive", "A further copy"])


def test_a_pending_or_rejected_request_gives_no_export(pending, approver, officer):
    for state in ("pending", "rejected"):
        if state == "rejected":
            services.access_request_reject(request=pending, reason="not the account holder", actor=approver)
        with (
            unchanged(AccessRequest, AccessLog),
            pytest.raises(Conflict, match="only an approved request's export"),
        ):
            services.access_request_export(request=pending, fmt="json", actor=officer)


def test_an_export_from_the_page_of_a_pending_request_completes_nothing(client, pending, approver):
    client.force_login(approver)
    _download(client, pending, "json")  # the id of a request not approved: an ordinary export
    assert _fresh(pending).status == AccessRequestStatus.PENDING
    assert AccessLog.objects.get(customer_id=pending.customer_id, kind=AccessKind.EXPORT).detail == "json archive"


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.ANALYST])
def test_only_who_may_export_completes_a_request(pending, approver, make_staff, role):
    services.access_request_approve(request=pending, actor=approver)
    with unchanged(AccessRequest, AccessLog), pytest.raises(NotAllowed, match="download customer data exports"):
        services.access_request_export(request=pending, fmt="json", actor=make_staff(role))


def test_the_database_refuses_a_completed_request_without_its_export(pending, approver):
    services.access_request_approve(request=pending, actor=approver)
    with pytest.raises(IntegrityError, match="completed_by_export"), transaction.atomic():
        AccessRequest.objects.filter(pk=pending.pk).update(status="COMPLETED", completed_at=timezone.now())


# --- the admin ----------------------------------------------------------------------------


def test_the_page_offers_the_decision_then_the_export(client, pending, officer, approver):
    url = reverse("admin:compliance_accessrequest_change", args=[pending.pk])
    client.force_login(officer)
    assert_page_shows(
        client.get(url), present=[pending.request_id, "four eyes"], absent=["Approve", "Download the data export"]
    )

    client.force_login(approver)
    assert_page_shows(client.get(url), present=['value="Approve"'], absent=["Download the data export"])
    response = client.post(
        reverse("admin:compliance_access_approve", args=[pending.pk]), {"version": pending.updated_at.isoformat()}
    )
    assert response.status_code == 302 and _fresh(pending).status == AccessRequestStatus.APPROVED
    export_url = reverse("admin:compliance_customer_export", args=[pending.customer_id])
    assert_page_shows(client.get(url), present=["Download the data export", export_url], absent=['value="Approve"'])


def test_a_stale_page_approves_nothing(client, pending, approver):
    client.force_login(approver)
    client.post(
        reverse("admin:compliance_access_approve", args=[pending.pk]),
        {"version": (pending.updated_at - dt.timedelta(seconds=5)).isoformat()},
    )
    assert _fresh(pending).status == AccessRequestStatus.PENDING


def test_other_roles_get_403_on_the_decision(client, pending, make_staff):
    client.force_login(make_staff(Role.AGENT))
    assert client.post(reverse("admin:compliance_access_approve", args=[pending.pk])).status_code == 403
    assert client.post(reverse("admin:compliance_access_reject", args=[pending.pk])).status_code == 403
    assert _fresh(pending).status == AccessRequestStatus.PENDING


def test_an_officer_records_a_request_in_the_admin(client, officer, customer):
    client.force_login(officer)
    response = client.post(
        reverse("admin:compliance_accessrequest_add"), {"customer": customer.pk, "request_reason": "by phone"}
    )
    assert response.status_code == 302
    row = AccessRequest.objects.get(customer=customer)
    assert (row.recorded_by_id, row.request_reason) == (officer.pk, "by phone")
    again = client.post(reverse("admin:compliance_accessrequest_add"), {"customer": customer.pk})
    assert_page_shows(again, present=["already has a pending access request"])
    assert AccessRequest.objects.filter(customer=customer).count() == 1


def test_home_tiles_count_pending_and_overdue_requests(rf, officer, customer, approver):
    services.access_request_create(customer=customer, actor=PORTAL)
    late = services.access_request_create(customer=f.CustomerFactory(), actor=PORTAL)
    AccessRequest.objects.filter(pk=late.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=settings.GDPR_ERASURE_DAYS + 1)
    )
    decided = services.access_request_create(customer=f.CustomerFactory(), actor=PORTAL)
    identity_verified(decided, approver)
    services.access_request_approve(request=decided, actor=approver)
    request = rf.get("/")
    request.user = officer
    tiles = {t.label: t for t in counted(compliance_tiles(request))}
    assert tiles["Access requests awaiting a decision"].count == 2
    assert tiles["Access requests overdue"].count == 1
    assert "deadline=overdue" in tiles["Access requests overdue"].url


# --- personal data ------------------------------------------------------------------------


def test_the_export_gives_the_request_but_not_who_handled_it():
    (table,) = [t for t in export.tables() if t.name == "compliance_access_requests"]
    assert "request_reason" in table.columns and "status" in table.columns
    assert not {"recorded_by_id", "decided_by_id", "recorded_via"} & set(table.columns)


# --- the privacy portal's deletion requests ----------------------------------------------


def test_the_privacy_portal_files_a_deletion_request_any_officer_approves(customer, officer):
    request = services.deletion_request_create(customer=customer, scopes=["ALL"], reason="via portal", actor=PORTAL)
    assert services.deletion_request_recorder(request) == (None, "api:privacy-portal")
    identity_verified(request, officer)
    services.deletion_request_approve(request=request, actor=officer)
    assert DataDeletionRequest.objects.get(pk=request.pk).request_status == RequestStatus.PROCESSING
    entry = AuditLog.objects.get(action_field="request_status", new_value="PROCESSING")
    assert entry.action_reason.endswith("approved (recorded by api:privacy-portal)")


def test_a_calling_system_without_the_scope_files_no_deletion_request(customer):
    others = CallingSystem(name="ml", scopes=frozenset(API_SCOPES) - {PRIVACY_WRITE})
    with unchanged(DataDeletionRequest), pytest.raises(NotAllowed):
        services.deletion_request_create(customer=customer, scopes=["ALL"], actor=others)


def test_a_customer_that_does_not_exist_is_refused(officer):
    with unchanged(AccessRequest), pytest.raises(Invalid, match="No such customer"):
        services.access_request_create(customer=f.CustomerFactory.build(id=10**12), actor=officer)
