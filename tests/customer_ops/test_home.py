"""The home page per role (the admin index): sections from the registry, tiles whose count
is the number of rows their link opens, a fixed query budget, the role's apps first, and
the user's own recent actions from the audit log.

The roles, sections and tiles are read from the registry and the page itself, so a new
section or tile is covered without touching these tests.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from customer_ops import home
from customer_ops.registry import home_sections
from customer_ops.roles import ROLE_APPS, Role
from tests.customer_ops.home_data import populate
from tests.factories import TicketFactory, UserFactory
from tickets.services import tickets as ticket_services

INDEX = "/admin/"
PEOPLE = [role.key for role in Role] + ["superuser"]


@pytest.fixture
def people(make_staff):
    users = {role.key: make_staff(role, username=role.key, first_name=role.key.title()) for role in Role}
    users["superuser"] = UserFactory(username="root", is_superuser=True)
    return users


def _rows(response) -> int:
    """The rows a list page shows: a change list's results, or a custom list's ``rows``."""
    if "cl" in response.context:
        return len(response.context["cl"].result_list)
    return len(response.context["rows"])


def _tiles(response):
    return [tile for section in response.context["home_sections"] for tile in section["tiles"]]


@pytest.mark.parametrize("who", PEOPLE)
def test_each_tile_counts_the_rows_its_link_opens(client, people, who):
    populate(2, agent=people["agent"], lead=people["lead"])
    client.force_login(people[who])
    response = client.get(INDEX)
    assert response.status_code == 200
    tiles = _tiles(response)
    assert tiles, "every role has something on its home page"
    for tile in tiles:
        page = client.get(tile.url)
        assert page.status_code == 200, tile.url
        if tile.count is not None:
            assert not tile.capped
            assert _rows(page) == tile.count, f"{tile.label}: {tile.url}"
    assert who == "analyst" or any(t.count for t in tiles), "the data gives each role something to do"


def test_tiles_count_what_the_role_needs(client, people):
    populate(2, agent=people["agent"], lead=people["lead"])
    client.force_login(people["agent"])
    counts = {t.label: t.count for t in _tiles(client.get(INDEX))}
    assert counts["My open tickets"] == 8
    assert counts["My tickets: SLA due within the hour"] == 2
    assert counts["My tickets: SLA breached"] == 2
    assert counts["My follow-ups due today"] == 2

    client.force_login(people["lead"])
    counts = {t.label: t.count for t in _tiles(client.get(INDEX))}
    assert counts["Refunds waiting for my approval (up to 150.00)"] == 2  # not above the limit, not their own
    assert counts["Escalated to lead, waiting"] == 2
    agent = people["agent"]
    assert counts[agent.get_full_name() or agent.get_username()] == 8  # the agent's workload tile

    client.force_login(people["fraud"])
    counts = {t.label: t.count for t in _tiles(client.get(INDEX))}
    assert counts["Open alerts: critical"] == 2
    assert counts["Blocks ending within 24 hours"] == 2
    assert counts["Referral rewards on hold"] == 2

    client.force_login(people["compliance"])
    counts = {t.label: t.count for t in _tiles(client.get(INDEX))}
    assert counts["Deletion requests overdue"] == 2
    assert counts["Deletion requests due within 7 days"] == 2
    assert counts["Requests held: open dispute"] == 2
    assert counts["Erasures completed this week"] == 2
    assert counts["Data exports downloaded this week"] == 2


@pytest.mark.parametrize("who", PEOPLE)
def test_home_page_runs_a_fixed_number_of_queries(client, people, who, django_assert_num_queries):
    """As many queries with three times the rows (and more agents): nothing per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    populate(1, agent=people["agent"], lead=people["lead"])
    client.force_login(people[who])
    client.get(INDEX)  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as first:
        client.get(INDEX)
    populate(3, agent=people["agent"], lead=people["lead"])
    for n in range(3):
        TicketFactory(assigned_to_agent=UserFactory(username=f"extra{n}"), status="IN_PROGRESS")
    with django_assert_num_queries(len(first)):
        client.get(INDEX)
    assert len(first) <= 60


@pytest.mark.parametrize("who", PEOPLE)
def test_every_count_tile_of_the_page_is_read_by_one_statement(client, people, who, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pending = []
    read = home.counted

    def spy(tiles):
        pending.extend(t for t in tiles if t.pending is not None)
        return read(tiles)

    monkeypatch.setattr(home, "counted", spy)
    populate(1, agent=people["agent"], lead=people["lead"])
    client.force_login(people[who])
    with CaptureQueriesContext(connection) as captured:
        client.get(INDEX)
    counts = [q["sql"] for q in captured if "SELECT count(*) FROM (" in q["sql"]]
    if who != "analyst":
        assert pending, "the role has count tiles"
    assert len(counts) == (1 if pending else 0)
    if counts:
        assert counts[0].count("SELECT count(*) FROM (") == len(pending)


def test_large_counts_are_capped(client, people, monkeypatch):
    monkeypatch.setattr(home, "COUNT_CAP", 3)
    populate(2, agent=people["agent"], lead=people["lead"])
    client.force_login(people["agent"])
    response = client.get(INDEX)
    mine = next(t for t in _tiles(response) if t.label == "My open tickets")
    assert (mine.count, mine.capped) == (3, True)
    assert b"3+" in response.content


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_sections_only(client, people, role):
    client.force_login(people[role.key])
    shown = {s["key"] for s in client.get(INDEX).context["home_sections"]}
    expected = {s.key for s in home_sections.ordered() if role.value in s.roles}
    assert shown == expected and expected, role


def test_several_groups_see_the_union_and_the_superuser_everything(client, people):
    both = people["agent"]
    both.groups.add(Group.objects.get(name=Role.LEGAL.value))
    client.force_login(both)
    shown = [s["key"] for s in client.get(INDEX).context["home_sections"]]
    expected = [s.key for s in home_sections.ordered() if {Role.AGENT.value, Role.LEGAL.value} & set(s.roles)]
    assert shown == expected  # each section once, in the registry's order

    client.force_login(people["superuser"])
    assert [s["key"] for s in client.get(INDEX).context["home_sections"]] == [s.key for s in home_sections.ordered()]


def test_a_section_needs_its_permission_whatever_the_role(client, make_staff):
    """A group renamed into a role without the rights sees no tile linking to a 403."""
    user = make_staff(None, username="nobody")
    user.groups.add(Group.objects.create(name="Empty"))
    Group.objects.filter(name=Role.AGENT.value).first().user_set.add(user)
    Group.objects.get(name=Role.AGENT.value).permissions.clear()
    client.force_login(user)
    assert client.get(INDEX).context["home_sections"] == []


@pytest.mark.parametrize("role", list(Role))
def test_the_role_s_own_apps_come_first(client, people, role):
    client.force_login(people[role.key])
    labels = [app["app_label"] for app in client.get(INDEX).context["app_list"]]
    own = [label for label in ROLE_APPS[role] if label in labels]
    assert own and labels[: len(own)] == own
    assert sorted(labels[len(own) :]) == sorted(set(labels) - set(own))


def test_recent_actions_are_the_user_s_own_from_the_audit_log(client, people):
    agent, lead = people["agent"], people["lead"]
    mine = TicketFactory()
    theirs = TicketFactory()
    ticket_services.ticket_assign(ticket=mine, agent=agent, actor=agent)
    ticket_services.ticket_assign(ticket=theirs, agent=people["agent"], actor=lead)
    client.force_login(agent)
    response = client.get(INDEX)
    actions = response.context["recent_actions"]
    assert actions and all(mine.ticket_id in a.ticket for a in actions)
    action = actions[0]
    assert action.customer_id == mine.customer_id
    assert action.customer_url == reverse("admin:customer_ops_customer_change", args=[mine.customer_id])
    content = response.content.decode()
    assert action.ticket_url.replace("&", "&amp;") in content and "None available" not in content
    # The link opens the ticket.
    page = client.get(action.ticket_url)
    assert [t.pk for t in page.context["cl"].result_list] == [mine.pk]


def test_recent_actions_read_one_bounded_query(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from compliance.models import AuditLog
    from compliance.selectors import recent_actions
    from tests.factories import AuditLogFactory

    agent = people["agent"]
    for _ in range(15):
        ticket_services.ticket_assign(ticket=TicketFactory(), agent=agent, actor=agent)
    AuditLogFactory(actor_type="ADMIN", actor_id=agent.pk, action_reason="as an admin")  # newest, other type
    AuditLogFactory(actor_type="ADMIN", actor_id=people["lead"].pk)  # someone else's
    with CaptureQueriesContext(connection) as queries:
        rows = recent_actions(agent, 10)
    assert len(rows) == 10 and len(queries) == 1
    expected = AuditLog.objects.filter(actor_id=agent.pk, actor_type__in=["AGENT", "ADMIN"])
    assert [(r.when, r.customer_id) for r in rows] == list(
        expected.order_by("-created_at", "-id").values_list("created_at", "customer_id")[:10]
    )
    assert "as an admin" in rows[0].what


def test_take_next_button_on_the_agent_home(client, people):
    ticket = TicketFactory()
    client.force_login(people["agent"])
    content = client.get(INDEX).content.decode()
    take_next = reverse("admin:tickets_ticket_take_next")
    assert f'action="{take_next}"' in content
    response = client.post(take_next)
    assert response.url == reverse("admin:tickets_ticket_change", args=[ticket.pk])
    client.force_login(people["analyst"])
    assert take_next not in client.get(INDEX).content.decode()


@pytest.mark.django_db
def test_a_tile_says_the_age_of_its_oldest_row_only_when_it_counts_some():
    from django.utils import timezone

    from fraud.models import FraudAlert
    from tests.factories import FraudAlertFactory

    now = timezone.now()
    FraudAlertFactory(alert_severity="HIGH", created_at=now - dt.timedelta(hours=3, minutes=5))
    FraudAlertFactory(alert_severity="HIGH", created_at=now - dt.timedelta(minutes=20))
    high = FraudAlert.objects.filter(alert_severity="HIGH")
    none = FraudAlert.objects.filter(alert_severity="LOW")
    tile, waiting, low = home.counted(
        [
            home.count_tile("High", "/x/", high, age_of=high),
            home.count_tile("High", "/x/", high, age_of=high, age_label="oldest waiting"),
            home.count_tile("Low", "/x/", none, age_of=none),
        ]
    )
    assert (tile.count, tile.detail) == (2, "oldest 3\xa0hours")
    assert waiting.detail == "oldest waiting 3\xa0hours"
    assert (low.count, low.detail) == (0, "")
