"""Each role signs in through the real form and lands on its home page: every count on it
equals the rows its link opens, the pages pass axe-core (no serious or critical
violation), and the role's first step is done with the keyboard alone.

Screenshots: ``artifacts/screenshots/home-<role>.png``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from customer_ops.roles import Role
from tests.customer_ops.home_data import populate
from tests.e2e.conftest import E2E_MARKS, PASSWORD, SCREENSHOTS, axe_problems, tab_to
from tickets import selectors
from tickets.models import Ticket

pytestmark = E2E_MARKS

ROLES = [role.key for role in Role]
# The rows of a list page: the change list's results, or a custom list's table body.
ROWS = "#result_list tbody tr, #content-main > table tbody tr"


@pytest.fixture
def staff(make_staff):
    users = {
        role.key: make_staff(role, username=role.key, password=PASSWORD, first_name=role.key.title()) for role in Role
    }
    populate(1, agent=users["agent"], lead=users["lead"])
    return users


@pytest.mark.parametrize("role", ROLES)
def test_home_page_counts_open_their_lists(open_session, staff, role):
    s = open_session(f"home-{role}")
    s.login(role)
    assert s.page.url.endswith("/admin/"), "signing in lands on the home page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    s.page.screenshot(path=str(SCREENSHOTS / f"home-{role}.png"), full_page=True)

    tiles = s.page.locator("a.home-tile-link")
    assert tiles.count() > 0
    links = [
        (tiles.nth(i).get_attribute("href"), tiles.nth(i).get_attribute("data-count")) for i in range(tiles.count())
    ]
    for href, count in links:
        s.go(href)  # axe and the CSP check every page the session opens
        # A tile without a count opens a single record (e.g. a dispute's deadline): no rows to count.
        if count is not None:
            assert s.page.locator(ROWS).count() == int(count), href


@pytest.mark.parametrize("role", ROLES)
def test_first_tile_with_the_keyboard_alone(open_session, staff, role):
    """From the home page, Tab to the first tile and Enter: its list opens with its rows."""
    s = open_session(f"keyboard-{role}")
    s.login(role)
    tab_to(s.page, "a.home-tile-link")
    focused = s.page.evaluate("document.activeElement.outerHTML")
    assert "home-tile-link" in focused
    count = s.page.evaluate("document.activeElement.dataset.count")
    # The focus is visible: the tile draws an outline when focused from the keyboard.
    outline = s.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    with s.page.expect_navigation():
        s.page.keyboard.press("Enter")
    if count is not None:
        assert s.page.locator(ROWS).count() == int(count)
    assert not axe_problems(s.page)


def test_agent_takes_and_answers_the_next_ticket_with_the_keyboard(open_session, staff):
    """The agent's main workflow from the home page, key presses only: take the most urgent
    waiting ticket, answer it."""
    urgent = selectors.next_unassigned().first()
    s = open_session("keyboard-agent-workflow")
    s.login("agent")
    tab_to(s.page, "form.home-action button")
    with s.page.expect_navigation():
        s.page.keyboard.press("Enter")
    assert s.page.url.endswith(reverse("admin:tickets_ticket_change", args=[urgent.pk]))
    assert Ticket.objects.get(pk=urgent.pk).assigned_to_agent_id == staff["agent"].pk
    tab_to(s.page, "#reply-text")
    s.page.keyboard.type("Thanks for waiting: it is on its way.")
    tab_to(s.page, "form:has(#reply-text) button[type=submit], form:has(#reply-text) input[type=submit]")
    with s.page.expect_navigation():
        s.page.keyboard.press("Enter")
    assert urgent.messages.filter(sender_type="AGENT", message_text__contains="on its way").exists()
    assert not axe_problems(s.page)
