"""The agent's workspace in Chromium: two agents on one ticket (presence, live thread, the
stale-reply refusal), a merged ticket, the bulk result page and the team report."""

from __future__ import annotations

from django.urls import reverse

from customer_ops.roles import Role
from tests.e2e.conftest import E2E_MARKS, PASSWORD, axe_problems
from tests.factories import CustomerFactory, OrderFactory, TicketFactory, TicketMessageFactory
from tickets.models import TicketMessage
from tickets.services import tickets as ticket_services
from tickets.services.links import ticket_merge

pytestmark = E2E_MARKS


def test_two_agents_on_one_ticket_see_each_other_and_the_new_reply(open_session, make_staff, settings):
    settings.TICKETS_PRESENCE_POLL_SECONDS = 1
    make_staff(Role.AGENT, username="agent", password=PASSWORD, first_name="Ada", last_name="Agent")
    make_staff(Role.AGENT, username="agent2", password=PASSWORD, first_name="Sam", last_name="Okafor")
    customer = CustomerFactory(full_name="Maria Lopez")
    # Unassigned: either agent may work it, so the second reply meets the stale check, not
    # the "assigned to someone else" refusal.
    ticket = TicketFactory(customer=customer, order=OrderFactory(customer=customer), subject="Cold pizza")
    TicketMessageFactory(ticket=ticket, message_text="My pizza arrived cold.")
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    reply_form = reverse("admin:tickets_ticket_reply", args=[ticket.pk])

    a, b = open_session("workspace-agent"), open_session("workspace-agent2")
    a.login("agent")
    b.login("agent2")
    a.go(url)
    b.go(url)
    # each sees the other within 15 s (the poll is 1 s here)
    a.page.locator("#presence", has_text="Sam Okafor is").wait_for(timeout=15_000)
    b.page.locator("#presence", has_text="Ada Agent is").wait_for(timeout=15_000)

    # Sam starts a reply; Ada sees him writing it, then replies first
    b.page.fill("#reply-text", "Hello Maria, Sam here.")
    b.page.locator("#reply-text").dispatch_event("input")
    a.page.locator("#presence", has_text="Sam Okafor is writing a reply").wait_for(timeout=15_000)
    a.shot("two-agents-on-one-ticket")
    a.page.fill("#reply-text", "Sorry Maria, a refund is on its way.")
    with a.page.expect_navigation():
        a.form(reply_form).locator("button[type=submit]").click()
    reply = TicketMessage.objects.get(ticket=ticket, sender_type="AGENT")
    assert reply.sender_name == "Ada Agent"

    # Sam's page shows it without a reload (the same document: no navigation), with a banner
    loaded = b.page.evaluate("performance.timeOrigin")
    b.page.locator(f"#message-{reply.pk}").wait_for(timeout=15_000)
    assert "a refund is on its way" in b.page.locator(f"#message-{reply.pk}").inner_text()
    assert b.page.locator("#live-banner").is_visible()
    assert b.page.evaluate("performance.timeOrigin") == loaded
    assert b.page.input_value("#reply-text") == "Hello Maria, Sam here."  # his draft is still there
    b.shot("live-reply-arrived")
    # ... and Sam's own older reply is still refused as stale
    with b.page.expect_navigation():
        b.form(reply_form).locator("button[type=submit]").click()
    assert "conversation changed since you opened it" in b.page.content()
    assert not TicketMessage.objects.filter(ticket=ticket, message_text__startswith="Hello Maria").exists()
    assert list(TicketMessage.objects.filter(ticket=ticket, sender_type="AGENT")) == [reply]
    b.problems += axe_problems(b.page)


def test_a_merged_ticket(open_session, make_staff):
    lead = make_staff(Role.LEAD, username="lead", password=PASSWORD, first_name="Lee", last_name="Lead")
    customer = CustomerFactory(full_name="Maria Lopez")
    target = TicketFactory(customer=customer, subject="Missing drink")
    source = TicketFactory(customer=customer, subject="Missing drink (again)")
    TicketMessageFactory(ticket=target, message_text="My drink was missing.")
    TicketMessageFactory(ticket=source, message_text="Writing again: still no drink.")
    ticket_merge(source=source, target=target, actor=lead)
    s = open_session("workspace-merge")
    s.login("lead")
    s.go(reverse("admin:tickets_ticket_change", args=[target.pk]))
    assert "Writing again: still no drink." in s.text() and f"from {source.ticket_id}" in s.text()
    s.shot("merged-ticket")


def test_bulk_priority_from_the_queue(open_session, make_staff):
    agent = make_staff(Role.AGENT, username="agent", password=PASSWORD, first_name="Ada", last_name="Agent")
    other = make_staff(Role.AGENT, username="other", password=PASSWORD, first_name="Sam", last_name="Okafor")
    mine = TicketFactory(subject="Late delivery", priority="LOW")
    theirs = TicketFactory(subject="Wrong item", priority="LOW")
    ticket_services.ticket_assign(ticket=mine, agent=agent, actor=agent)
    ticket_services.ticket_assign(ticket=theirs, agent=other, actor=other)
    s = open_session("workspace-bulk")
    s.login("agent")
    s.go(reverse("admin:tickets_ticket_changelist"))
    for t in (mine, theirs):
        s.page.check(f"input[name=_selected_action][value='{t.pk}']")
    s.page.select_option("select[name=action]", "bulk_priority")
    with s.page.expect_navigation():
        s.page.click("button[name=index]")
    s.page.select_option("#id_priority", "HIGH")
    with s.page.expect_navigation():
        s.page.click("text=Apply to each ticket")
    assert "1 of 2 tickets done" in s.text() and "Refused:" in s.text()
    s.problems += axe_problems(s.page)
    s.shot("bulk-result")


def test_the_team_report(open_session, make_staff):
    import datetime as dt

    from django.utils import timezone

    from customer_ops.dates import day_range
    from tickets.team_report import run_team_weekly

    make_staff(Role.LEAD, username="lead", password=PASSWORD, first_name="Lee", last_name="Lead")
    agent = make_staff(Role.AGENT, username="agent", password=PASSWORD, first_name="Ada", last_name="Agent")
    now = timezone.now()
    for i in range(12):
        created = now - dt.timedelta(days=i * 3 + 1, hours=5)
        TicketFactory(
            created_at=created,
            issue_category=["ORDER", "PAYMENT", "DELIVERY"][i % 3],
            status="RESOLVED",
            resolved_at=created + dt.timedelta(hours=4),
            resolved_by=agent,
            resolution="Done",
            resolution_time_minutes=240,
            customer_satisfaction_rating=[None, 4, 5][i % 3],
        )
    run_team_weekly(day_range(now.date() - dt.timedelta(days=40), now.date()))
    s = open_session("workspace-report")
    s.login("lead")
    s.go(reverse("admin:tickets_ticket_team_report"))
    assert "Ada Agent" in s.text()
    s.shot("team-report")
    with s.page.expect_navigation():
        s.page.locator("#report-agents tbody td.num a").first.click()
    assert "resolved in the week of" in s.text().lower() or "resolved_week" in s.page.url


def test_an_agent_saves_a_view_and_opens_it_from_the_home_page(open_session, make_staff):
    make_staff(Role.AGENT, username="agent", password=PASSWORD, first_name="Ada", last_name="Agent")
    urgent = TicketFactory(subject="Parcel lost", priority="HIGH")
    TicketFactory(subject="Parcel late", priority="LOW")
    s = open_session("workspace-saved-view")
    s.login("agent")
    s.go(reverse("admin:tickets_ticket_changelist") + "?priority__exact=HIGH&q=Parcel")
    s.page.fill("#id_view_name", "Urgent parcels")
    with s.page.expect_navigation():
        s.form(reverse("admin:tickets_ticket_save_view")).locator("button[type=submit]").click()
    assert "Urgent parcels" in s.text() and urgent.ticket_id in s.text() and "Parcel late" not in s.text()

    s.go("/admin/")
    tile = s.page.locator("a", has_text="Urgent parcels").first
    assert "1" in tile.inner_text()
    s.shot("saved-view")
    with s.page.expect_navigation():
        tile.click()
    s.page.wait_for_load_state()
    assert urgent.ticket_id in s.text() and "Parcel late" not in s.text()
