"""Each role's main workflow with the keyboard alone: signing in, then from the home page to
the outcome in the database, with Tab / Shift+Tab, Enter, arrow keys and typing into the
focused field only (no click, no fill). Every page on the way passes axe-core (no serious or
critical violation) and the focused control is visibly marked.

The support agent's workflow is in test_home.py (take the next ticket and answer it).
Screenshots: ``artifacts/screenshots/keyboard-<role>.png``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from compliance import services as compliance_services
from compliance.models import DataDeletionRequest
from customer_ops.models import Order
from customer_ops.roles import Role
from fraud.models import FraudAlert, SuspiciousActivity
from tests.e2e.conftest import E2E_MARKS, PASSWORD, SCREENSHOTS, axe_problems, chart_data, kpi, tab_to, wait_for_charts
from tests.factories import (
    CustomerFactory,
    DisputeFactory,
    FraudAlertFactory,
    OrderFactory,
    RefundRequestFactory,
    SuspiciousActivityFactory,
    identity_verified,
)
from tickets.models import Dispute, RefundRequest

pytestmark = E2E_MARKS

FOCUS_VISIBLE = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
}"""


def _focus(s, selector: str, backwards: bool = False) -> None:
    """Tab to ``selector`` and check that the focus can be seen there."""
    tab_to(s.page, selector, backwards=backwards)
    assert s.page.evaluate(FOCUS_VISIBLE), f"no visible focus on {selector} at {s.page.url}"


def _type(s, selector: str, text: str) -> None:
    """Tab to a field, select what it holds and type over it."""
    _focus(s, selector)
    s.page.keyboard.press("Control+A")
    s.page.keyboard.type(text)


def _enter(s) -> None:
    """Enter on the focused link or button: the next page, checked with axe."""
    with s.page.expect_navigation():
        s.page.keyboard.press("Enter")
    s.problems += axe_problems(s.page)


def _sign_in(s, username: str) -> None:
    """The login form with the keyboard: the username field has the focus on arrival."""
    s.go("/admin/login/")
    assert s.page.evaluate("document.activeElement.id") == "id_username"
    s.page.keyboard.type(username)
    _type(s, "#id_password", PASSWORD)
    _enter(s)  # Enter in a field submits its form
    assert s.page.url.endswith("/admin/"), "signed in, on the home page"


def _shot(s, role: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    s.page.screenshot(path=str(SCREENSHOTS / f"keyboard-{role}.png"), full_page=True)


def _change_link(model: str, pk) -> str:
    """The link to a row's page (a list's links carry its filters after a "?")."""
    return f'a[href^="{reverse(f"admin:{model}_change", args=[pk])}"]'


# --- support lead: a refund waiting for approval ----------------------------------------------


def test_lead_approves_a_refund_with_the_keyboard(open_session, make_staff):
    make_staff(Role.LEAD, username="lead", password=PASSWORD, first_name="Lee")
    refund = RefundRequestFactory(requested_amount=Decimal("18.00"), refund_reason="Missing drink")

    s = open_session("keyboard-lead")
    _sign_in(s, "lead")
    _focus(s, 'a.home-tile-link[href*="approval=mine"]')  # "Refunds waiting for my approval"
    _enter(s)
    _focus(s, _change_link("tickets_refundrequest", refund.pk))
    _enter(s)
    approve = f'form[action="{reverse("admin:tickets_refund_approve", args=[refund.pk])}"]'
    _type(s, f"{approve} input[name=approved_amount]", "15.00")  # a partial refund
    _focus(s, f"{approve} button[type=submit]")
    _enter(s)
    refund.refresh_from_db()
    assert refund.refund_status == "APPROVED" and refund.approved_amount == Decimal("15.00")
    assert RefundRequest.objects.filter(refund_status="PENDING").count() == 0
    _shot(s, "lead")


# --- fraud analyst: resolve the top alert, review a suspicious activity -----------------------


def test_fraud_analyst_resolves_an_alert_and_reviews_an_activity_with_the_keyboard(open_session, make_staff):
    make_staff(Role.FRAUD, username="fraud", password=PASSWORD, first_name="Fay")
    alert = FraudAlertFactory(alert_severity="CRITICAL", evidence={"failed_payments": 7})
    activity = SuspiciousActivityFactory(requires_review=True, reviewed=False)

    s = open_session("keyboard-fraud")
    _sign_in(s, "fraud")
    _focus(s, 'a.home-tile-link[href*="alert_severity__exact=CRITICAL"]')
    _enter(s)
    _focus(s, f"#result_list {_change_link('fraud_fraudalert', alert.pk)}")
    _enter(s)
    resolve = f'form[action="{reverse("admin:fraud_fraudalert_resolve", args=[alert.pk])}"]'
    # The outcome and reason code: type-ahead in the focused list, as a keyboard user picks.
    _focus(s, f"{resolve} select[name=outcome]")
    s.page.keyboard.type("Confirmed")
    _focus(s, f"{resolve} select[name=reason_code]")
    s.page.keyboard.type("Stolen")
    _type(s, f"{resolve} textarea[name=notes]", "Card testing confirmed; cards blocked at the processor.")
    _focus(s, f"{resolve} input[type=submit]")
    _enter(s)
    alert.refresh_from_db()
    assert alert.is_resolved and alert.resolution_notes.startswith("Card testing confirmed")
    assert (alert.review.outcome, alert.review.reason_code) == ("CONFIRMED_FRAUD", "STOLEN_PAYMENT")

    # Back to the home page through the breadcrumbs (Shift+Tab: they come before the content).
    _focus(s, '.breadcrumbs a[href="/admin/"]', backwards=True)
    _enter(s)
    _focus(s, 'a.home-tile-link[href*="suspiciousactivity"]')
    _enter(s)
    _focus(s, f"#result_list {_change_link('fraud_suspiciousactivity', activity.pk)}")
    _enter(s)
    _focus(s, f'a[href="{reverse("admin:fraud_suspiciousactivity_review", args=[activity.pk])}"]')
    _enter(s)
    _type(s, "textarea[name=notes]", "A VPN exit node, same device as always: no fraud.")
    _focus(s, "input[type=submit]")
    _enter(s)
    activity.refresh_from_db()
    assert activity.reviewed and not SuspiciousActivity.objects.filter(reviewed=False).exists()
    assert FraudAlert.objects.filter(is_resolved=False).count() == 0
    _shot(s, "fraud")


# --- legal: the case's notes, then the status -----------------------------------------------


def test_legal_notes_a_dispute_and_starts_the_investigation_with_the_keyboard(open_session, make_staff):
    make_staff(Role.LEGAL, username="legal", password=PASSWORD, first_name="Liz")
    dispute = DisputeFactory(disputed_amount=Decimal("40.00"), dispute_reason="Half the order missing")

    s = open_session("keyboard-legal")
    _sign_in(s, "legal")
    _focus(s, f"a.home-tile-link{_change_link('tickets_dispute', dispute.pk)[1:]}")  # its deadline tile
    _enter(s)
    _type(s, "#id_legal_case_number", "LC-2026-0077")
    _type(s, "#id_legal_notes", "Privileged: the merchant's packing photo is missing.")
    _focus(s, "input[name=_continue]")  # "Save and continue editing"
    _enter(s)
    dispute.refresh_from_db()
    assert dispute.legal_case_number == "LC-2026-0077" and dispute.legal_notes.startswith("Privileged")

    transition = reverse("admin:tickets_dispute_transition", args=[dispute.pk, "investigate"])
    _focus(s, f'a[href="{transition}"]', backwards=True)  # the object tools sit above the form
    _enter(s)
    _type(s, "textarea[name=note]", "Asked the merchant for the packing photo.")
    _focus(s, "input[type=submit]")
    _enter(s)
    assert Dispute.objects.get(pk=dispute.pk).dispute_status == "INVESTIGATING"
    _shot(s, "legal")


# --- compliance: four eyes on an erasure -------------------------------------------------


def test_compliance_approves_a_colleagues_deletion_request_with_the_keyboard(open_session, make_staff):
    make_staff(Role.COMPLIANCE, username="compliance", password=PASSWORD, first_name="Cy")
    colleague = make_staff(Role.COMPLIANCE, username="compliance2")
    # Recorded by a colleague 25 days ago: due within 7 days, and this officer may approve it.
    request = compliance_services.deletion_request_create(
        customer=CustomerFactory(),
        scopes=["ALL"],
        requested_at=timezone.now() - dt.timedelta(days=25),
        actor=colleague,
    )
    identity_verified(request, colleague)  # approval needs it (compliance.dsr)

    s = open_session("keyboard-compliance")
    _sign_in(s, "compliance")
    _focus(s, 'a.home-tile-link[href*="deadline=week"]')
    _enter(s)
    _focus(s, f"#result_list {_change_link('compliance_datadeletionrequest', request.pk)}")
    _enter(s)
    approve = f'form[action="{reverse("admin:compliance_deletion_approve", args=[request.pk])}"]'
    _focus(s, f"{approve} input[type=submit]")
    _enter(s)
    request.refresh_from_db()
    assert request.request_status == "PROCESSING"  # queued for the erasure job
    assert DataDeletionRequest.objects.filter(request_status="PENDING").count() == 0
    _shot(s, "compliance")


# --- analyst: the dashboard's range and service -------------------------------------------


def test_analyst_changes_the_dashboard_range_with_the_keyboard(open_session, make_staff):
    make_staff(Role.ANALYST, username="analyst", password=PASSWORD, first_name="Ana")
    now = timezone.now()
    for days, service in [(1, "FOOD"), (2, "FOOD"), (3, "RIDE"), (40, "FOOD"), (45, "PARCEL")]:
        OrderFactory(created_at=now - dt.timedelta(days=days), service_type=service)
    from analytics import jobs  # the dashboard reads the daily job's platform table for past days

    jobs.run_platform_daily(jobs.day_range(now.date() - dt.timedelta(days=60), now.date()))

    s = open_session("keyboard-analyst")
    _sign_in(s, "analyst")
    _focus(s, f'a.home-tile-link[href="{reverse("admin:analytics_dashboard_changelist")}"]')
    _enter(s)
    wait_for_charts(s)
    before = chart_data(s)
    assert kpi(s, "Orders placed") == "3"  # the default range: the last 30 days

    today = timezone.now().date()
    first = today - dt.timedelta(days=60)
    _type(s, "input[name=date_from]", first.isoformat())
    _type(s, "input[name=date_to]", today.isoformat())
    _focus(s, "select[name=service_type]")
    s.page.keyboard.press("ArrowDown")  # "All services" -> the first service
    service = s.page.evaluate("document.activeElement.value")
    assert service
    _focus(s, "form.dashboard-filters button[type=submit]")
    _enter(s)
    wait_for_charts(s)
    expected = Order.objects.filter(created_at__date__gte=first, service_type=service).count()
    assert kpi(s, "Orders placed") == str(expected)
    assert chart_data(s) != before  # new data, drawn again
    assert f"{first:%Y-%m-%d}" in s.page.locator(".dashboard-range").inner_text()
    _shot(s, "analyst")
