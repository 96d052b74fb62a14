"""Presence (who else has the ticket open) and the live thread: the heartbeat endpoint, the
queue's eye, and their query budgets."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.assertions import assert_page_shows, unchanged
from tests.factories import TicketFactory, TicketMessageFactory
from tests.tickets.conftest import fresh
from tests.tickets.factories import InternalNoteFactory
from tickets import forms
from tickets.admin.tickets import TicketAdmin
from tickets.models import TicketPresence
from tickets.services import presence
from tickets.services import tickets as svc

pytestmark = pytest.mark.django_db


def _beat(client, ticket, seen=(0, 0), state="VIEWING"):
    return client.post(
        reverse("admin:tickets_ticket_presence", args=[ticket.pk]),
        {"state": state, "seen_message": seen[0], "seen_note": seen[1]},
    )


def test_each_agent_sees_the_other_and_what_they_are_doing(client, agent, agent2, ticket):
    client.force_login(agent)
    first = _beat(client, ticket, state="REPLYING").json()
    assert first["present"] == []
    client.force_login(agent2)
    seen_by_2 = _beat(client, ticket).json()["present"]
    assert seen_by_2 == [{"name": "Alex Agent", "state": "replying", "doing": "writing a reply"}]
    client.force_login(agent)
    assert _beat(client, ticket, state="NOTING").json()["present"] == [
        {"name": "Sam Okafor", "state": "viewing", "doing": "viewing"}
    ]
    # and the page itself, rendered for agent2, names agent
    client.force_login(agent2)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert_page_shows(page, present=["Alex Agent is writing a note", 'id="live"'])


def test_an_old_heartbeat_no_longer_counts(settings, agent, agent2, ticket):
    settings.TICKETS_PRESENCE_TTL_SECONDS = 20
    presence.presence_beat(ticket=ticket, state="VIEWING", actor=agent, now=timezone.now() - dt.timedelta(seconds=21))
    assert presence.present_on(ticket, exclude_user=agent2) == []
    presence.presence_beat(ticket=ticket, state="VIEWING", actor=agent)
    assert [p.name for p in presence.present_on(ticket, exclude_user=agent2)] == ["Alex Agent"]
    assert TicketPresence.objects.filter(ticket=ticket).count() == 1  # one row per person, upserted


def test_presence_stays_out_of_the_audit_log_and_the_history(client, agent, ticket):
    client.force_login(agent)
    with unchanged(ticket, ticket.history.all()):  # and the audit log (count and last id)
        for _ in range(3):
            assert _beat(client, ticket).status_code == 200


def test_presence_table_is_unlogged():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'ticket_presence'")
        assert cursor.fetchone() == ("u",)


def test_new_entries_come_with_the_poll(client, agent, agent2, ticket):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    old = TicketMessageFactory(ticket=ticket)
    client.force_login(agent2)
    seen = (old.pk, 0)
    assert _beat(client, ticket, seen).json()["new"] == 0
    reply = svc.ticket_reply(ticket=ticket, text="We are on it", seen=None, actor=agent)
    note = InternalNoteFactory(ticket=ticket, body="Called the restaurant")
    body = _beat(client, ticket, seen).json()
    assert body["new"] == 2 and body["seen"] == [reply.pk, note.pk]
    assert f'id="message-{reply.pk}"' in body["entries"] and "We are on it" in body["entries"]
    assert f'id="note-{note.pk}"' in body["entries"] and f'id="message-{old.pk}"' not in body["entries"]


def test_a_status_change_by_another_user_changes_the_polled_version(client, agent, lead, ticket):
    """live.js shows "This ticket was changed meanwhile" when the poll's ``version`` differs
    from the page's ``data-version``: equal until someone else changes the ticket."""
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER")  # unread: opening the page marks it read
    client.force_login(agent)
    page = assert_page_shows(
        client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])), present=['id="live"']
    )
    version = html.unescape(re.search(r'data-version="([^"]+)"', page).group(1))
    seen = (
        int(re.search(r'data-seen-message="(\d+)"', page).group(1)),
        int(re.search(r'data-seen-note="(\d+)"', page).group(1)),
    )
    for _ in range(2):  # polls of an unchanged ticket: no banner
        quiet = _beat(client, ticket, seen).json()
        assert (quiet["version"], quiet["status"], quiet["new"]) == (version, "In progress", 0)

    svc.ticket_resolve(ticket=ticket, resolution="Refunded the delivery fee", actor=lead)
    changed = _beat(client, ticket, seen).json()
    assert changed["version"] != version and changed["status"] == "Resolved"
    assert changed["version"] == forms.version_of(fresh(ticket))
    assert "Status changed from in progress to resolved" in changed["entries"]  # and the entry itself


@pytest.mark.parametrize(
    "data", [{}, {"seen_message": "x", "seen_note": "0"}, {"seen_message": "-1", "seen_note": "0"}]
)
def test_junk_heartbeats_are_400(client, agent, ticket, data):
    client.force_login(agent)
    with unchanged(TicketPresence):
        response = client.post(reverse("admin:tickets_ticket_presence", args=[ticket.pk]), data)
    assert response.status_code == 400


def test_unknown_state_is_400(client, agent, ticket):
    client.force_login(agent)
    with unchanged(TicketPresence):
        assert _beat(client, ticket, state="DANCING").status_code == 400


def test_roles_that_do_not_see_tickets_are_refused(client, make_staff, ticket):
    from customer_ops.roles import Role

    client.force_login(make_staff(Role.ANALYST))
    with unchanged(TicketPresence):
        assert _beat(client, ticket).status_code == 403


def test_cost_per_poll(client, agent, agent2, lead, ticket, django_assert_max_num_queries):
    """The note's figure: 8 queries for a poll with nothing new, 10 with new entries."""
    for user in (agent2, lead):
        presence.presence_beat(ticket=ticket, state="VIEWING", actor=user)
    TicketMessageFactory.create_batch(5, ticket=ticket)
    client.force_login(agent)
    _beat(client, ticket)  # a first request of the session
    version = TicketMessageFactory(ticket=ticket).pk
    with django_assert_max_num_queries(8) as quiet:
        _beat(client, ticket, seen=(version, 0))
    with django_assert_max_num_queries(10) as busy:
        assert _beat(client, ticket, seen=(version - 3, 0)).json()["new"] == 3
    print(f"\nqueries per poll: {len(quiet)} with nothing new, {len(busy)} with new entries")


def test_ticket_page_with_presence_stays_within_budget(
    client, agent, agent2, lead, ticket, django_assert_max_num_queries
):
    svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)
    TicketMessageFactory.create_batch(100, ticket=ticket)
    InternalNoteFactory.create_batch(5, ticket=ticket)
    for user in (agent2, lead):
        presence.presence_beat(ticket=ticket, state="REPLYING", actor=user)
    client.force_login(agent)
    with django_assert_max_num_queries(27):
        response = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert_page_shows(response, present=["Sam Okafor is writing a reply", "Lee Lead is writing a reply"])


def test_queue_shows_an_eye_on_tickets_someone_else_has_open(
    client, agent, agent2, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(TicketAdmin, "list_per_page", 100)
    tickets = [TicketFactory(status="OPEN") for _ in range(100)]
    for t in tickets[::2]:
        presence.presence_beat(ticket=t, state="VIEWING", actor=agent2)
    presence.presence_beat(ticket=tickets[1], state="VIEWING", actor=agent)  # my own page: no eye
    client.force_login(agent)
    with django_assert_max_num_queries(13):  # the queue's budget (test_admin.py), eyes and all
        response = client.get(reverse("admin:tickets_ticket_changelist") + "?queue=open")
    rows = {t.pk: t for t in response.context["cl"].result_list}
    assert len(rows) == 100
    assert rows[tickets[0].pk].watchers == "Sam Okafor"
    assert rows[tickets[1].pk].watchers is None
    assert_page_shows(response, present=["Open now by Sam Okafor"])
