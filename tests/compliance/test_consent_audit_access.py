"""Consent state and recording, the audit trail, the access log, the export and the analysts' masking."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance import services
from compliance.models import AccessLog, AuditLog, ConsentLog
from compliance.selectors import current_consents
from customer_ops.roles import Role
from tests import factories as f
from tickets import dispute_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def compliance_user(make_staff):
    return make_staff(Role.COMPLIANCE)


# --- consent -----------------------------------------------------------------------------


def test_current_consent_is_the_latest_row_per_type():
    customer = f.CustomerFactory()
    now = timezone.now()
    f.ConsentLogFactory(
        customer=customer, consent_type="MARKETING", consent_status="GRANTED", created_at=now - dt.timedelta(days=3)
    )
    f.ConsentLogFactory(
        customer=customer, consent_type="MARKETING", consent_status="REVOKED", created_at=now - dt.timedelta(days=1)
    )
    f.ConsentLogFactory(
        customer=customer, consent_type="COOKIES", consent_status="GRANTED", created_at=now - dt.timedelta(days=2)
    )
    state = current_consents(customer.pk)
    assert state["MARKETING"].consent_status == "REVOKED"
    assert state["COOKIES"].consent_status == "GRANTED"
    assert state["DATA_SHARING"] is None


def test_recording_a_change_appends_a_row_and_an_audit_entry(compliance_user):
    customer = f.CustomerFactory()
    f.ConsentLogFactory(customer=customer, consent_type="MARKETING", consent_status="GRANTED")
    row = services.consent_record(
        customer=customer,
        consent_type="MARKETING",
        consent_status="REVOKED",
        consent_method="EMAIL",
        consent_text="Unsubscribe from offers",
        ip_address="192.0.2.10",
        user_agent="Mail/1",
        actor=compliance_user,
    )
    assert ConsentLog.objects.filter(customer=customer).count() == 2
    assert (row.ip_address, row.user_agent, row.consent_method) == ("192.0.2.10", "Mail/1", "EMAIL")
    assert current_consents(customer.pk)["MARKETING"].pk == row.pk
    entry = AuditLog.objects.get(customer=customer, action_field="consent.MARKETING")
    assert (entry.old_value, entry.new_value, entry.actor_id) == ("GRANTED", "REVOKED", compliance_user.pk)


def test_consent_needs_its_text_and_valid_values(compliance_user):
    customer = f.CustomerFactory()
    for kwargs in [{"consent_text": ""}, {"consent_type": "X"}, {"consent_method": "FAX"}]:
        with pytest.raises(services.ComplianceError):
            services.consent_record(
                **{
                    "customer": customer,
                    "consent_type": "COOKIES",
                    "consent_status": "GRANTED",
                    "consent_method": "WEB",
                    "consent_text": "Cookies?",
                    "actor": compliance_user,
                    **kwargs,
                }
            )
    assert not ConsentLog.objects.filter(customer=customer).exists()


def test_consent_form_records_and_others_get_403(client, compliance_user, make_staff):
    customer = f.CustomerFactory()
    url = reverse("admin:compliance_consentlog_record")
    client.force_login(make_staff(Role.AGENT))
    assert client.post(url, {"customer": customer.pk}).status_code == 403
    client.force_login(compliance_user)
    bad = client.post(
        url,
        {
            "customer": customer.pk,
            "consent_type": "COOKIES",
            "consent_status": "GRANTED",
            "consent_method": "WEB",
            "consent_text": "",
            "ip_address": "not-an-ip",
        },
    )
    assert bad.status_code == 200 and not ConsentLog.objects.filter(customer=customer).exists()
    ok = client.post(
        url,
        {
            "customer": customer.pk,
            "consent_type": "COOKIES",
            "consent_status": "GRANTED",
            "consent_method": "WEB",
            "consent_text": "Allow cookies",
            "ip_address": "192.0.2.1",
        },
    )
    assert ok.status_code == 302 and ConsentLog.objects.filter(customer=customer).count() == 1
    page = client.get(reverse("admin:customer_ops_customer_change", args=[customer.pk])).content.decode()
    assert "Consent" in page and "Granted" in page


# --- audit trail and the middleware ------------------------------------------------------


def test_admin_requests_audit_the_user_ip_and_user_agent(client, make_staff):
    legal = make_staff(Role.LEGAL)
    dispute = f.DisputeFactory()
    client.force_login(legal)
    client.post(
        reverse("admin:tickets_dispute_transition", args=[dispute.pk, "investigate"]),
        {"note": ""},
        REMOTE_ADDR="192.0.2.55",
        HTTP_USER_AGENT="Firefox/140",
    )
    entry = AuditLog.objects.get(customer=dispute.customer, action_field="dispute.dispute_status")
    assert (entry.actor_type, entry.actor_id, entry.ip_address, entry.user_agent) == (
        "ADMIN",
        legal.pk,
        "192.0.2.55",
        "Firefox/140",
    )


def test_jobs_write_as_system():
    request = f.DataDeletionRequestFactory(request_status="PROCESSING", deletion_scope=["MARKETING"])
    services.deletion_request_run(request=request)
    entry = AuditLog.objects.filter(customer=request.customer).latest("id")
    assert entry.actor_type == "SYSTEM"


def test_audit_admin_is_read_only_and_filters(client, compliance_user, django_assert_max_num_queries):
    a, b = f.CustomerFactory(), f.CustomerFactory()
    for _ in range(3):
        f.AuditLogFactory(customer=a, actor_type="ADMIN", actor_id=7)
    f.AuditLogFactory(customer=b, action_type="DELETE")
    client.force_login(compliance_user)
    url = reverse("admin:compliance_auditlog_changelist")
    assert client.get(reverse("admin:compliance_auditlog_add")).status_code == 403
    entry = AuditLog.objects.filter(customer=a).first()
    page = client.get(reverse("admin:compliance_auditlog_change", args=[entry.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(reverse("admin:compliance_auditlog_delete", args=[entry.pk])).status_code == 403
    assert len(client.get(url, {"customer_id": a.pk}).context["cl"].result_list) == 3
    assert len(client.get(url, {"actor": 7}).context["cl"].result_list) == 3
    assert len(client.get(url, {"action_type__exact": "DELETE"}).context["cl"].result_list) == 1
    assert client.get(url, {"customer_id": "abc"}).status_code == 200  # bad input: no filter, no 500
    with django_assert_max_num_queries(12):
        client.get(url, {"created_at__gte": timezone.now().date().isoformat()})


def test_a_customers_whole_trail_in_order(client, compliance_user):
    customer = f.CustomerFactory()
    now = timezone.now()
    for days in (1, 3, 2):
        f.AuditLogFactory(customer=customer, action_reason=f"{days} days ago", created_at=now - dt.timedelta(days=days))
    client.force_login(compliance_user)
    rows = client.get(reverse("admin:compliance_auditlog_trail", args=[customer.pk])).context["rows"]
    assert [r.action_reason for r in rows] == ["3 days ago", "2 days ago", "1 days ago"]


# --- who looked: the access log ------------------------------------------------------------


def test_opening_a_customer_page_is_recorded(client, make_staff):
    agent = make_staff(Role.AGENT)
    customer = f.CustomerFactory()
    client.force_login(agent)
    client.get(reverse("admin:customer_ops_customer_change", args=[customer.pk]), REMOTE_ADDR="192.0.2.9")
    entry = AccessLog.objects.get(customer=customer)
    assert (entry.staff, entry.kind, entry.ip_address) == (agent, "VIEW", "192.0.2.9")


def test_access_log_is_filterable_and_read_only(client, compliance_user, make_staff):
    from tests.compliance.factories import AccessLogFactory

    staff = make_staff()
    mine = AccessLogFactory(staff=staff)
    AccessLogFactory()
    client.force_login(compliance_user)
    url = reverse("admin:compliance_accesslog_changelist")
    assert [r.pk for r in client.get(url, {"staff_id": staff.pk}).context["cl"].result_list] == [mine.pk]
    assert [r.pk for r in client.get(url, {"customer_id": mine.customer_id}).context["cl"].result_list] == [mine.pk]
    assert client.get(reverse("admin:compliance_accesslog_add")).status_code == 403
    client.force_login(make_staff(Role.AGENT))
    assert client.get(url).status_code == 403


# --- right of access -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_holds_every_table_and_is_recorded(client, compliance_user, rich_customer, make_staff, fmt):
    legal = make_staff(Role.LEGAL)
    dispute_services.dispute_update(dispute=rich_customer.dispute, actor=legal, legal_notes="PRIVILEGED NOTE")
    customer = rich_customer.customer
    client.force_login(compliance_user)
    response = client.get(reverse("admin:compliance_customer_export", args=[customer.pk]), {"format": fmt})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {
        f"customers.{fmt}",
        f"orders.{fmt}",
        f"customer_sessions.{fmt}",
        f"customer_activity_log.{fmt}",
        f"customer_audit_log.{fmt}",
        f"customer_disputes.{fmt}",
        "manifest.json",
    } <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["tables"]["orders"]["rows"] == 2
    everything = b"".join(archive.read(n) for n in names).decode()
    assert customer.email in everything
    assert "PRIVILEGED NOTE" not in everything
    assert "legal_notes" not in archive.read(f"customer_disputes.{fmt}").decode()
    assert "legal_notes" not in json.dumps(manifest["tables"]["customer_disputes"])
    assert AccessLog.objects.filter(customer=customer, kind="EXPORT", staff=compliance_user).exists()


# --- masking for analysts ------------------------------------------------------------------


def test_analysts_see_customers_and_orders_masked(client, make_staff):
    analyst = make_staff(Role.ANALYST)
    customer = f.CustomerFactory(full_name="Maskme Quentin", email="maskme@unique.test", phone="+44 7000 111222")
    order = f.OrderFactory(customer=customer, delivery_address="99 Hidden Lane")
    client.force_login(analyst)
    for url in [
        reverse("admin:customer_ops_customer_changelist"),
        reverse("admin:customer_ops_customer_change", args=[customer.pk]),
        reverse("admin:customer_ops_order_changelist"),
        reverse("admin:customer_ops_order_change", args=[order.pk]),
    ]:
        body = client.get(url).content.decode()
        for secret in ("Maskme", "maskme@", "111222", "Hidden Lane"):
            assert secret not in body, (url, secret)
    f.CustomerFactory(full_name="Someone Else")
    searched = client.get(reverse("admin:customer_ops_customer_changelist"), {"q": "Maskme"})
    assert list(searched.context["cl"].result_list) == []  # a name is no search term for analysts
    agent = make_staff(Role.AGENT)
    client.force_login(agent)
    assert (
        "Maskme Quentin"
        in client.get(reverse("admin:customer_ops_customer_change", args=[customer.pk])).content.decode()
    )


def test_revealing_a_masked_field_is_recorded(client, make_staff):
    analyst = make_staff(Role.ANALYST)
    customer = f.CustomerFactory(email="reveal@unique.test")
    client.force_login(analyst)
    url = reverse("admin:customer_ops_customer_reveal", args=[customer.pk, "email"])
    assert client.get(url).status_code == 403  # POST only
    assert client.post(reverse("admin:customer_ops_customer_reveal", args=[customer.pk, "status"])).status_code == 404
    response = client.post(url, REMOTE_ADDR="192.0.2.77")
    assert "reveal@unique.test" in response.content.decode()
    entry = AccessLog.objects.get(customer=customer, kind="REVEAL")
    assert (entry.staff, entry.detail, entry.ip_address) == (analyst, "customers.email", "192.0.2.77")
    client.force_login(make_staff(Role.FRAUD))  # no reveal permission
    assert client.post(url).status_code == 403


@pytest.mark.parametrize("after", ["abc", "1.5", "99999999999999999999", "-"])
def test_a_junk_after_on_the_trail_is_a_400(client, compliance_user, after):
    customer = f.CustomerFactory()
    client.force_login(compliance_user)
    client.raise_request_exception = False
    response = client.get(reverse("admin:compliance_auditlog_trail", args=[customer.pk]), {"after": after})
    assert response.status_code == 400
