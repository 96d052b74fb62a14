"""The ticket thread's entries (tickets/jinja2/tickets/thread_entry.html, rendered by
``tickets.admin.common.thread_html`` for the ticket page and the live thread): what the
customer or staff typed is escaped, notes read as notes, times are the current time zone's."""

from __future__ import annotations

import zoneinfo

import pytest
from django.test import RequestFactory
from django.utils import timezone

from tests.factories import TicketMessageFactory
from tickets import selectors
from tickets.admin.common import thread_html
from tickets.models import InternalNote
from tickets.selectors import ThreadEntry

pytestmark = pytest.mark.django_db

MARKUP = '<script>alert("x")</script>'


def _html(ticket, **options) -> str:
    return "".join(thread_html(selectors.ticket_thread(ticket, **options), RequestFactory().get("/")))


def test_messages_and_notes_escape_what_was_typed(ticket, agent):
    TicketMessageFactory(ticket=ticket, message_text=MARKUP, sender_name=MARKUP, attachments=["javascript:x"])
    InternalNote.objects.create(ticket=ticket, author=agent, author_name=MARKUP, body=MARKUP)
    html = _html(ticket)
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(") == 4  # the text and the name of both entries
    assert 'class="inert-url"' in html and 'href="javascript' not in html
    assert html.count("Internal note – staff only") == 1
    assert 'class="msg-customer"' in html


def test_new_entries_and_their_origin_are_marked(ticket):
    message = TicketMessageFactory(ticket=ticket, sender_type="AGENT", sender_name="Ann")
    entry = ThreadEntry("message", message, is_new=True, origin="<TKT-1>")
    html = thread_html([entry], RequestFactory().get("/"))[0]
    assert f'<li class="msg-agent is-new" id="message-{message.pk}">' in html
    assert '<span class="origin">from &lt;TKT-1&gt;</span>' in html and '<span class="new-label">new</span>' in html


def test_times_are_shown_in_the_current_time_zone(ticket):
    message = TicketMessageFactory(ticket=ticket, read_at=timezone.now())
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    with timezone.override(tokyo):
        html = _html(ticket)
    assert timezone.localtime(message.created_at, tokyo).strftime("%Y-%m-%d %H:%M") in html
    assert f"read {timezone.localtime(message.read_at, tokyo):%H:%M}" in html
