"""The queue's order kept by triggers (``tickets_queue_order``): equal to the plain
computation whatever writes the tickets, rewritten when the SLA settings change, and read
from its index in the queue's order (no sort of every open ticket)."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.assertions import explain
from tests.factories import TicketFactory, TicketMessageFactory
from tickets import selectors
from tickets.admin.tickets import TicketAdmin
from tickets.choices import Priority, TicketStatus
from tickets.models import SlaTarget, Ticket, TicketMessage, TicketQueueSlot
from tickets.queue_order import ensure_sla_targets

pytestmark = pytest.mark.django_db

OPEN = {TicketStatus.OPEN, TicketStatus.IN_PROGRESS}


def expected_slots() -> dict[int, tuple[dt.datetime, int, dt.datetime, bool]]:
    """The side table as it must be: computed in Python from the settings, per open ticket."""
    from django.conf import settings

    rank = {p: i for i, p in enumerate(Priority.values)}
    replied = set(TicketMessage.objects.filter(sender_type="AGENT").values_list("ticket_id", flat=True))
    rows = {}
    for t in Ticket.objects.filter(status__in=OPEN):
        target = settings.SUPPORT_SLA[t.priority]
        minutes = target["resolution_minutes"] if t.pk in replied else target["first_response_minutes"]
        unassigned = t.status == TicketStatus.OPEN and t.assigned_to_agent_id is None
        rows[t.pk] = (t.created_at + dt.timedelta(minutes=minutes), rank[t.priority], t.created_at, unassigned)
    return rows


def kept_slots() -> dict[int, tuple[dt.datetime, int, dt.datetime, bool]]:
    columns = ("sla_due_at", "priority_rank", "created_at", "unassigned")
    return {row[0]: tuple(row[1:]) for row in TicketQueueSlot.objects.values_list("ticket_id", *columns)}


def test_side_table_equals_the_plain_computation_through_random_changes(agent):
    rng = random.Random(26)
    now = timezone.now()
    tickets = [
        TicketFactory(
            priority=rng.choice(Priority.values),
            status=rng.choice(TicketStatus.values),
            created_at=now - dt.timedelta(minutes=rng.randrange(1, 5000)),
        )
        for _ in range(30)
    ]
    assert kept_slots() == expected_slots()
    for _ in range(60):
        ticket = rng.choice(tickets)
        step = rng.randrange(6)
        if step == 0:  # an agent replies (the first reply moves the due time to resolution)
            TicketMessageFactory(ticket=ticket, sender_type="AGENT")
        elif step == 1:
            Ticket.objects.filter(pk=ticket.pk).update(priority=rng.choice(Priority.values))
        elif step == 2:
            Ticket.objects.filter(pk=ticket.pk).update(status=rng.choice(TicketStatus.values))
        elif step == 3:  # the agent's replies removed (not a workflow; the triggers follow anyway)
            TicketMessage.objects.filter(ticket=ticket, sender_type="AGENT").delete()
        elif step == 4:
            Ticket.objects.filter(pk=ticket.pk).update(assigned_to_agent=rng.choice([agent, None]))
        else:  # another system's raw SQL
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE customer_tickets SET status = %s, priority = %s WHERE id = %s",
                    [rng.choice(TicketStatus.values), rng.choice(Priority.values), ticket.pk],
                )
        assert kept_slots() == expected_slots(), (step, ticket.pk)
    # The ORM's annotation is the same value as the plain computation.
    computed = dict(Ticket.objects.annotate(due=selectors.computed_sla_due()).values_list("pk", "due"))
    shown = dict(selectors.ticket_queue().values_list("pk", "sla_due_at"))
    assert shown == computed
    assert any(v is None for v in shown.values()) and any(v is not None for v in shown.values())


def test_changed_sla_settings_rewrite_every_open_ticket():
    now = timezone.now()
    answered = TicketFactory(priority="HIGH", created_at=now - dt.timedelta(hours=2))
    TicketMessageFactory(ticket=answered, sender_type="AGENT")
    waiting = TicketFactory(priority="LOW", created_at=now - dt.timedelta(hours=1))
    TicketFactory(priority="LOW", status="RESOLVED", resolved_at=now)
    faster = {p: {"first_response_minutes": 5 + i, "resolution_minutes": 60 + i} for i, p in enumerate(Priority.values)}
    with override_settings(SUPPORT_SLA=faster):
        selectors.ticket_queue()  # the queue's read syncs the targets first
        assert SlaTarget.objects.get(priority="LOW").first_response == dt.timedelta(minutes=5)
        slots = kept_slots()
        assert slots[answered.pk][0] == answered.created_at + dt.timedelta(minutes=62)  # HIGH: rank 2
        assert slots[waiting.pk][0] == waiting.created_at + dt.timedelta(minutes=5)
        assert slots == expected_slots()
    ensure_sla_targets()
    assert kept_slots() == expected_slots()
    assert kept_slots()[waiting.pk][0] == waiting.created_at + dt.timedelta(hours=8)


def test_missing_priority_in_settings_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    partial = {"LOW": {"first_response_minutes": 1, "resolution_minutes": 2}}
    with override_settings(SUPPORT_SLA=partial), pytest.raises(ImproperlyConfigured, match="no targets for priority"):
        ensure_sla_targets()


# --- The page reads its first rows from the index, in order --------------------------------


def _page_ids_sql(client, user, view: str) -> str:
    """The statement that reads the page's ids in the queue's order (QueuePaginator)."""
    client.force_login(user)
    url = reverse("admin:tickets_ticket_changelist") + (f"?queue={view}" if view else "")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    shown = [t.pk for t in response.context["cl"].result_list]
    assert shown, view
    (sql,) = [q["sql"] for q in captured if 'ORDER BY "tickets_queue_order"."sla_due_at"' in q["sql"]]
    return sql


@pytest.mark.parametrize("view", ["", "open", "breached", "unassigned"])
def test_open_views_read_the_page_from_the_queue_index_without_a_sort(client, lead, view, monkeypatch):
    monkeypatch.setattr(TicketAdmin, "list_per_page", 5)  # several pages: the paginator's page read
    now = timezone.now()
    for i in range(12):
        TicketFactory(priority=Priority.values[i % 5], created_at=now - dt.timedelta(days=4, hours=i))
    sql = _page_ids_sql(client, lead, view)
    plan = explain(sql, in_order=True)
    index = "tickets_queue_unassigned_idx" if view == "unassigned" else "tickets_queue_order_idx"
    assert re.search(rf"Index (Only )?Scan using {index} ", plan.text), plan.text
    assert "Sort" not in plan.text, plan.text  # no sort of the open tickets: the index's order
    assert "customer_tickets" not in plan.whole, plan.text


def test_queue_pages_keep_their_order_and_query_count(client, lead, django_assert_max_num_queries):
    """60 open tickets, 50 a page: the rows in the plain order, a bounded number of queries."""
    now = timezone.now()
    rng = random.Random(5)
    for i in range(60):
        t = TicketFactory(
            priority=rng.choice(Priority.values), created_at=now - dt.timedelta(minutes=rng.randrange(9000))
        )
        if i % 3 == 0:
            TicketMessageFactory(ticket=t, sender_type="AGENT")
    expected = sorted(
        Ticket.objects.annotate(due=selectors.computed_sla_due()).values_list("pk", "due", "priority", "created_at"),
        key=lambda r: (r[1], -Priority.values.index(r[2]), r[3], r[0]),
    )
    client.force_login(lead)
    url = reverse("admin:tickets_ticket_changelist")
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert [t.pk for t in response.context["cl"].result_list] == [r[0] for r in expected[:50]]


@pytest.mark.parametrize("per_page", [50, 1], ids=["one page", "a page of many"])
def test_a_page_loads_the_columns_its_rows_show_only(client, lead, monkeypatch, per_page):
    """The page's rows come without the ticket's long texts, the customer's other columns or
    the agent's user row (the agent's name is the ticket's own column); every column still
    shows, and no row reads a column later (the query budget above would grow per row).
    Both ways a page is read: a list that fits one page, and QueuePaginator's page."""
    monkeypatch.setattr(TicketAdmin, "list_per_page", per_page)
    ticket = TicketFactory(description="LONG-DESCRIPTION " * 50, assigned_to_agent=lead, priority="URGENT")
    TicketFactory(priority="LOW")
    client.force_login(lead)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:tickets_ticket_changelist")).content.decode()
    assert ticket.ticket_id in page and ticket.customer.email in page and ticket.assigned_to_agent_name in page
    rows = [q["sql"] for q in queries if q["sql"].startswith('SELECT "customer_tickets"."id", ')]
    assert len(rows) == 1, rows
    table = Ticket._meta.db_table
    for column in ("description", "attachments", "resolution", "customer_satisfaction_rating"):
        assert f'"{table}"."{column}"' not in rows[0]
    assert '"auth_user"."password"' not in rows[0] and '"customers"."phone"' not in rows[0]


# --- Search by an email: the exact address first -------------------------------------------


def test_email_search_is_an_exact_lookup_first_and_trigram_only_otherwise(client, agent):
    ann = TicketFactory(customer__email="ann@shop.example")
    TicketFactory(customer__email="joann@shop.example")  # contains ann's address
    quoted = TicketFactory(subject="Customer wrote from nobody@shop.example again")
    client.force_login(agent)
    url = reverse("admin:tickets_ticket_changelist")

    def search(term):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"q": term})
        assert response.status_code == 200
        return {t.pk for t in response.context["cl"].result_list}, " ".join(q["sql"] for q in captured)

    found, sql = search("Ann@Shop.example ")  # pasted with a space; case as the agent typed it
    assert found == {ann.pk}
    found, sql = search("ANN@SHOP.EXAMPLE")
    assert found == {ann.pk}
    assert "LIKE" not in sql  # no trigram search once the exact address matched
    found, sql = search("ann@shop.example")
    assert found == {ann.pk}
    found, sql = search("nobody@shop.example")  # no such customer: the usual search (subject)
    assert found == {quoted.pk} and "LIKE" in sql
