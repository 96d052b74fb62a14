"""The queue's bar (tickets/jinja2/tickets/queue_bar.html, rendered by TicketAdmin.changelist_view):
its views with the current one selected, the user's saved views, the buttons each role may
use, and what users typed escaped."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tickets.models import SavedQueueView

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:tickets_ticket_changelist")
TYPED = '<b>"mine" & co</b>'


def _bar(client: Client, query: str = "") -> str:
    page = client.get(f"{QUEUE}?{query}").content.decode()
    return page[page.index('<div class="queue-bar">') : page.index("</nav>")] + page[page.index("</nav>") :][:2000]


def _selected(bar: str) -> list[str]:
    return re.findall(r'class="queue-tab selected">([^<]+)</a>', bar)


def test_the_current_view_is_selected(client, agent):
    client.force_login(agent)
    assert _selected(_bar(client)) == ["Everything"]
    assert _selected(_bar(client, "queue=breached")) == ["SLA breached"]
    assert _selected(_bar(client, "queue=no-such-view")) == []


def test_saved_views_and_the_query_are_escaped(client, agent, agent2):
    view = SavedQueueView.objects.create(owner=agent, name=TYPED, query="queue=mine")
    SavedQueueView.objects.create(owner=agent2, name="someone else's", query="queue=open")
    client.force_login(agent)
    bar = _bar(client, "q=%3Cscript%3E&queue=mine")
    assert "<b>" not in bar and "&lt;b&gt;" in bar and "someone else" not in bar
    assert f'href="{reverse("admin:tickets_ticket_saved_view", args=[view.pk])}"' in bar
    assert f'action="{reverse("admin:tickets_ticket_delete_view", args=[view.pk])}"' in bar
    assert 'name="query" value="q=%3Cscript%3E&amp;queue=mine"' in bar
    assert bar.count('name="csrfmiddlewaretoken"') == 3  # delete the view, save a view, take the next ticket


def test_each_role_sees_the_buttons_it_may_use(client, agent, lead):
    client.force_login(agent)
    bar = _bar(client)
    assert "Take next ticket" in bar and "Team report" not in bar
    client.force_login(lead)
    assert "Team report" in _bar(client)


def test_the_bars_kept_read_lists_the_views_as_the_queryset(agent, agent2):
    from tickets import saved_views

    for name in ("zeta", "Alpha", "beta"):
        SavedQueueView.objects.create(owner=agent, name=name, query="queue=open")
    SavedQueueView.objects.create(owner=agent2, name="other", query="queue=open")
    for user in (agent, agent2):
        listed = saved_views.listed_for(user)
        assert [(v.pk, v.name, v.query) for v in listed] == [
            (v.pk, v.name, v.query) for v in saved_views.views_of(user)
        ]
    assert [v.name for v in saved_views.listed_for(agent)] == ["Alpha", "beta", "zeta"]
