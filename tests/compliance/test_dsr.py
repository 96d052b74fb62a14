"""Data-subject requests that stand up to a regulator (issue 25, part 4): identity
verification before approval, one extension of the deadline (art. 12(3)) that the filters
and the home tiles follow, refusal reasons with the customer's wording, and the access
request's exports recorded against it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from compliance import dsr, selectors, services
from compliance.choices import AccessKind, RefusalReason, RequestStatus
from compliance.home import compliance_tiles
from compliance.models import AccessLog, AccessRequest, AuditLog, DataDeletionRequest, RequestHandling
from compliance.wording import ACCESS_WORDING, CUSTOMER_WORDING
from customer_ops.home import counted
from customer_ops.roles import Role
from tests import factories as f
from tests.assertions import assert_page_shows, unchanged

pytestmark = pytest.mark.django_db

DAYS = settings.GDPR_ERASURE_DAYS


@pytest.fixture
def recorder(make_staff):
    return make_staff(Role.COMPLIANCE)


@pytest.fixture
def approver(make_staff):
    return make_staff(Role.COMPLIANCE)


def _deletion(recorder, days_ago: int = 0) -> DataDeletionRequest:
    return services.deletion_request_create(
        customer=f.CustomerFactory(),
        scopes=["ALL"],
        requested_at=timezone.now() - dt.timedelta(days=days_ago),
        actor=recorder,
    )


def _access(recorder, days_ago: int = 0) -> AccessRequest:
    request = services.access_request_create(customer=f.CustomerFactory(), actor=recorder)
    AccessRequest.objects.filter(pk=request.pk).update(requested_at=timezone.now() - dt.timedelta(days=days_ago))
    request.refresh_from_db()
    return request


def _days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def _tiles(user, rf) -> dict[str, int]:
    request = rf.get("/")
    request.user = user
    return {t.label: t.count for t in counted(compliance_tiles(request))}


# --- identity verification ----------------------------------------------------------------


def test_deletion_approval_is_refused_without_verification_and_changes_nothing(recorder, approver):
    request = _deletion(recorder)
    with (
        unchanged(DataDeletionRequest, RequestHandling),
        pytest.raises(services.ComplianceNotAllowed, match="identity was verified before approving"),
    ):
        services.deletion_request_approve(request=request, actor=approver)
    f.identity_verified(request, recorder)  # the recorder may verify; four eyes still hold for approval
    services.deletion_request_approve(request=request, actor=approver)
    assert DataDeletionRequest.objects.get(pk=request.pk).request_status == RequestStatus.PROCESSING


def test_access_approval_is_refused_without_verification_and_changes_nothing(recorder, approver):
    request = _access(recorder)
    with (
        unchanged(AccessRequest, RequestHandling),
        pytest.raises(services.ComplianceNotAllowed, match="identity was verified before approving"),
    ):
        services.access_request_approve(request=request, actor=approver)
    f.identity_verified(request, approver)
    assert services.access_request_approve(request=request, actor=approver).status == "APPROVED"


def test_verification_is_recorded_and_audited(recorder, approver):
    request = _access(recorder)
    services.verify_identity(request=request, method="SMS_CODE", reference="code 4711 confirmed", actor=approver)
    row = RequestHandling.objects.get(access_request=request)
    assert (row.verification_method, row.verification_reference, row.verified_by) == (
        "SMS_CODE",
        "code 4711 confirmed",
        approver,
    )
    entry = AuditLog.objects.filter(customer_id=request.customer_id).latest("id")
    assert (entry.action_type, entry.action_field, entry.new_value, entry.actor_id) == (
        "VERIFICATION",
        "request.identity_verification",
        "SMS_CODE",
        approver.pk,
    )


@pytest.mark.parametrize(
    "method, reference, match",
    [("PHONE_CALL", "x", "from the list"), ("ID_DOCUMENT", "  ", "verification reference"), ("", "x", "list")],
)
def test_verification_needs_a_listed_method_and_a_reference(recorder, approver, method, reference, match):
    request = _deletion(recorder)
    with unchanged(RequestHandling), pytest.raises(services.ComplianceInvalid, match=match):
        services.verify_identity(request=request, method=method, reference=reference, actor=approver)


def test_verification_needs_the_processing_permission(recorder, make_staff):
    request = _deletion(recorder)
    with unchanged(RequestHandling), pytest.raises(services.ComplianceNotAllowed, match="may not"):
        services.verify_identity(request=request, method="ID_DOCUMENT", reference="x", actor=make_staff(Role.AGENT))


def test_the_admin_records_verification_then_approval(client, recorder, approver):
    request = _access(recorder)
    client.force_login(approver)
    approve = reverse("admin:compliance_access_approve", args=[request.pk])
    with unchanged(AccessRequest, RequestHandling):
        page = client.post(approve, {"version": request.updated_at.isoformat()}, follow=True)
    assert_page_shows(page, present=["identity was verified before approving"])
    verify = reverse("admin:compliance_access_verify", args=[request.pk])
    with unchanged(RequestHandling):  # bad input: a form error, not a 500
        bad = client.post(verify, {"method": "BOGUS", "reference": ""})
    assert bad.status_code == 200 and bad.context["form"].errors.keys() == {"method", "reference"}
    done = client.post(verify, {"method": "EMAIL_LINK", "reference": "msg-1"}, follow=True)
    assert_page_shows(done, present=["identity verification recorded", "Confirmed a link sent to the email"])
    client.post(approve, {"version": AccessRequest.objects.get(pk=request.pk).updated_at.isoformat()})
    assert AccessRequest.objects.get(pk=request.pk).status == "APPROVED"


# --- extension ------------------------------------------------------------------------------


def test_the_extended_deadline_moves_the_deletion_filters_and_tiles(rf, client, recorder):
    overdue = _deletion(recorder, days_ago=DAYS + 1)  # due yesterday
    due_soon = _deletion(recorder, days_ago=DAYS - 3)  # due in 3 days
    before = _tiles(recorder, rf)
    assert set(selectors.by_deadline(DataDeletionRequest.objects.all(), "overdue")) == {overdue}
    assert set(selectors.by_deadline(DataDeletionRequest.objects.all(), "week")) == {due_soon}

    dsr.extend_deadline(request=overdue, months=1, reason="Complex", customer_told_on=_days_ago(3), actor=recorder)
    dsr.extend_deadline(request=due_soon, months=2, reason="Many", customer_told_on=_days_ago(1), actor=recorder)
    assert not selectors.by_deadline(DataDeletionRequest.objects.all(), "overdue").exists()
    assert not selectors.by_deadline(DataDeletionRequest.objects.all(), "week").exists()
    after = _tiles(recorder, rf)
    assert (before["Deletion requests overdue"], after["Deletion requests overdue"]) == (1, 0)
    assert (before["Deletion requests due within 7 days"], after["Deletion requests due within 7 days"]) == (1, 0)
    client.force_login(recorder)
    listing = client.get(reverse("admin:compliance_datadeletionrequest_changelist") + "?deadline=overdue")
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == []
    page = client.get(reverse("admin:compliance_datadeletionrequest_change", args=[overdue.pk]))
    expected = dsr.add_months(overdue.requested_at + dt.timedelta(days=DAYS), 1)
    assert_page_shows(page, present=[f"{expected:%Y-%m-%d}", "extended", "Complex"])


def test_an_extended_deadline_that_passes_is_overdue_again(rf, recorder):
    request = _deletion(recorder, days_ago=DAYS + 70)  # extended by 2 months: due about 9 days ago
    dsr.extend_deadline(request=request, months=2, reason="Complex", customer_told_on=_days_ago(80), actor=recorder)
    assert set(selectors.by_deadline(DataDeletionRequest.objects.all(), "overdue")) == {request}
    assert _tiles(recorder, rf)["Deletion requests overdue"] == 1


def test_the_extended_deadline_moves_the_access_filter_and_tile(rf, client, recorder):
    request = _access(recorder, days_ago=DAYS + 1)
    assert _tiles(recorder, rf)["Access requests overdue"] == 1
    dsr.extend_deadline(request=request, months=1, reason="Large", customer_told_on=_days_ago(2), actor=recorder)
    assert _tiles(recorder, rf)["Access requests overdue"] == 0
    assert not selectors.by_deadline(AccessRequest.objects.all(), "overdue").exists()
    client.force_login(recorder)
    listing = client.get(reverse("admin:compliance_accessrequest_changelist") + "?deadline=overdue")
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == []


def _approved(request, approver):
    f.identity_verified(request, approver)
    return services.access_request_approve(request=request, actor=approver)


def test_an_approved_access_request_stays_on_the_deadline_until_its_export(rf, client, recorder, approver):
    overdue = _approved(_access(recorder, days_ago=DAYS + 1), approver)  # due yesterday
    due_soon = _approved(_access(recorder, days_ago=DAYS - 3), approver)  # due in 3 days
    _approved(_access(recorder, days_ago=2), approver)  # due in four weeks: in neither
    requests = AccessRequest.objects.all()
    assert set(selectors.by_deadline(requests, "overdue")) == {overdue}
    assert set(selectors.by_deadline(requests, "week")) == {due_soon}
    tiles = _tiles(recorder, rf)
    assert (tiles["Access requests overdue"], tiles["Access requests due within 7 days"]) == (1, 1)
    assert tiles["Access requests awaiting a decision"] == 0
    client.force_login(recorder)
    listing = reverse("admin:compliance_accessrequest_changelist")
    for which, expected in (("overdue", [overdue]), ("week", [due_soon])):
        page = client.get(listing + f"?deadline={which}")
        assert page.status_code == 200 and list(page.context["cl"].result_list) == expected, which

    for request in (overdue, due_soon):  # the export answers them: off the deadline
        services.access_request_export(request=request, fmt="json", actor=approver)
    assert not selectors.by_deadline(requests, "overdue").exists()
    assert not selectors.by_deadline(requests, "week").exists()
    tiles = _tiles(recorder, rf)
    assert (tiles["Access requests overdue"], tiles["Access requests due within 7 days"]) == (0, 0)
    page = client.get(listing + "?deadline=overdue")
    assert list(page.context["cl"].result_list) == []


def test_a_pending_access_request_due_within_7_days_is_in_the_week_filter_and_tile(rf, recorder):
    due_soon = _access(recorder, days_ago=DAYS - 3)
    _access(recorder, days_ago=DAYS + 1)  # overdue: not "within 7 days"
    assert set(selectors.by_deadline(AccessRequest.objects.all(), "week")) == {due_soon}
    assert _tiles(recorder, rf)["Access requests due within 7 days"] == 1
    dsr.extend_deadline(request=due_soon, months=1, reason="Large", customer_told_on=_days_ago(1), actor=recorder)
    assert _tiles(recorder, rf)["Access requests due within 7 days"] == 0


def test_an_approved_access_request_can_be_extended_a_completed_one_cannot(recorder, approver):
    request = _approved(_access(recorder, days_ago=5), approver)
    dsr.extend_deadline(request=request, months=1, reason="Large", customer_told_on=_days_ago(1), actor=recorder)
    other = _approved(_access(recorder, days_ago=5), approver)
    services.access_request_export(request=other, fmt="csv", actor=approver)
    with unchanged(RequestHandling), pytest.raises(services.ComplianceConflict, match="is closed"):
        dsr.extend_deadline(request=other, months=1, reason="Late", customer_told_on=_days_ago(1), actor=recorder)


def test_the_extension_is_audited(recorder):
    request = _access(recorder, days_ago=5)
    handling = dsr.extend_deadline(
        request=request, months=2, reason="Complex", customer_told_on=_days_ago(1), actor=recorder
    )
    entry = AuditLog.objects.filter(customer_id=request.customer_id, action_field="request.deadline").get()
    assert entry.new_value == handling.extended_until.isoformat() and "customer told on" in entry.action_reason


def test_a_second_extension_is_refused(recorder):
    request = _deletion(recorder, days_ago=5)
    dsr.extend_deadline(request=request, months=1, reason="Complex", customer_told_on=_days_ago(1), actor=recorder)
    with (
        unchanged(RequestHandling, DataDeletionRequest),
        pytest.raises(services.ComplianceConflict, match="extended only once"),
    ):
        dsr.extend_deadline(request=request, months=1, reason="Again", customer_told_on=_days_ago(1), actor=recorder)


@pytest.mark.parametrize(
    "months, told_days_ago, match",
    [
        (3, 1, "at most 2 further months"),
        (0, 1, "at most 2 further months"),
        (1, -1, "cannot be in the future"),
        (1, 10, "within the original month"),  # before the request was made
    ],
)
def test_an_extension_beyond_two_months_or_badly_dated_is_refused(recorder, months, told_days_ago, match):
    request = _deletion(recorder, days_ago=5)
    with unchanged(RequestHandling), pytest.raises(services.ComplianceInvalid, match=match):
        dsr.extend_deadline(
            request=request, months=months, reason="x", customer_told_on=_days_ago(told_days_ago), actor=recorder
        )


def test_the_extend_page_shows_form_errors(client, recorder):
    request = _deletion(recorder, days_ago=5)
    client.force_login(recorder)
    url = reverse("admin:compliance_deletion_extend", args=[request.pk])
    with unchanged(RequestHandling):
        bad = client.post(url, {"months": "6", "reason": "", "customer_told_on": "yesterday"})
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"months", "reason", "customer_told_on"}
    with unchanged(RequestHandling):
        late = client.post(url, {"months": "1", "reason": "x", "customer_told_on": str(_days_ago(30))})
    assert "within the original month" in str(late.context["form"].errors)


# --- refusal reasons -----------------------------------------------------------------------


@pytest.mark.parametrize("code", RefusalReason.values)
def test_each_deletion_refusal_reason_is_recorded_audited_and_worded(client, recorder, code):
    request = _deletion(recorder)
    client.force_login(recorder)
    client.post(
        reverse("admin:compliance_deletion_reject", args=[request.pk]),
        {"refusal_reason": code, "rejection_reason": "See our letter"},
    )
    assert RequestHandling.objects.get(deletion_request=request).refusal_reason == code
    entry = AuditLog.objects.filter(customer_id=request.customer_id).latest("id")
    assert entry.new_value == "REJECTED" and f"rejected ({code}): See our letter" in entry.action_reason
    page = client.get(reverse("admin:compliance_datadeletionrequest_change", args=[request.pk]))
    assert_page_shows(page, present=[RefusalReason(code).label, CUSTOMER_WORDING[code]])


@pytest.mark.parametrize("code", RefusalReason.values)
def test_each_access_refusal_reason_is_recorded_audited_and_worded(client, recorder, approver, code):
    request = _access(recorder)
    client.force_login(approver)
    page = client.get(reverse("admin:compliance_accessrequest_change", args=[request.pk]))
    assert_page_shows(page, present=[ACCESS_WORDING[code]])  # the list shown before refusing
    client.post(
        reverse("admin:compliance_access_reject", args=[request.pk]),
        {"refusal_reason": code, "rejection_reason": "See our letter"},
    )
    assert RequestHandling.objects.get(access_request=request).refusal_reason == code
    entry = AuditLog.objects.filter(customer_id=request.customer_id).latest("id")
    assert entry.new_value == "REJECTED" and f"rejected ({code}): See our letter" in entry.action_reason
    page = client.get(reverse("admin:compliance_accessrequest_change", args=[request.pk]))
    # what the customer is told, in the words for an access request (no erasure's reasons)
    assert_page_shows(
        page,
        present=[RefusalReason(code).label, f"The customer is told: <q>{ACCESS_WORDING[code]}</q>"],
        absent=[CUSTOMER_WORDING[code]] if CUSTOMER_WORDING[code] != ACCESS_WORDING[code] else [],
    )


def test_the_access_wording_never_speaks_of_erasure():
    for code in RefusalReason.values:
        assert "eras" not in ACCESS_WORDING[code].lower() and "17(3)" not in ACCESS_WORDING[code], code


def test_an_unlisted_refusal_reason_is_refused(recorder, approver):
    request = _access(recorder)
    with unchanged(AccessRequest, RequestHandling), pytest.raises(services.ComplianceInvalid, match="from the list"):
        services.access_request_reject(request=request, reason="x", refusal_reason="BECAUSE", actor=approver)


# --- access exports recorded against the request ------------------------------------------


def test_an_export_is_recorded_against_the_access_request(client, recorder, approver):
    request = f.identity_verified(_access(recorder), approver)
    services.access_request_approve(request=request, actor=approver)
    client.force_login(approver)
    response = client.post(
        reverse("admin:compliance_customer_export", args=[request.customer_id]),
        {"format": "csv", "access_request": str(request.pk)},
    )
    b"".join(response.streaming_content)
    log = AccessLog.objects.get(customer_id=request.customer_id, kind=AccessKind.EXPORT)
    assert (log.staff_id, log.detail) == (approver.pk, f"{request.request_id} csv archive")
    page = client.get(reverse("admin:compliance_accessrequest_change", args=[request.pk]))
    assert_page_shows(page, present=[f"{request.request_id} csv archive"])


def test_an_export_naming_someone_elses_request_is_not_recorded_against_it(client, recorder, approver):
    other = f.identity_verified(_access(recorder), approver)
    services.access_request_approve(request=other, actor=approver)
    customer = f.CustomerFactory()
    client.force_login(approver)
    response = client.post(
        reverse("admin:compliance_customer_export", args=[customer.pk]), {"format": "json", "access_request": other.pk}
    )
    b"".join(response.streaming_content)
    assert AccessLog.objects.get(customer_id=customer.pk, kind=AccessKind.EXPORT).detail == "json archive"


# --- who may open the new pages (the role walk's expectations, checked here too) ------------


@pytest.mark.parametrize(
    "role, status", [(Role.COMPLIANCE, 200), (Role.AGENT, 403), (Role.FRAUD, 403), (Role.LEGAL, 403)]
)
@pytest.mark.parametrize(
    "name",
    [
        "compliance_deletion_verify",
        "compliance_deletion_extend",
        "compliance_access_verify",
        "compliance_access_extend",
    ],
)
def test_only_compliance_officers_open_the_verify_and_extend_pages(client, make_staff, recorder, name, role, status):
    request = _deletion(recorder) if "deletion" in name else _access(recorder)
    client.force_login(make_staff(role))
    with unchanged(RequestHandling):
        assert client.get(reverse(f"admin:{name}", args=[request.pk])).status_code == status
        assert client.post(reverse(f"admin:{name}", args=[request.pk]), {}).status_code == status
