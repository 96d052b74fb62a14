"""The fraud review pages in a real browser, under the strict CSP and axe (issue 25): a claimed
alert as its holder and as a colleague, take next, the reassign page, the precision report,
a list entry's backtest. Screenshots of each go to artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from customer_ops.roles import Role
from fraud import services
from fraud.models import AlertReview, ListEntry
from tests.e2e.conftest import E2E_MARKS, PASSWORD
from tests.factories import CustomerFactory, FraudAlertFactory, LoginHistoryFactory, SuspiciousActivityFactory

pytestmark = E2E_MARKS


def test_fraud_review_pages(open_session, make_staff):
    ana = make_staff(Role.FRAUD, username="fraud", password=PASSWORD, first_name="Fran", last_name="Fraud")
    make_staff(Role.FRAUD, username="fraud2", password=PASSWORD, first_name="Omar", last_name="Okafor")
    make_staff(Role.FRAUD_LEAD, username="fraud_lead", password=PASSWORD, first_name="Farah", last_name="Lead")
    alert = FraudAlertFactory(
        alert_severity="CRITICAL", alert_type="PAYMENT_FRAUD", evidence={"model_version": "payments-v3.2"}
    )
    FraudAlertFactory(alert_severity="LOW")
    for i, (version, outcome) in enumerate(
        [
            ("payments-v3.2", "CONFIRMED_FRAUD"),
            ("payments-v3.2", "FALSE_POSITIVE"),
            ("payments-v3.1", "LEGITIMATE"),
            ("payments-v3.2", "CONFIRMED_FRAUD"),
            ("devices-v1.0", "INCONCLUSIVE"),
        ]  # fmt: skip
    ):
        decided = FraudAlertFactory(alert_type="DEVICE_MISMATCH" if i % 2 else "PAYMENT_FRAUD",
                                    evidence={"model_version": version})  # fmt: skip
        services.alert_resolve(alert=decided, actor=ana, outcome=outcome, reason_code="OTHER", notes="demo")
    SuspiciousActivityFactory(requires_review=True, reviewed=False)
    ring = CustomerFactory()
    for _ in range(3):
        LoginHistoryFactory(customer=ring, ip_address="203.0.113.77", created_at=timezone.now() - dt.timedelta(days=2))

    s = open_session("fraud-review")
    s.login("fraud")
    s.go(f"/admin/fraud/fraudalert/{alert.pk}/change/")
    assert "You hold this alert until" in s.text()
    s.shot("claimed-alert")
    s.go("/admin/fraud/fraudalert/precision/")
    assert "payments-v3.2" in s.text() and "66.7%" in s.text()
    s.shot("precision-report")
    s.go("/admin/fraud/listentry/add/")
    s.page.select_option("select[name=kind]", "IP_RANGE")
    s.page.fill("input[name=value]", "203.0.113.0/24")
    s.page.fill("textarea[name=reason]", "Proxy exit nodes used by a card-testing ring")
    s.page.click("input[type=submit]")
    s.page.wait_for_selector("#backtest")
    assert "1 customer in 3 login or activity rows" in s.text()
    s.shot("list-backtest")
    s.page.click("input[type=submit]")
    s.page.wait_for_selector(".messagelist")
    assert ListEntry.objects.filter(value="203.0.113.0/24").exists()

    other = open_session("fraud-review-colleague")
    other.login("fraud2")
    other.go(f"/admin/fraud/fraudalert/{alert.pk}/change/")
    assert "Held by Fran Fraud until" in other.text()
    other.shot("alert-held-by-colleague")
    other.go("/admin/fraud/fraudalert/")
    other.page.click("text=Take next alert")
    other.page.wait_for_selector(".messagelist")
    assert "is yours for 60 minutes" in other.text()
    other.go("/admin/fraud/suspiciousactivity/")
    other.shot("activity-queue")

    lead = open_session("fraud-review-lead")
    lead.login("fraud_lead")
    lead.go(f"/admin/fraud/fraudalert/{alert.pk}/reassign/")
    lead.page.select_option("select[name=analyst]", label="Omar Okafor (fraud2)")
    lead.page.click("input[type=submit]")
    lead.page.wait_for_selector(".messagelist")
    assert AlertReview.objects.get(pk=alert.pk).claimed_by.username == "fraud2"
    lead.go("/admin/")
    assert "Alert precision" in lead.text()
    lead.shot("home-precision-tile")
