"""Consent state and recording, the audit trail, the access log, the export and the analysts' masking."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from compliance import export, services
from compliance.models import AccessLog, AuditLog, ConsentLog
from compliance.selectors import current_consents
from customer_ops.masking import mask_value
from customer_ops.personal_data import declarations
from customer_ops.roles import Role
from tests import factories as f
from tests.assertions import assert_page_shows, unchanged
from tickets.services import disputes as dispute_services

pytestmark = pytest.mark.django_db


# What a refused form could have written: each refusal re-reads it (tests/README.md).
COMPLIANCE_TABLES = tuple(apps.get_app_config("compliance").get_models())


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
        with unchanged(ConsentLog), pytest.raises(services.ComplianceError):
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
    with unchanged(ConsentLog):
        assert client.post(url, {"customer": customer.pk}).status_code == 403
    client.force_login(compliance_user)
    with unchanged(*COMPLIANCE_TABLES):
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
    assert_page_shows(page, present=[entry.action_type, entry.action_field], absent=['name="_save"'])
    with unchanged(AuditLog):
        assert client.post(reverse("admin:compliance_auditlog_delete", args=[entry.pk])).status_code == 403
    assert len(client.get(url, {"customer_id": a.pk}).context["cl"].result_list) == 3
    assert len(client.get(url, {"actor": 7}).context["cl"].result_list) == 3
    assert len(client.get(url, {"action_type__exact": "DELETE"}).context["cl"].result_list) == 1
    assert client.get(url, {"customer_id": "abc"}).status_code == 200  # bad input: no filter, no 500
    with django_assert_max_num_queries(12):
        # The date filter's own link: the start of today, with its time zone.
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        client.get(url, {"created_at__gte": str(today)})


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


def _download(client, customer_id, fmt):
    return client.post(reverse("admin:compliance_customer_export", args=[customer_id]), {"format": fmt})


def _expected_tables() -> dict[str, tuple[str, ...]]:
    """From the declarations: every declared table and every history table of one, with the
    columns its ``export`` allow-list gives (a history table follows its tracked model's)."""
    from django.apps import apps

    declared = declarations()
    expected = {}
    for model in apps.get_models():
        tracked = getattr(model, "instance_type", None)
        if model not in declared and tracked not in declared:
            continue
        rule = export.export_rule(model, declared.get(model))
        if rule.columns:
            expected[model._meta.db_table] = rule.columns
    return expected


def test_every_declaration_says_what_the_customer_receives():
    """A new table (or column) cannot be forgotten: every declaration has an export rule,
    every allowed column exists, and leaving a column or a table out says why."""
    from django.apps import apps

    declared = declarations()
    checked = 0
    for model in apps.get_models():
        tracked = getattr(model, "instance_type", None)
        if model not in declared and tracked not in declared:
            continue
        rule = export.export_rule(model, declared.get(model))
        assert rule is not None, f"{model._meta.label}: declare PersonalData(export=Export(...))"
        attnames = [f.attname for f in model._meta.concrete_fields]
        assert set(rule.columns) <= set(attnames), (model._meta.label, set(rule.columns) - set(attnames))
        if set(attnames) - set(rule.columns) - set(export.HISTORY_COLUMNS) - {"history_user_id"} and not (
            tracked and not rule.columns
        ):
            assert rule.withheld, f"{model._meta.label}: say why {set(attnames) - set(rule.columns)} are withheld"
        checked += 1
    assert checked >= len(declared)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_holds_every_table_and_is_recorded(client, compliance_user, rich_customer, make_staff, fmt):
    legal = make_staff(Role.LEGAL)
    dispute_services.dispute_update(dispute=rich_customer.dispute, actor=legal, legal_notes="PRIVILEGED NOTE")
    customer = rich_customer.customer
    client.force_login(compliance_user)
    response = _download(client, customer.pk, fmt)
    assert response.status_code == 200
    assert response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    expected = _expected_tables()
    assert len(expected) >= 20
    assert set(archive.namelist()) == {f"{table}.{fmt}" for table in expected} | {"manifest.json"}
    manifest = json.loads(archive.read("manifest.json"))
    for table, columns in expected.items():
        assert manifest["tables"][table]["columns"] == list(columns), table
        body = archive.read(f"{table}.{fmt}").decode()
        if fmt == "csv":
            assert next(csv.reader(io.StringIO(body))) == list(columns), table
        else:
            assert all(list(row) == list(columns) for row in json.loads(body)), table
    assert manifest["tables"]["orders"]["rows"] == 2
    assert manifest["tables"]["customer_disputes"]["rows"] == 1
    assert manifest["tables"]["tickets_historicaldispute"]["rows"] >= 2  # history tables are in
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
    assert customer.email in everything
    # Withheld: legal privilege, staff names, fraud evidence, internal notes.
    assert "PRIVILEGED NOTE" not in everything
    assert "legal_notes" not in archive.read(f"customer_disputes.{fmt}").decode()
    assert "legal_notes" not in json.dumps(manifest["tables"]["customer_disputes"])
    assert not {"customer_fraud_alerts", "customer_suspicious_activity", "ticket_internal_notes"} & set(expected)
    assert AccessLog.objects.filter(customer=customer, kind="EXPORT", staff=compliance_user).exists()


def test_withheld_values_never_leave(client, compliance_user, rich_customer, make_staff):
    """Values only in withheld columns or tables (staff, fraud notes, internal notes) are not in the archive."""
    from fraud.models import FraudAlert
    from tickets.models import InternalNote

    customer = rich_customer.customer
    agent = make_staff(Role.AGENT, username="agent-withheld-zq")
    ticket = rich_customer.ticket
    InternalNote.objects.create(ticket=ticket, author=agent, author_name="Agent Zq", body="INTERNAL NOTE ZQ")
    FraudAlert.objects.filter(customer=customer).update(alert_description="FRAUD EVIDENCE ZQ")
    type(ticket).objects.filter(pk=ticket.pk).update(assigned_to_agent=agent, assigned_to_agent_name="Agent Zq")
    client.force_login(compliance_user)
    for fmt in ("json", "csv"):
        archive = zipfile.ZipFile(io.BytesIO(b"".join(_download(client, customer.pk, fmt).streaming_content)))
        everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
        assert customer.email in everything and ticket.subject in everything
        for secret in ("INTERNAL NOTE ZQ", "FRAUD EVIDENCE ZQ", "Agent Zq", "assigned_to_agent"):
            assert secret not in everything, (fmt, secret)


def test_export_download_is_post_only(client, compliance_user, rich_customer):
    customer = rich_customer.customer
    client.force_login(compliance_user)
    url = reverse("admin:compliance_customer_export", args=[customer.pk])
    assert client.get(url, {"format": "json"}).status_code == 405
    assert not AccessLog.objects.filter(customer=customer, kind="EXPORT").exists()  # a GET records nothing
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(compliance_user)
    assert csrf_client.post(url, {"format": "json"}).status_code == 403  # no CSRF token: refused
    assert not AccessLog.objects.filter(customer=customer, kind="EXPORT").exists()
    response = _download(client, customer.pk, "csv")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    b"".join(response.streaming_content)
    assert AccessLog.objects.filter(customer=customer, kind="EXPORT", detail="csv archive").count() == 1


# --- masking for analysts ------------------------------------------------------------------


def test_analysts_see_customers_and_orders_masked(client, make_staff):
    analyst = make_staff(Role.ANALYST)
    customer = f.CustomerFactory(full_name="Maskme Quentin", email="maskme@unique.test", phone="+44 7000 111222")
    order = f.OrderFactory(customer=customer, delivery_address="99 Hidden Lane")
    client.force_login(analyst)
    name, address = mask_value("Maskme Quentin"), mask_value("99 Hidden Lane")  # M••• Q•••, 9••• H••• L•••
    for url, shown in [
        (reverse("admin:customer_ops_customer_changelist"), [name]),
        (reverse("admin:customer_ops_customer_change", args=[customer.pk]), [name, mask_value(customer.email)]),
        (reverse("admin:customer_ops_order_changelist"), [order.order_number]),
        (reverse("admin:customer_ops_order_change", args=[order.pk]), [order.order_number, address]),
    ]:
        assert_page_shows(client.get(url), present=shown, absent=["Maskme", "maskme@", "111222", "Hidden Lane"])
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
    with unchanged(AccessLog):
        assert client.post(url).status_code == 403


@pytest.mark.parametrize("after", ["abc", "1.5", "99999999999999999999", "-"])
def test_a_junk_after_on_the_trail_is_a_400(client, compliance_user, after):
    customer = f.CustomerFactory()
    client.force_login(compliance_user)
    client.raise_request_exception = False
    response = client.get(reverse("admin:compliance_auditlog_trail", args=[customer.pk]), {"after": after})
    assert response.status_code == 400
