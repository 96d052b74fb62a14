"""Admin exports of big tables: one mechanism (``ExportAdminMixin``) on every exporting admin;
CSV streamed; past the row cap an export is refused with a message unless a filter bounds
it, and the row count never is a full COUNT (the planner's estimate, or a COUNT over a LIMIT)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from import_export.admin import ExportMixin

from analytics.models import ServiceAnalytics
from customer_ops.admin_base import ExportAdminMixin
from customer_ops.roles import Role
from tests.factories import CustomerFactory, ServiceAnalyticsFactory

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/serviceanalytics/export/"


def test_every_exporting_admin_uses_the_bounded_export():
    exporting = [ma for ma in admin.site._registry.values() if isinstance(ma, ExportMixin)]
    assert len(exporting) >= 7
    assert all(isinstance(ma, ExportAdminMixin) for ma in exporting), [
        type(ma).__name__ for ma in exporting if not isinstance(ma, ExportAdminMixin)
    ]


@pytest.fixture
def five_rows(db):
    customers = [CustomerFactory() for _ in range(5)]
    for customer in customers:
        ServiceAnalyticsFactory(customer=customer, service_type="FOOD")
    return customers


def _export(client, query: str = "", fmt: str = "0"):
    form = client.get(URL + query).context["form"]
    fields = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
    return client.post(URL + query, {"format": fmt, "resource": "0", **fields})


@pytest.mark.parametrize("fmt", ["0", "1"])  # CSV, XLSX
def test_an_export_past_the_cap_is_refused_until_a_filter_bounds_it(client, make_staff, five_rows, monkeypatch, fmt):
    monkeypatch.setattr(ExportAdminMixin, "EXPORT_ROW_CAP", 3)
    monkeypatch.setattr(ExportAdminMixin, "XLSX_ROW_CAP", 3)
    client.force_login(make_staff(Role.ANALYST))
    with CaptureQueriesContext(connection) as queries:
        refused = _export(client, fmt=fmt)
    assert refused.status_code == 200 and refused["Content-Type"].startswith("text/html")  # the form again
    assert "more than the 3 one" in refused.content.decode()
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "service_analytics" in q["sql"]]
    assert all("LIMIT" in sql for sql in counts), counts  # never a full COUNT
    bounded = _export(client, f"?q={five_rows[0].pk}", fmt=fmt)
    assert bounded.status_code == 200 and not bounded["Content-Type"].startswith("text/html")
    if fmt == "0":
        assert bounded.streaming  # CSV is streamed row by row
        lines = b"".join(bounded.streaming_content).decode().strip().splitlines()
        assert len(lines) == 2  # header and the one customer's row


def test_xlsx_has_its_own_lower_cap(client, make_staff, five_rows, monkeypatch):
    monkeypatch.setattr(ExportAdminMixin, "EXPORT_ROW_CAP", 10)
    monkeypatch.setattr(ExportAdminMixin, "XLSX_ROW_CAP", 3)
    client.force_login(make_staff(Role.ANALYST))
    assert _export(client, fmt="0").streaming  # 5 CSV rows: under 10
    assert "more than the 3 one XLSX export may hold" in _export(client, fmt="1").content.decode()


def test_the_cap_reads_the_planner_estimate_on_an_analysed_table(client, make_staff, five_rows, monkeypatch):
    monkeypatch.setattr(ExportAdminMixin, "EXPORT_ROW_CAP", 3)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ServiceAnalytics._meta.db_table}")
    client.force_login(make_staff(Role.ANALYST))
    with CaptureQueriesContext(connection) as queries:
        refused = _export(client)
    assert "more than the 3 one CSV export may hold" in refused.content.decode()
    assert "reltuples" in " ".join(q["sql"] for q in queries)  # the planner's estimate
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "service_analytics" in q["sql"]]
    assert all("LIMIT" in sql for sql in counts), counts  # at most a bounded check of a low estimate
