"""Every compliance admin page loads, with a bounded number of queries at 100 rows per page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customer_ops.roles import Role
from tests import factories as f
from tests.compliance.factories import AccessLogFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("admin:compliance_datadeletionrequest_changelist", lambda: f.DataDeletionRequestFactory()),
        ("admin:compliance_auditlog_changelist", lambda: f.AuditLogFactory()),
        ("admin:compliance_consentlog_changelist", lambda: f.ConsentLogFactory()),
        ("admin:compliance_accesslog_changelist", lambda: AccessLogFactory()),
    ],
)
def test_list_pages_are_bounded_at_100_rows(client, make_staff, django_assert_max_num_queries, url_name, make):
    for _ in range(100):
        make()
    client.force_login(make_staff(Role.COMPLIANCE))
    with django_assert_max_num_queries(12):
        response = client.get(reverse(url_name), {"p": 1})
    assert response.status_code == 200


def test_customer_page_with_compliance_panels_is_bounded(client, make_staff, django_assert_max_num_queries):
    customer = f.CustomerFactory()
    for _ in range(20):
        f.ConsentLogFactory(customer=customer)
        f.DataDeletionRequestFactory(customer=customer, request_status="REJECTED")
    client.force_login(make_staff(Role.COMPLIANCE))
    with django_assert_max_num_queries(30):
        page = client.get(reverse("admin:customer_ops_customer_change", args=[customer.pk]))
    assert "Data protection" in page.content.decode()


def test_deletion_request_page_reads_request_plan_decision(client, make_staff):
    """No lone "Close" button or empty module between the request and its plan; the decision
    follows the plan it decides on."""
    from tests.factories import DataDeletionRequestFactory

    request = DataDeletionRequestFactory()
    client.force_login(make_staff(Role.COMPLIANCE))
    content = client.get(reverse("admin:compliance_datadeletionrequest_change", args=[request.pk])).content.decode()
    assert "closelink" not in content and "submit-row" not in content
    order = [content.index(marker) for marker in ("field-request_id", "Erasure plan", "<h2>Decision</h2>")]
    assert order == sorted(order)
