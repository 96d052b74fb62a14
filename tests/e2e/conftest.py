"""Real-browser tests: Playwright (sync API) driving Debian's Chromium against the live server.

One Chromium per test session, one fresh browser context (cookies) per test. The browser
is never downloaded: ``/usr/bin/chromium`` comes from the system package (``.ci/run``
installs it); without it the tests are skipped with the reason. Everything runs on
127.0.0.1. Each test fails on any Content-Security-Policy violation or page error
reported by the browser, so the strict CSP is checked on every page the personas open.
Every page opened through ``Session.go`` or ``Session.login`` is also checked with axe-core:
a serious or critical accessibility violation fails the test the same way.
Screenshots go to ``artifacts/screenshots/`` (ignored by git).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "backoffice-demo"
AXE_BLOCKING = {"serious", "critical"}
# No CSSOM preload: axe would copy each @import'ed stylesheet (admin/css/forms.css imports
# widgets.css) into an inline <style> of its own, which the strict CSP blocks and reports as a
# violation of the page. Only css-orientation-lock needs the preload.
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations of the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in AXE_BLOCKING
    ]


def tab_to(page, selector: str, limit: int = 300, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab if ``backwards``) until the focused element matches ``selector``:
    the keyboard-only tests reach every control this way, never with a click."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the keyboard focus on {page.url}")


# --- the dashboard, as the analyst tests read it --------------------------------------------


def wait_for_charts(s):
    """Until every chart of the dashboard is drawn by Chart.js."""
    s.page.wait_for_function(
        "() => { const c = document.querySelectorAll('canvas[data-chart]');"
        " return c.length > 0 && window.Chart && [...c].every(x => window.Chart.getChart(x)); }"
    )


def chart_data(s) -> dict:
    """The dashboard's chart data, as the page embeds it."""
    return json.loads(s.page.locator("#dashboard-chart-data").text_content())


def kpi(s, label: str) -> str:
    """The value of the dashboard's KPI tile ``label``."""
    tile = s.page.locator(".kpi", has=s.page.locator(".kpi-label", has_text=label))
    return tile.locator(".kpi-value").inner_text().strip()


# pytest-django's live server listens here (never on a public interface).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

# Every module here: skipped without Chromium; transactional, since the live server's thread
# must see committed rows, with serialized_rollback restoring the groups and permissions
# that migrations created (see PREAMBLE).
E2E_MARKS = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the e2e tests (closed when they are done, before the other packages'
    tests run: while Playwright's sync API is active its event loop counts as running in this
    thread, and Django refuses ORM calls there unless DJANGO_ALLOW_ASYNC_UNSAFE is set; the
    tests' own database checks are plain synchronous calls, so that is safe here)."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Django's connections live in an asgiref Local, which the running loop gives a fresh
    # storage: from here on this thread talks to the test database through new connection
    # objects. They need the snapshot that serialized_rollback restores after each flush.
    snapshots = {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}
    try:
        with sync_playwright() as playwright:
            for alias, snapshot in snapshots.items():
                if snapshot is not None:
                    connections[alias]._test_serialized_contents = snapshot
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
            connections.close_all()  # the loop's connections, before their storage goes away
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Session:
    """A persona's browser tab, with the helpers the tests share."""

    def __init__(self, page, base_url: str, name: str):
        self.page = page
        self.base_url = base_url
        self.name = name
        self.problems: list[str] = []
        self.shots: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"CSP violation on {self.page.url}: {text}")
        elif message.type == "error" and "favicon" not in text and not re.search(r"status of (403|404)", text):
            self.problems.append(f"console error on {self.page.url}: {text}")

    def go(self, path: str, axe: bool = True):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 400, f"{path}: {response and response.status}"
        if axe:
            self.problems += axe_problems(self.page)
        return response

    def login(self, username: str, password: str = PASSWORD):
        """Through the real login form."""
        self.page.goto(self.base_url + "/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("#user-tools")
        self.problems += axe_problems(self.page)

    def logout(self):
        self.page.click("#logout-form button")
        self.page.wait_for_load_state()

    def shot(self, step: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = f"{self.name}-{len(self.shots) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        self.shots.append(name)

    def form(self, action_path: str):
        """The form posting to ``action_path`` (pages hold several workflow forms)."""
        return self.page.locator(f'form[action="{action_path}"]')

    def text(self) -> str:
        return self.page.content()


@pytest.fixture
def open_session(browser, live_server):
    """``open_session("agent")`` -> a Session in a fresh browser context (own cookies)."""
    contexts = []
    sessions = []

    def open_(name: str) -> Session:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        session = Session(context.new_page(), live_server.url, name)
        sessions.append(session)
        return session

    yield open_
    for context in contexts:
        context.close()
    problems = [p for s in sessions for p in s.problems]
    assert not problems, "\n".join(problems)
