"""The queue, the ticket page and the refund pages through the admin (test client)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from customer_ops.context import actor_for_customer
from customer_ops.roles import Role
from tests.assertions import assert_page_shows, unchanged
from tests.factories import OrderFactory, RefundRequestFactory, TicketFactory, TicketMessageFactory, UserFactory
from tests.tickets.conftest import fresh
from tests.tickets.factories import InternalNoteFactory, MacroFactory
from tickets.admin.tickets import TicketAdmin
from tickets.models import InternalNote, RefundRequest, TicketMessage
from tickets.services import refunds as refund_svc
from tickets.services import tickets as svc

pytestmark = pytest.mark.django_db


# What a refused form could have written: each refusal re-reads it (tests/README.md).
TICKET_TABLES = tuple(apps.get_app_config("tickets").get_models())  # with their history tables


def _url(action, ticket):
    return reverse(f"admin:tickets_ticket_{action}", args=[ticket.pk])


def _version(ticket):
    return fresh(ticket).updated_at.isoformat()


@pytest.fixture
def as_agent(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def as_lead(client, lead):
    client.force_login(lead)
    return client


# --- the queue ---------------------------------------------------------------------------


@pytest.fixture
def busy_queue(agent, agent2):
    now = timezone.now()
    for i in range(120):
        t = TicketFactory(
            priority=["LOW", "MEDIUM", "HIGH", "URGENT", "CRITICAL"][i % 5],
            created_at=now - dt.timedelta(hours=i),
            assigned_to_agent=[None, agent, agent2][i % 3],
            status="OPEN" if i % 3 == 0 else "IN_PROGRESS",
        )
        TicketMessageFactory.create_batch(2, ticket=t, sender_type="CUSTOMER")
        TicketMessageFactory(ticket=t, sender_type="AGENT")


@pytest.mark.parametrize("query", ["", "?queue=mine", "?queue=breached&priority__exact=HIGH", "?q=example", "?o=8"])
@pytest.mark.parametrize("who", ["agent", "lead"])
def test_queue_query_budget_at_100_rows(
    client, request, busy_queue, monkeypatch, django_assert_max_num_queries, query, who
):
    monkeypatch.setattr(TicketAdmin, "list_per_page", 100)
    client.force_login(request.getfixturevalue(who))
    # 14: one of them asks whether the viewer sees personal data masked (customer_ops.masking),
    # one reads the viewer's saved views (the tabs beside the fixed views).
    with django_assert_max_num_queries(14):
        response = client.get(reverse("admin:tickets_ticket_changelist") + query)
    assert response.status_code == 200
    if not query:
        assert len(response.context["cl"].result_list) == 100


def test_queue_shows_unread_counts_and_sorts_by_sla(as_agent):
    now = timezone.now()
    later = TicketFactory(priority="LOW", created_at=now - dt.timedelta(minutes=5))
    breached = TicketFactory(priority="LOW", created_at=now - dt.timedelta(hours=20))
    TicketMessageFactory.create_batch(3, ticket=breached, sender_type="CUSTOMER")
    TicketMessageFactory(ticket=breached, sender_type="CUSTOMER", is_read=True)
    done = TicketFactory(priority="CRITICAL", status="RESOLVED", resolved_at=now)
    response = as_agent.get(reverse("admin:tickets_ticket_changelist"))
    rows = list(response.context["cl"].result_list)
    assert [t.pk for t in rows] == [breached.pk, later.pk, done.pk]
    assert rows[0].unread_count == 3 and rows[1].unread_count == 0
    assert b"breached" in response.content and b"badge-unread" in response.content


def test_queue_views(as_agent, agent, agent2):
    now = timezone.now()
    mine = TicketFactory(assigned_to_agent=agent, status="IN_PROGRESS")
    theirs = TicketFactory(assigned_to_agent=agent2, status="IN_PROGRESS")
    unassigned = TicketFactory()
    follow = TicketFactory(follow_up_required=True, follow_up_date=now - dt.timedelta(hours=1))
    old = TicketFactory(priority="CRITICAL", created_at=now - dt.timedelta(hours=1))

    def view(name):
        response = as_agent.get(reverse("admin:tickets_ticket_changelist") + f"?queue={name}")
        return {t.pk for t in response.context["cl"].result_list}

    assert view("mine") == {mine.pk}
    assert view("unassigned") == {unassigned.pk, follow.pk, old.pk}
    assert view("open") == {mine.pk, theirs.pk, unassigned.pk, follow.pk, old.pk}
    assert view("breached") == {old.pk}
    assert view("follow_up") == {follow.pk}


def test_take_next_button(as_agent, agent):
    ticket = TicketFactory(priority="HIGH")
    response = as_agent.post(reverse("admin:tickets_ticket_take_next"))
    assert response.status_code == 302 and response.url == reverse("admin:tickets_ticket_change", args=[ticket.pk])
    assert fresh(ticket).assigned_to_agent == agent
    response = as_agent.post(reverse("admin:tickets_ticket_take_next"), follow=True)
    assert b"No unassigned open tickets" in response.content


def test_bulk_close_goes_through_the_service(as_lead, agent, lead):
    resolved = TicketFactory()
    svc.ticket_assign(ticket=resolved, agent=agent, actor=agent)
    svc.ticket_resolve(ticket=resolved, resolution="done", actor=agent)
    still_open = TicketFactory()
    response = as_lead.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "close_selected", "_selected_action": [resolved.pk, still_open.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert fresh(resolved).status == "CLOSED" and fresh(still_open).status == "OPEN"
    assert fresh(resolved).history.first().history_user == lead
    assert b"resolve it before closing" in response.content


def test_agent_has_no_bulk_close(as_agent):
    TicketFactory()
    response = as_agent.get(reverse("admin:tickets_ticket_changelist"))
    actions = [value for value, _label in response.context["action_form"].fields["action"].choices]
    assert "close_selected" not in actions and "assign_to_me" in actions


# --- export --------------------------------------------------------------------------------


def test_lead_exports_the_filtered_queue_as_csv(as_lead):
    high = TicketFactory(priority="HIGH", subject="High one")
    TicketFactory(priority="LOW", subject="Low one")
    fields = {f"ticketqueueresource_{name}": "on" for name in ["ticket_id", "subject", "priority", "sla_due_at"]}
    response = as_lead.post(
        reverse("admin:tickets_ticket_export") + "?priority__exact=HIGH", {"format": "0", "resource": "0", **fields}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()  # streamed CSV
    assert high.ticket_id in body and "High one" in body and "Low one" not in body


def test_agent_may_not_export(as_agent):
    assert as_agent.get(reverse("admin:tickets_ticket_export")).status_code == 403


# --- the ticket page ----------------------------------------------------------------------

# Whatever the thread's length: session and user, the ticket, permissions, the thread (two),
# macros, the customer panels, the refunds and the disputes of the ticket and the tickets
# merged into it, the links, who else is here, and the session's save.
TICKET_PAGE_QUERIES = 26


def test_ticket_page_with_200_messages_stays_within_its_query_budget(
    as_agent, agent, ticket, django_assert_max_num_queries
):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    TicketMessageFactory.create_batch(150, ticket=ticket, sender_type="CUSTOMER")
    TicketMessageFactory.create_batch(50, ticket=ticket, sender_type="AGENT", attachments=["https://x.test/a.jpg"])
    InternalNoteFactory.create_batch(5, ticket=ticket)
    MacroFactory.create_batch(3)
    RefundRequestFactory.create_batch(3, customer=ticket.customer, order=ticket.order, requested_amount="1.00")
    with django_assert_max_num_queries(TICKET_PAGE_QUERIES):
        response = as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert response.status_code == 200
    assert len(response.context["entries"]) >= 205


def test_lead_ticket_page_query_budget(as_lead, ticket, django_assert_max_num_queries):
    TicketMessageFactory.create_batch(200, ticket=ticket)
    with django_assert_max_num_queries(TICKET_PAGE_QUERIES):
        assert as_lead.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200


def test_opening_marks_customer_messages_read(as_agent, agent, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    message = TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    message.refresh_from_db()
    assert message.is_read and message.read_at is not None


def test_fraud_analyst_opening_does_not_mark_read(client, fraud, ticket):
    message = TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    client.force_login(fraud)
    assert client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
    message.refresh_from_db()
    assert not message.is_read


def test_opening_someone_elses_ticket_leaves_it_unread(client, agent, agent2, lead, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    message = TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")
    for visitor in (agent2, lead):
        client.force_login(visitor)
        assert client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
        assert not fresh(message).is_read, visitor
    client.force_login(agent)
    client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert fresh(message).is_read


def test_note_on_someone_elses_ticket_is_refused_through_the_page(as_agent, agent2, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent2, actor=agent2)
    page = as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert not page.context["show"]["note"] and not page.context["can_raise_refund"]
    response = as_agent.post(_url("note", ticket), {"body": "Sneaky"})
    assert response.status_code == 403
    assert not InternalNote.objects.filter(ticket=ticket).exists()


def test_thread_shows_notes_distinctly_and_macros_filled(as_agent, ticket):
    TicketMessageFactory(ticket=ticket, message_text="Where is my food?")
    InternalNoteFactory(ticket=ticket, body="Staff-only remark")
    MacroFactory(name="Hello", body="Hi {{ customer_first_name }}, order {{ order_number }}.")
    MacroFactory(name="Retired", body="An old canned reply.", is_active=False)
    response = as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    html = response.content.decode()
    assert "An old canned reply." not in html  # inactive macros are not offered
    assert "Where is my food?" in html
    assert 'class="note' in html and "never sent to the customer" in html and "Staff-only remark" in html
    assert f"Hi {ticket.customer.first_name}, order {ticket.order.order_number}." in html
    assert "<script>" not in html.replace("<script src=", "")  # no inline scripts
    assert " style=" not in html and "onclick" not in html


def test_reply_through_the_page(as_agent, ticket):
    page = as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    seen = page.context["forms"]["reply"].initial
    response = as_agent.post(_url("reply", ticket), {"text": "On it!", "attachments": "", **_seen(seen)})
    assert response.status_code == 302
    assert TicketMessage.objects.filter(ticket=ticket, sender_type="AGENT", message_text="On it!").exists()


def _seen(initial):
    return {"seen_message": initial["seen_message"], "seen_note": initial["seen_note"]}


def test_stale_reply_is_refused_with_new_messages_shown(as_agent, ticket):
    page = as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    seen = _seen(page.context["forms"]["reply"].initial)
    new = TicketMessageFactory(ticket=ticket, message_text="Never mind, found it!")
    response = as_agent.post(_url("reply", ticket), {"text": "Refund on its way", "attachments": "", **seen})
    assert response.status_code == 200
    assert not TicketMessage.objects.filter(ticket=ticket, sender_type="AGENT").exists()
    html = response.content.decode()
    assert "changed since you opened it" in html
    assert f'id="message-{new.pk}"' in html and "is-new" in html
    assert "Refund on its way" in html  # the draft is kept
    # The refreshed form now carries the new version: sending again works.
    reply = response.context["forms"]["reply"]
    again = as_agent.post(_url("reply", ticket), {"text": "Great!", "attachments": "", **_seen(reply.data)})
    assert again.status_code == 302


def test_empty_reply_is_a_form_error(as_agent, ticket):
    with unchanged(*TICKET_TABLES):
        response = as_agent.post(_url("reply", ticket), {"text": "", "seen_message": 0, "seen_note": 0})
    assert response.status_code == 200
    assert response.context["forms"]["reply"].errors
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_note_through_the_page_stays_out_of_customer_messages(as_agent, ticket):
    response = as_agent.post(_url("note", ticket), {"body": "Check with the merchant"})
    assert response.status_code == 302
    assert InternalNote.objects.filter(ticket=ticket, body="Check with the merchant").exists()
    assert not TicketMessage.objects.filter(message_text__contains="merchant").exists()


def test_assign_to_me_then_conflict_message_for_the_second(client, agent, agent2, ticket):
    client.force_login(agent2)
    version = _version(ticket)  # agent2 opened the page with this version
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    with unchanged(*TICKET_TABLES):
        response = client.post(_url("take", ticket), {"version": version})
    assert response.status_code == 200
    assert "changed by Alex Agent" in response.content.decode()
    assert fresh(ticket).assigned_to_agent == agent


@pytest.mark.parametrize("role", ["agent", "lead", "superuser"])
def test_no_staff_member_can_record_the_customers_rating(client, agent, lead, superuser, ticket, role):
    """The old rating form's POST, by the agent who resolved the ticket, a lead or a
    superuser: refused, nothing written; the page shows the rating without a form."""
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    svc.ticket_resolve(ticket=ticket, resolution="done", actor=agent)
    client.force_login({"agent": agent, "lead": lead, "superuser": superuser}[role])
    with unchanged(*TICKET_TABLES):
        response = client.post(_url("rate", ticket), {"rating": "5", "version": _version(ticket)})
    assert response.status_code == 403
    assert fresh(ticket).customer_satisfaction_rating is None
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert_page_shows(page, present=['<dd id="customer-rating">not rated yet</dd>'], absent=[_url("rate", ticket)])
    assert 'name="rating"' not in page.content.decode()


def test_the_ticket_page_shows_the_customers_rating_read_only(as_agent, agent, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    svc.ticket_resolve(ticket=ticket, resolution="done", actor=agent)
    svc.ticket_record_customer_rating(ticket=ticket, rating=4, actor=actor_for_customer(ticket.customer))
    page = as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert_page_shows(page, present=['<dd id="customer-rating">4/5</dd>'], absent=['name="rating"'])


def test_resolve_without_resolution_is_a_form_error(as_agent, agent, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    with unchanged(*TICKET_TABLES):
        response = as_agent.post(_url("resolve", ticket), {"resolution": "   ", "version": _version(ticket)})
    assert response.status_code == 200
    assert response.context["forms"]["resolve"].errors["resolution"]
    assert fresh(ticket).status == "IN_PROGRESS"


def test_resolve_and_other_workflow_steps_through_the_page(as_agent, agent, ticket):
    assert as_agent.post(_url("take", ticket), {"version": _version(ticket)}).status_code == 302
    assert as_agent.post(_url("priority", ticket), {"priority": "HIGH", "version": _version(ticket)}).status_code == 302
    when = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert (
        as_agent.post(_url("follow_up", ticket), {"follow_up_date": when, "version": _version(ticket)}).status_code
        == 302
    )
    r = as_agent.post(_url("resolve", ticket), {"resolution": "Refunded", "version": _version(ticket)})
    assert r.status_code == 302
    t = fresh(ticket)
    assert (t.status, t.priority, t.follow_up_required) == ("RESOLVED", "HIGH", True)
    assert (
        as_agent.post(_url("reopen", ticket), {"reason": "Came back", "version": _version(ticket)}).status_code == 302
    )
    assert fresh(ticket).status == "IN_PROGRESS"


def test_follow_up_in_the_past_is_a_form_error(as_agent, ticket):
    when = (timezone.localtime() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    with unchanged(ticket):
        response = as_agent.post(_url("follow_up", ticket), {"follow_up_date": when, "version": _version(ticket)})
    assert response.status_code == 200 and response.context["forms"]["follow_up"].errors


def test_damaged_version_is_a_form_error(as_agent, ticket):
    with unchanged(ticket):
        response = as_agent.post(_url("priority", ticket), {"priority": "HIGH", "version": "yesterday"})
    assert response.status_code == 200 and response.context["forms"]["priority"].errors


# --- 403s on lead-only URLs ---------------------------------------------------------------


def test_agent_gets_403_on_lead_only_ticket_urls(as_agent, agent, agent2, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    svc.ticket_resolve(ticket=ticket, resolution="done", actor=agent)
    other = TicketFactory()
    with unchanged(ticket, other, ticket.history.all(), other.history.all()):
        assert as_agent.post(_url("close", ticket), {"version": _version(ticket)}).status_code == 403
        assert as_agent.post(_url("assign", other), {"agent": agent2.pk, "version": _version(other)}).status_code == 403
    assert fresh(ticket).status == "RESOLVED" and fresh(other).assigned_to_agent is None


def test_agent_gets_403_working_someone_elses_ticket(as_agent, agent2, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent2, actor=agent2)
    with unchanged(ticket, ticket.history.all()):
        response = as_agent.post(_url("priority", ticket), {"priority": "HIGH", "version": _version(ticket)})
    assert response.status_code == 403


def test_fraud_analyst_gets_403_on_reply(client, fraud, ticket):
    client.force_login(fraud)
    with unchanged(ticket, TicketMessage.objects.filter(ticket=ticket), InternalNote.objects.filter(ticket=ticket)):
        response = client.post(_url("reply", ticket), {"text": "hi", "seen_message": 0, "seen_note": 0})
    assert response.status_code == 403


def test_action_urls_refuse_get(as_lead, ticket):
    with unchanged(ticket):
        assert as_lead.get(_url("close", ticket)).status_code == 405


def test_lead_closes_through_the_page(as_lead, agent, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    svc.ticket_resolve(ticket=ticket, resolution="done", actor=agent)
    assert as_lead.post(_url("close", ticket), {"version": _version(ticket)}).status_code == 302
    assert fresh(ticket).status == "CLOSED"


def test_history_page_is_read_only(as_lead, agent, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    response = as_lead.get(reverse("admin:tickets_ticket_history", args=[ticket.pk]))
    assert response.status_code == 200
    assert b"agent_a" in response.content or b"Alex Agent" in response.content
    record = ticket.history.first()
    url = reverse("admin:tickets_ticket_simple_history", args=[ticket.pk, record.history_id])
    with unchanged(ticket, ticket.history.all()):
        assert as_lead.post(url, {}).status_code == 403


# --- refunds ---------------------------------------------------------------------------------


def test_raise_refund_from_a_ticket_page(as_agent, agent, ticket):
    url = reverse("admin:tickets_refundrequest_add") + f"?ticket={ticket.pk}&order={ticket.order_id}"
    page = as_agent.get(url)
    assert page.status_code == 200 and ticket.order.order_number in page.content.decode()
    response = as_agent.post(
        url,
        {
            "order_number": ticket.order.order_number,
            "refund_type": "ITEM",
            "refund_reason_code": "MISSING_ITEM",
            "refund_reason": "Fries missing",
            "requested_amount": "3.50",
            "refund_items": "Large fries; 1; 3.50",
            "ticket": ticket.pk,
        },
    )
    assert response.status_code == 302 and response.url == reverse("admin:tickets_ticket_change", args=[ticket.pk])
    refund = RefundRequest.objects.get()
    assert refund.refund_items == [{"item": "Large fries", "quantity": 1, "amount": "3.50"}]
    assert refund.origin.ticket == ticket and refund.origin.raised_by == agent


@pytest.mark.parametrize(
    ("amount", "items", "error"),
    [
        ("-5", "", "requested_amount"),
        ("99.00", "Caviar; 1; 99.00", "refund_items"),
        ("50.00", "Fries; 1; 3.50", "requested_amount"),
        ("3.50", "Fries; one; 3.50", "refund_items"),
        ("3.50", "just fries", "refund_items"),
    ],
)
def test_raise_refund_bad_input_is_a_form_error(as_agent, order, amount, items, error):
    with unchanged(*TICKET_TABLES):
        response = as_agent.post(
            reverse("admin:tickets_refundrequest_add"),
            {
                "order_number": order.order_number,
                "refund_type": "PARTIAL",
                "refund_reason_code": "OTHER",
                "refund_reason": "x",
                "requested_amount": amount,
                "refund_items": items,
            },
        )
    assert response.status_code == 200
    assert error in response.context["form"].errors
    assert not RefundRequest.objects.exists()


def test_unknown_order_is_a_form_error(as_agent):
    with unchanged(*TICKET_TABLES):
        response = as_agent.post(
            reverse("admin:tickets_refundrequest_add"),
            {"order_number": "ORD-NOPE", "refund_type": "FULL", "refund_reason_code": "OTHER", "refund_reason": "x"},
        )
    assert response.status_code == 200 and "order_number" in response.context["form"].errors


@pytest.fixture
def pending(agent, order):
    return refund_svc.refund_raise(
        order=order, refund_type="FULL", refund_reason="Never arrived", actor=agent, requested_amount="40.00"
    )


def test_approval_screen_shows_panels_and_forms(as_lead, pending, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        response = as_lead.get(reverse("admin:tickets_refundrequest_change", args=[pending.pk]))
    assert response.status_code == 200
    keys = [p["key"] for p in response.context["panels"]]
    assert "refunds" in keys and "tickets" in keys
    assert response.context["show"]["approve"] and response.context["approval_limit"] == Decimal("150.00")


def test_approve_above_requested_is_a_form_error(as_lead, pending):
    url = reverse("admin:tickets_refund_approve", args=[pending.pk])
    with unchanged(*TICKET_TABLES):
        response = as_lead.post(url, {"approved_amount": "40.01", "version": _version(pending)})
    assert response.status_code == 200
    assert "approved_amount" in response.context["forms"]["approve"].errors
    assert fresh(pending).refund_status == "PENDING"


def test_approve_and_process_through_the_pages(as_lead, pending):
    url = reverse("admin:tickets_refund_approve", args=[pending.pk])
    assert as_lead.post(url, {"approved_amount": "30.00", "version": _version(pending)}).status_code == 302
    url = reverse("admin:tickets_refund_process", args=[pending.pk])
    assert as_lead.post(url, {"refund_mode": "WALLET", "version": _version(pending)}).status_code == 302
    url = reverse("admin:tickets_refund_complete", args=[pending.pk])
    assert as_lead.post(url, {"version": _version(pending)}).status_code == 302
    assert fresh(pending).refund_status == "COMPLETED"


def test_own_request_approval_is_refused_with_403(client, lead, order):
    refund = refund_svc.refund_raise(order=order, refund_type="FULL", refund_reason="x", actor=lead)
    client.force_login(lead)
    url = reverse("admin:tickets_refund_approve", args=[refund.pk])
    with unchanged(refund, refund.history.all()):
        assert client.post(url, {"approved_amount": "1.00", "version": _version(refund)}).status_code == 403


def test_agent_gets_403_on_refund_decisions(as_agent, pending):
    for action, data in [("approve", {"approved_amount": "1.00"}), ("reject", {"rejection_reason": "no"})]:
        url = reverse(f"admin:tickets_refund_{action}", args=[pending.pk])
        with unchanged(pending, pending.history.all()):
            assert as_agent.post(url, {**data, "version": _version(pending)}).status_code == 403


def test_reject_without_reason_is_a_form_error(as_lead, pending):
    url = reverse("admin:tickets_refund_reject", args=[pending.pk])
    with unchanged(*TICKET_TABLES):
        response = as_lead.post(url, {"rejection_reason": "", "version": _version(pending)})
    assert response.status_code == 200 and response.context["forms"]["reject"].errors
    assert fresh(pending).refund_status == "PENDING"


def test_every_support_page_loads_for_a_superuser(client, ticket, pending):
    client.force_login(UserFactory(username="root2", is_superuser=True))
    OrderFactory()
    for name, args in [
        ("admin:tickets_ticket_changelist", []),
        ("admin:tickets_ticket_change", [ticket.pk]),
        ("admin:tickets_ticket_history", [ticket.pk]),
        ("admin:tickets_ticket_export", []),
        ("admin:tickets_refundrequest_changelist", []),
        ("admin:tickets_refundrequest_change", [pending.pk]),
        ("admin:tickets_refundrequest_add", []),
        ("admin:tickets_ticketmessage_changelist", []),
        ("admin:tickets_internalnote_changelist", []),
        ("admin:tickets_macro_changelist", []),
        ("admin:tickets_macro_add", []),
        ("admin:tickets_slaescalation_changelist", []),
        ("admin:customer_ops_customer_change", [ticket.customer_id]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name


def test_macro_with_unknown_placeholder_is_a_form_error(as_lead):
    with unchanged(*TICKET_TABLES):
        response = as_lead.post(
            reverse("admin:tickets_macro_add"), {"name": "Bad", "body": "Hi {{ password }}", "is_active": "on"}
        )
    assert response.status_code == 200
    assert "Unknown placeholder" in str(response.context["adminform"].form.errors)


def test_agent_cannot_edit_macros(as_agent):
    assert as_agent.get(reverse("admin:tickets_macro_add")).status_code == 403
    assert as_agent.get(reverse("admin:tickets_macro_changelist")).status_code == 200


def test_ticket_missing_redirects(as_agent):
    ticket = TicketFactory()
    missing = ticket.pk + 1000
    assert as_agent.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
    response = as_agent.get(reverse("admin:tickets_ticket_change", args=[missing]))
    assert response.status_code == 302 and response.url == reverse("admin:index")
    landed = as_agent.get(response.url)
    assert_page_shows(landed, present=[f"ID “{missing}” doesn’t exist. Perhaps it was deleted?"])


def test_agent_filter_lists_support_staff_by_name(as_agent, agent, lead, fraud, make_staff):
    no_name = make_staff(Role.AGENT, username="agent_plain", first_name="", last_name="")
    inactive = make_staff(Role.AGENT, username="agent_gone", is_active=False)
    response = as_agent.get(reverse("admin:tickets_ticket_changelist"))
    (agents,) = [spec for spec in response.context["cl"].filter_specs if getattr(spec, "parameter_name", "") == "agent"]
    choices = dict(agents.lookup_choices)
    assert choices[str(agent.pk)] == "Alex Agent" and choices[str(lead.pk)] == "Lee Lead"
    assert choices[str(no_name.pk)] == "agent_plain"  # no name: the username
    assert str(fraud.pk) not in choices and str(inactive.pk) not in choices
    assert choices["none"] == "Unassigned"
