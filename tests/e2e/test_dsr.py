"""The data-subject-request pages in a real browser, under the strict CSP and axe (issue 25,
part 4): an extended deletion request, its verify and extend pages, an access request with
its deadline and refusal form, a completed access request. Screenshot:
artifacts/screenshots/dsr-extended-request.png."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from compliance import dsr, services
from customer_ops.roles import Role
from tests.e2e.conftest import E2E_MARKS, PASSWORD, SCREENSHOTS
from tests.factories import CustomerFactory, identity_verified

pytestmark = E2E_MARKS


def test_dsr_pages(open_session, make_staff):
    officer = make_staff(Role.COMPLIANCE, username="compliance", password=PASSWORD, first_name="Olive")
    other = make_staff(Role.COMPLIANCE, first_name="Oscar")
    requested = timezone.now() - dt.timedelta(days=settings.GDPR_ERASURE_DAYS - 2)
    deletion = services.deletion_request_create(
        customer=CustomerFactory(), scopes=["ALL"], reason="leaving", requested_at=requested, actor=other
    )
    identity_verified(deletion, other)
    told = timezone.localdate() - dt.timedelta(days=1)
    dsr.extend_deadline(request=deletion, months=2, reason="Records across five systems", customer_told_on=told,
                        actor=other)  # fmt: skip
    access = services.access_request_create(customer=CustomerFactory(), actor=other)

    s = open_session("dsr")
    s.login("compliance")
    s.go(reverse("admin:compliance_datadeletionrequest_change", args=[deletion.pk]))
    assert "Deadline extended to" in s.text() and "extended)" in s.text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    s.page.screenshot(path=str(SCREENSHOTS / "dsr-extended-request.png"), full_page=True)
    s.go(reverse("admin:compliance_datadeletionrequest_changelist") + "?deadline=week")
    s.go(reverse("admin:compliance_deletion_verify", args=[deletion.pk]))
    s.go(reverse("admin:compliance_deletion_extend", args=[deletion.pk]))
    s.go(reverse("admin:compliance_accessrequest_change", args=[access.pk]))
    assert "Identity not verified yet" in s.text()
    s.go(reverse("admin:compliance_access_verify", args=[access.pk]))
    s.page.select_option("#id_method", "ID_DOCUMENT")
    s.page.fill("#id_reference", "passport seen")
    s.page.click("input[type=submit].default")
    s.page.wait_for_load_state()
    assert "identity verification recorded" in s.text()
    s.go(reverse("admin:compliance_access_extend", args=[access.pk]))
    s.go(reverse("admin:compliance_access_reject", args=[access.pk]))
    s.go(reverse("admin:compliance_accessrequest_changelist"))
    s.go(reverse("admin:compliance_accessrequest_changelist") + "?deadline=week")
    completed = services.access_request_create(customer=CustomerFactory(), actor=other)
    identity_verified(completed, other)
    services.access_request_approve(request=completed, actor=officer)
    services.access_request_export(request=completed, fmt="json", actor=officer)
    s.go(reverse("admin:compliance_accessrequest_change", args=[completed.pk]))
    assert "Completed by the export" in s.text() and f"{completed.request_id} json archive" in s.text()
