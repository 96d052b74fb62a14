"""Attachment URLs come from the customer app: only http(s) ones become links (#13.10)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import TicketMessageFactory

pytestmark = pytest.mark.django_db

INERT = ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x"]
SAFE = "https://files.example.com/receipt.pdf"


def test_only_http_urls_are_links_on_the_ticket_page(client, lead, ticket):
    ticket.attachments = [INERT[0], SAFE]
    ticket.save(update_fields=["attachments"])
    TicketMessageFactory(ticket=ticket, sender_type="CUSTOMER", attachments=[*INERT, "http://ok.example/a.png"])
    client.force_login(lead)
    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    for url in INERT:
        assert f'href="{url}' not in html and f"href='{url}" not in html
        assert url.split(":")[0] in html  # still shown, as text
    assert f'href="{SAFE}"' in html and 'href="http://ok.example/a.png"' in html
    assert 'href="javascript' not in html.lower() and 'href="data:' not in html.lower()
