"""Imports from the ML pipeline: a file with any bad row imports nothing and reports every bad row."""

from __future__ import annotations

import json

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from customer_ops.roles import Role
from fraud.models import FraudAlert, SuspiciousActivity
from fraud.resources import FraudAlertResource, SuspiciousActivityResource, row_errors
from tests.assertions import assert_page_shows, unchanged
from tests.factories import CustomerFactory, FraudAlertFactory

pytestmark = pytest.mark.django_db

ALERT_HEADERS = ["customer_id", "order_id", "alert_type", "alert_severity", "alert_description", "evidence"]


def _alerts(*rows) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=ALERT_HEADERS)


def test_a_clean_alert_file_imports_every_row_as_new_alerts():
    c = CustomerFactory()
    existing = FraudAlertFactory(customer=c)
    data = _alerts(
        [c.pk, "", "DEVICE_MISMATCH", "HIGH", "New device", json.dumps({"device": "d-1"})],
        [c.pk, "", "PAYMENT_FRAUD", "LOW", "", ""],
    )
    result = FraudAlertResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert FraudAlert.objects.count() == 3
    new = FraudAlert.objects.exclude(pk=existing.pk).order_by("id")
    assert [(a.alert_type, a.evidence) for a in new] == [("DEVICE_MISMATCH", {"device": "d-1"}), ("PAYMENT_FRAUD", {})]
    assert all(not a.is_resolved and a.action_taken == "" for a in new)


def test_a_bad_alert_file_imports_nothing_and_reports_every_bad_row_with_its_reason():
    c = CustomerFactory()
    data = _alerts(
        [c.pk, "", "PAYMENT_FRAUD", "HIGH", "good row", "{}"],
        [c.pk, "", "ALIEN_ABDUCTION", "HIGH", "unknown type", "{}"],
        [c.pk, "", "PAYMENT_FRAUD", "APOCALYPTIC", "severity out of the enum", "{}"],
        [987654321, "", "PAYMENT_FRAUD", "LOW", "no such customer", "{}"],
        [c.pk, "", "PAYMENT_FRAUD", "LOW", "malformed evidence", "{'not': json"],
        [c.pk, "", "PAYMENT_FRAUD", "LOW", "evidence not an object", "[1, 2]"],
        [c.pk, "", "PAYMENT_FRAUD", "LOW", "another good row", ""],
    )
    result = FraudAlertResource().import_data(data, dry_run=False)
    assert not FraudAlert.objects.exists()
    errors = dict(row_errors(result))
    assert sorted(errors) == [2, 3, 4, 5, 6]
    assert "alert_type" in errors[2][0] and "ALIEN_ABDUCTION" in errors[2][0]
    assert "alert_severity" in errors[3][0] and "APOCALYPTIC" in errors[3][0]
    assert errors[4] == ["customer: Customer 987654321 does not exist."]
    assert errors[5][0].startswith("evidence: Evidence is not valid JSON")
    assert errors[6] == ["evidence: Evidence must be a JSON object."]


def test_a_bad_suspicious_activity_file_imports_nothing():
    c = CustomerFactory()
    headers = ["customer_id", "activity_type", "detected_by", "detection_confidence", "risk_score", "evidence"]
    data = tablib.Dataset(
        [c.pk, "LOCATION_JUMP", "ML_MODEL", "80", "40", "{}"],
        [c.pk, "TELEPORTATION", "ML_MODEL", "80", "40", "{}"],
        [c.pk, "LOCATION_JUMP", "ML_MODEL", "180", "40", "{}"],
        [c.pk, "LOCATION_JUMP", "A_HUNCH", "80", "40", "{"],
        headers=headers,
    )
    result = SuspiciousActivityResource().import_data(data, dry_run=False)
    assert not SuspiciousActivity.objects.exists()
    errors = dict(row_errors(result))
    assert sorted(errors) == [2, 3, 4]
    assert any("detection_confidence" in e for e in errors[3])
    assert len(errors[4]) == 2  # both the detector and the evidence are reported


def test_admin_import_shows_every_bad_row_and_offers_no_confirmation(client, make_staff):
    client.force_login(make_staff(Role.FRAUD))
    c = CustomerFactory()
    body = "\n".join(
        [
            ",".join(ALERT_HEADERS),
            f"{c.pk},,PAYMENT_FRAUD,HIGH,good,{{}}",
            f"{c.pk},,NOPE,HIGH,bad type,{{}}",
            "424242,,PAYMENT_FRAUD,HIGH,no customer,{}",
        ]
    )
    upload = SimpleUploadedFile("alerts.csv", body.encode(), content_type="text/csv")
    with unchanged(FraudAlert):
        response = client.post(
            "/admin/fraud/fraudalert/import/", {"import_file": upload, "format": "0", "resource": "0"}
        )
    assert_page_shows(
        response,
        present=["Customer 424242 does not exist.", "NOPE"],
        absent=["process_import", "Confirm import"],
    )
    assert not FraudAlert.objects.exists()


def test_import_is_refused_without_the_add_permission(client, make_staff):
    client.force_login(make_staff(Role.AGENT))
    assert client.get("/admin/fraud/fraudalert/import/").status_code == 403


IMPORT_URLS = ["/admin/fraud/fraudalert/import/", "/admin/fraud/suspiciousactivity/import/"]


@pytest.mark.parametrize("url", IMPORT_URLS)
def test_import_offers_csv_and_xlsx_only(client, make_staff, url):
    client.force_login(make_staff(Role.FRAUD))
    form = client.get(url).context["form"]
    assert [label for _, label in form.fields["format"].choices if label != "---"] == ["csv", "xlsx"]
    upload = SimpleUploadedFile("alerts.json", b"[]", content_type="application/json")
    response = client.post(url, {"import_file": upload, "format": "0", "resource": "0"})
    assert response.status_code == 200
    assert "Import a CSV or XLSX file" in response.content.decode()


@pytest.mark.parametrize("url", IMPORT_URLS)
def test_import_refuses_a_file_past_the_size_cap_and_writes_nothing(client, make_staff, url, monkeypatch):
    from fraud import conf

    monkeypatch.setattr(conf, "IMPORT_MAX_BYTES", 1024)
    client.force_login(make_staff(Role.FRAUD))
    upload = SimpleUploadedFile("alerts.csv", b"x" * 2048, content_type="text/csv")
    response = client.post(url, {"import_file": upload, "format": "0", "resource": "0"})
    assert response.status_code == 200
    assert "at most 1.0\xa0KB can be imported at once" in response.content.decode()
    assert not FraudAlert.objects.exists() and not SuspiciousActivity.objects.exists()


def test_import_refuses_a_file_past_the_row_cap_and_writes_nothing(client, make_staff, monkeypatch):
    from fraud import conf

    monkeypatch.setattr(conf, "IMPORT_MAX_ROWS", 3)
    client.force_login(make_staff(Role.FRAUD))
    c = CustomerFactory()
    body = "\n".join([",".join(ALERT_HEADERS)] + [f"{c.pk},,PAYMENT_FRAUD,HIGH,row {i},{{}}" for i in range(4)])
    upload = SimpleUploadedFile("alerts.csv", body.encode(), content_type="text/csv")
    response = client.post(IMPORT_URLS[0], {"import_file": upload, "format": "0", "resource": "0"})
    assert response.status_code == 200
    assert "The file has more than 3 rows; at most 3 are imported at once" in response.content.decode()
    assert not FraudAlert.objects.exists()
