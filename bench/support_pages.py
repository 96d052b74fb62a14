"""Queries and median time of the support console's main pages, on the demo data.

    DATABASE_URL=postgres://... DEBUG=true .venv/bin/python bench/support_pages.py [--runs 20]

Logs in as the demo ``agent`` (and ``lead``) with the Django test client and requests:
the queue (default view, 50 and 100 rows per page, a filtered view, a search) and the
ticket page of the ticket with the longest thread. Run ``manage.py seed_demo`` first.
Opening a ticket marks its customer messages read: the first request does that write,
the timed ones measure the steady state.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tickets.admin.tickets import TicketAdmin  # noqa: E402
from tickets.models import Ticket, TicketMessage  # noqa: E402


def measure(client: Client, url: str, runs: int) -> tuple[int, float, int]:
    client.get(url)  # warm-up (and the mark-read write of a ticket page)
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return queries, statistics.median(times), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--password", default="backoffice-demo")
    args = parser.parse_args()

    busiest = Ticket.objects.annotate(n=Count("messages")).order_by("-n", "pk").first()
    if busiest is None:
        sys.exit("No tickets: run manage.py seed_demo first.")
    tickets = Ticket.objects.count()
    print(f"demo data: {tickets} tickets; longest thread {busiest.ticket_id} with {busiest.n} messages")

    pages = [
        ("queue, default view, 50/page", "/admin/tickets/ticket/", None),
        ("queue, 100/page", "/admin/tickets/ticket/", 100),
        ("queue, all open, 100/page", "/admin/tickets/ticket/?queue=open", 100),
        ("queue, SLA breached + HIGH", "/admin/tickets/ticket/?queue=breached&priority__exact=HIGH", None),
        ("queue, search 'refund'", "/admin/tickets/ticket/?q=refund", None),
        (f"ticket page ({busiest.n} messages)", f"/admin/tickets/ticket/{busiest.pk}/change/", None),
    ]
    print(f"{'user':6} {'page':38} {'queries':>7} {'median ms':>10}")
    for username in ["agent", "lead"]:
        client = Client()
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.check_password(args.password):
            sys.exit(f"Cannot log in as {username}: run manage.py seed_demo first.")
        client.force_login(user)  # the login form is django-axes' business, not this benchmark's
        for label, url, per_page in pages:
            original = TicketAdmin.list_per_page
            if per_page:
                TicketAdmin.list_per_page = per_page
            try:
                queries, median, _ = measure(client, url, args.runs)
            finally:
                TicketAdmin.list_per_page = original
            print(f"{username:6} {label:38} {queries:>7} {median:>10.1f}")
        # A 200-message thread, added inside a transaction that is rolled back afterwards.
        with transaction.atomic():
            TicketMessage.objects.bulk_create(
                TicketMessage(ticket=busiest, message_text=f"Bench message {i}", sender_type="CUSTOMER", is_read=True)
                for i in range(200 - busiest.n)
            )
            url = f"/admin/tickets/ticket/{busiest.pk}/change/"
            queries, median, _ = measure(client, url, args.runs)
            print(f"{username:6} {'ticket page (200 messages)':38} {queries:>7} {median:>10.1f}")
            transaction.set_rollback(True)


if __name__ == "__main__":
    main()
