"""One browser test per person of ARCHITECTURE.md, signing in through the real login form.

Each persona also submits at least one invalid form and checks that the page shows the
error and that nothing changed in the database. Screenshots of the key pages are saved
under ``artifacts/screenshots/<persona>-NN-<step>.png``.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLog, DataDeletionRequest
from customer_ops.models import Customer, Order
from customer_ops.roles import Role
from fraud.models import Block
from fraud.selectors import is_blocked
from tests.e2e.conftest import E2E_MARKS, PASSWORD, axe_problems, chart_data, kpi, wait_for_charts
from tests.factories import (
    CustomerFactory,
    DataDeletionRequestFactory,
    DisputeFactory,
    FraudAlertFactory,
    OrderFactory,
    RefundRequestFactory,
    TicketFactory,
    TicketMessageFactory,
)
from tickets.models import Dispute, RefundRequest, Ticket
from tickets.services import tickets as ticket_services

pytestmark = E2E_MARKS


def _staff(make_staff, role: Role, username: str, **names):
    return make_staff(role, username=username, password=PASSWORD, **names)


def _submit(session, locator):
    with session.page.expect_navigation():
        locator.click()
    session.problems += axe_problems(session.page)  # the page the form leads to (go() checks the rest)


def _submit_invalid(session, button):
    """Submit with the browser's own checks off (``required`` attributes), so the server's
    validation is what answers."""
    button.evaluate("b => { if (b.form) { b.form.noValidate = true; } }")
    _submit(session, button)


def _messages(session) -> str:
    return " ".join(session.page.locator("ul.messagelist li").all_inner_texts())


# --- support agent --------------------------------------------------------------------------


def test_agent_takes_replies_and_resolves_a_ticket(open_session, make_staff):
    agent = _staff(make_staff, Role.AGENT, "agent", first_name="Ada", last_name="Agent")
    customer = CustomerFactory(full_name="Maria Lopez")
    order = OrderFactory(customer=customer, order_number="ORD-E2E-0001")
    ticket = TicketFactory(customer=customer, order=order, subject="Cold pizza", priority="HIGH")
    TicketMessageFactory(ticket=ticket, message_text="My pizza arrived cold.")

    s = open_session("agent")
    s.login("agent")
    s.go(reverse("admin:tickets_ticket_changelist"))
    assert ticket.ticket_id in s.text() and "unassigned" in s.text()
    s.shot("queue")

    _submit(s, s.page.locator(f"a:text-is('{ticket.ticket_id}')"))
    _submit(s, s.form(reverse("admin:tickets_ticket_take", args=[ticket.pk])).locator("button"))
    assert "is now yours" in _messages(s)
    assert Ticket.objects.get(pk=ticket.pk).assigned_to_agent_id == agent.pk

    s.page.fill("#reply-text", "Sorry about that, Maria: we are refunding the delivery fee.")
    _submit(s, s.form(reverse("admin:tickets_ticket_reply", args=[ticket.pk])).locator("button"))
    assert "Reply sent." in _messages(s)
    assert "we are refunding the delivery fee" in s.page.locator("ol.thread").inner_text()

    # Bad input: resolving without a resolution is a form error; the ticket is untouched.
    resolve = reverse("admin:tickets_ticket_resolve", args=[ticket.pk])
    before = Ticket.objects.get(pk=ticket.pk)
    _submit_invalid(s, s.form(resolve).locator("button"))
    assert "This field is required." in s.form(resolve).inner_text()
    after = Ticket.objects.get(pk=ticket.pk)
    assert (after.status, after.resolution, after.updated_at) == (before.status, before.resolution, before.updated_at)
    s.shot("resolve-without-resolution")

    s.form(resolve).locator("textarea").fill("Delivery fee refunded; the merchant was told about the cold food.")
    _submit(s, s.form(resolve).locator("button"))
    assert f"{ticket.ticket_id} resolved." in _messages(s)
    ticket.refresh_from_db()
    assert ticket.status == "RESOLVED" and ticket.resolution.startswith("Delivery fee refunded")
    # The SLA targets and the customer's context sit beside the thread.
    assert s.page.locator("table.sla-table tbody tr").count() >= 2
    assert s.page.locator("aside.ticket-side section.customer-panel").count() >= 1
    assert "ORD-E2E-0001" in s.page.locator("aside.ticket-side").inner_text()
    s.shot("ticket-resolved")


# --- support lead ---------------------------------------------------------------------------


def test_lead_reassigns_a_ticket_and_decides_two_refunds(open_session, make_staff):
    _staff(make_staff, Role.LEAD, "lead", first_name="Lee", last_name="Lead")
    agent = _staff(make_staff, Role.AGENT, "agent", first_name="Ada", last_name="Agent")
    agent2 = _staff(make_staff, Role.AGENT, "agent2", first_name="Bo", last_name="Second")
    ticket = TicketFactory(subject="Parcel never arrived")
    ticket_services.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    approve_me = RefundRequestFactory(requested_amount=Decimal("12.50"), refund_reason="Missing drink")
    reject_me = RefundRequestFactory(requested_amount=Decimal("25.00"), refund_reason="Changed my mind")

    s = open_session("lead")
    s.login("lead")
    s.go(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assign = s.form(reverse("admin:tickets_ticket_assign", args=[ticket.pk]))
    assign.locator("select").select_option(value=str(agent2.pk))
    _submit(s, assign.locator("button"))
    assert "assigned to Bo Second" in _messages(s)
    assert Ticket.objects.get(pk=ticket.pk).assigned_to_agent_id == agent2.pk
    s.shot("ticket-reassigned")

    s.go(reverse("admin:tickets_refundrequest_change", args=[approve_me.pk]))
    s.shot("refund-approval")
    _submit(s, s.form(reverse("admin:tickets_refund_approve", args=[approve_me.pk])).locator("button"))
    approve_me.refresh_from_db()
    assert approve_me.refund_status == "APPROVED" and approve_me.approved_amount == Decimal("12.50")

    # Bad input: a rejection needs a reason; the request stays pending.
    s.go(reverse("admin:tickets_refundrequest_change", args=[reject_me.pk]))
    reject = reverse("admin:tickets_refund_reject", args=[reject_me.pk])
    _submit_invalid(s, s.form(reject).locator("button"))
    assert "This field is required." in s.form(reject).inner_text()
    assert RefundRequest.objects.get(pk=reject_me.pk).refund_status == "PENDING"
    s.shot("reject-without-reason")

    s.form(reject).locator("textarea").fill("Outside the refund policy: the order was delivered complete.")
    _submit(s, s.form(reject).locator("button"))
    reject_me.refresh_from_db()
    assert reject_me.refund_status == "REJECTED"
    assert reject_me.rejection_reason == "Outside the refund policy: the order was delivered complete."
    s.shot("refund-rejected")


# --- fraud analyst --------------------------------------------------------------------------


def test_fraud_analyst_blocks_and_unblocks_from_the_top_alert(open_session, make_staff):
    _staff(make_staff, Role.FRAUD, "fraud", first_name="Fay", last_name="Fraud")
    customer = CustomerFactory(full_name="Victor Chargeback")
    FraudAlertFactory(alert_severity="LOW")
    top = FraudAlertFactory(
        customer=customer, alert_severity="CRITICAL", evidence={"failed_payments": 7, "cards_used": 5}
    )

    s = open_session("fraud")
    s.login("fraud")
    s.go(reverse("admin:fraud_fraudalert_changelist"))
    first_row = s.page.locator("#result_list tbody tr").first
    assert "Critical" in first_row.inner_text()  # the queue puts the most severe first
    s.shot("alert-queue")
    _submit(s, first_row.locator(f'a[href="{reverse("admin:fraud_fraudalert_change", args=[top.pk])}"]').first)
    evidence = s.page.locator("dl.evidence").inner_text()
    assert "failed payments" in evidence and "7" in evidence and "cards used" in evidence
    s.shot("alert-evidence")

    _submit(s, s.page.locator("a.button", has_text="Block this customer"))
    s.page.select_option("#id_block_type", "SERVICE_BLOCK")
    s.page.select_option("#id_service_type", "FOOD")
    _submit(s, s.page.locator("input[type=submit][value=Block]"))
    block = Block.objects.get(customer=customer)
    assert is_blocked(customer, "FOOD") and not is_blocked(customer, "RIDE")
    s.shot("block-created")

    # Bad input: lifting needs a reason; the block stays in force.
    _submit(s, s.page.locator("a", has_text="Lift this block"))
    _submit_invalid(s, s.page.locator("input[type=submit]"))
    assert "This field is required." in s.page.locator("#content-main").inner_text()
    assert is_blocked(customer, "FOOD") and not Block.objects.get(pk=block.pk).is_unblocked
    s.shot("lift-without-reason")

    s.page.fill("textarea[name=reason]", "Chargebacks were the bank's error; confirmed with the payments team.")
    _submit(s, s.page.locator("input[type=submit]"))
    assert f"Block #{block.pk} lifted." in _messages(s)
    assert not is_blocked(customer, "FOOD")
    s.go(reverse("admin:customer_ops_customer_change", args=[customer.pk]))
    s.shot("customer-after-unblock")


# --- legal, then an agent ---------------------------------------------------------------


CASE = "LC-2026-0042"
NOTES = "Privileged: counsel advises settling below the claim."


def test_legal_resolves_a_dispute_and_agents_never_see_the_legal_notes(open_session, make_staff):
    _staff(make_staff, Role.LEGAL, "legal", first_name="Liz", last_name="Legal")
    _staff(make_staff, Role.AGENT, "agent", first_name="Ada", last_name="Agent")
    dispute = DisputeFactory(disputed_amount=Decimal("40.00"), dispute_reason="Half the order missing")
    change = reverse("admin:tickets_dispute_change", args=[dispute.pk])

    s = open_session("legal")
    s.login("legal")
    s.go(change)
    s.page.fill("#id_legal_case_number", CASE)
    s.page.fill("#id_legal_notes", NOTES)
    _submit(s, s.page.locator("input[name=_save]"))
    dispute.refresh_from_db()
    assert (dispute.legal_case_number, dispute.legal_notes) == (CASE, NOTES)

    s.go(change)
    _submit(s, s.page.locator("a", has_text="Start investigation"))
    s.page.fill("textarea[name=note]", "Asked the merchant for the packing photo.")
    _submit(s, s.page.locator("input[type=submit]"))
    assert Dispute.objects.get(pk=dispute.pk).dispute_status == "INVESTIGATING"
    s.shot("dispute-investigating")

    # Bad input: resolving needs a resolution and an amount; the dispute stays under investigation.
    _submit(s, s.page.locator("a", has_text="Resolve"))
    _submit_invalid(s, s.page.locator("input[type=submit]"))
    assert "This field is required." in s.page.locator("#content-main").inner_text()
    assert Dispute.objects.get(pk=dispute.pk).dispute_status == "INVESTIGATING"
    s.shot("resolve-without-resolution")

    s.page.fill("textarea[name=resolution]", "Merchant accepted fault; partial refund.")
    s.page.fill("input[name=resolution_amount]", "20.00")
    _submit(s, s.page.locator("input[type=submit]"))
    dispute.refresh_from_db()
    assert dispute.dispute_status == "RESOLVED" and dispute.resolution_amount == Decimal("20.00")
    assert CASE in s.text() and NOTES in s.text()
    s.shot("dispute-resolved")
    s.logout()

    a = open_session("legal-then-agent")
    a.login("agent")
    for page in [
        change,
        reverse("admin:tickets_dispute_changelist"),
        reverse("admin:tickets_dispute_history", args=[dispute.pk]),
    ]:
        a.go(page)
        html = a.text()
        assert NOTES not in html and CASE not in html and "legal_notes" not in html, page
    a.go(change)
    assert "Merchant accepted fault" in a.text()  # the agent does see the dispute itself
    a.shot("agent-sees-no-legal-notes")


# --- compliance admin -----------------------------------------------------------------------


def test_compliance_admin_runs_an_erasure_and_downloads_an_export(open_session, make_staff):
    _staff(make_staff, Role.COMPLIANCE, "compliance", first_name="Cy", last_name="Compliance")
    customer = CustomerFactory(full_name="Erin Erasure", email="erin.erasure@example.test", phone="+447700900321")
    OrderFactory(customer=customer)
    request = DataDeletionRequestFactory(
        customer=customer, deletion_scope=["ALL"], requested_at=timezone.now() - dt.timedelta(days=2)
    )
    change = reverse("admin:compliance_datadeletionrequest_change", args=[request.pk])

    s = open_session("compliance")
    s.login("compliance")
    s.go(change)
    assert "Erasure plan" in s.text()
    s.shot("deletion-request-plan")

    # Bad input: a rejection needs a reason; the request stays pending.
    reject = reverse("admin:compliance_deletion_reject", args=[request.pk])
    _submit_invalid(s, s.form(reject).locator("input[type=submit]"))
    assert "This field is required." in s.page.locator("#content-main").inner_text()
    assert DataDeletionRequest.objects.get(pk=request.pk).request_status == "PENDING"
    s.shot("reject-without-reason")

    # Approval needs the requester's identity verified: recorded on its own page first.
    s.go(reverse("admin:compliance_deletion_verify", args=[request.pk]))
    s.page.select_option("#id_method", "EMAIL_LINK")
    s.page.fill("#id_reference", "reply to message 88")
    _submit(s, s.page.locator("input[type=submit].default"))
    assert "identity verification recorded" in s.text()
    s.go(change)
    approve = s.form(reverse("admin:compliance_deletion_approve", args=[request.pk]))
    _submit(s, approve.locator("input[type=submit]"))
    request.refresh_from_db()
    assert request.request_status == "PROCESSING"  # queued for the erasure job, not run in the request
    assert "the erasure job carries it out at" in s.text()
    call_command("process_deletion_requests", stdout=io.StringIO())  # what cron does every 15 minutes
    s.go(change)
    request.refresh_from_db()
    assert request.request_status == "COMPLETED"
    assert "Report: completed" in s.text()
    s.shot("erasure-report")

    customer.refresh_from_db()
    assert customer.status == "ANONYMISED"
    assert "Erin" not in customer.full_name and "erin.erasure" not in customer.email
    s.go(reverse("admin:customer_ops_customer_change", args=[customer.pk]))
    assert "Erin Erasure" not in s.text() and "erin.erasure@example.test" not in s.text()
    s.shot("customer-anonymised")

    with s.page.expect_download() as download:  # a POST form with its CSRF token (it records the download)
        s.page.get_by_role("button", name="JSON").click()
    assert download.value.suggested_filename.startswith(f"customer-{customer.pk}-")
    assert download.value.suggested_filename.endswith("-json.zip")


# --- analyst --------------------------------------------------------------------------------


def test_analyst_changes_the_dashboard_range_and_the_charts_redraw(open_session, make_staff):
    _staff(make_staff, Role.ANALYST, "analyst", first_name="Ana", last_name="Lyst")
    now = timezone.now()
    for days, service in [(1, "FOOD"), (2, "FOOD"), (3, "RIDE"), (5, "PARCEL"), (8, "FOOD")]:
        OrderFactory(created_at=now - dt.timedelta(days=days), service_type=service)
    for days in (60, 61, 75):
        OrderFactory(created_at=now - dt.timedelta(days=days), service_type="PARCEL", status="CANCELLED")
    from analytics import jobs  # the dashboard reads the daily job's platform table for past days

    jobs.run_platform_daily(jobs.day_range(now.date() - dt.timedelta(days=100), now.date()))
    counts = (Order.objects.count(), AuditLog.objects.count(), Customer.objects.count())

    s = open_session("analyst")
    s.login("analyst")
    s.go(reverse("admin:analytics_dashboard_changelist"))
    wait_for_charts(s)
    before = chart_data(s)
    assert kpi(s, "Orders placed") == "5"
    s.shot("dashboard-default-range")

    today = timezone.now().date()
    s.page.fill("input[name=date_from]", (today - dt.timedelta(days=90)).isoformat())
    s.page.fill("input[name=date_to]", today.isoformat())
    _submit(s, s.page.locator("button", has_text="Apply"))
    wait_for_charts(s)
    assert kpi(s, "Orders placed") == "8"
    assert chart_data(s) != before  # new data, drawn again
    s.shot("dashboard-90-days")

    # Bad input: a start after the end is shown as an error; nothing is written anywhere.
    s.page.fill("input[name=date_from]", today.isoformat())
    s.page.fill("input[name=date_to]", (today - dt.timedelta(days=10)).isoformat())
    _submit(s, s.page.locator("button", has_text="Apply"))
    assert "The start date is after the end date." in s.page.locator(".errornote").inner_text()
    wait_for_charts(s)
    assert (Order.objects.count(), AuditLog.objects.count(), Customer.objects.count()) == counts
    s.shot("dashboard-bad-range")
