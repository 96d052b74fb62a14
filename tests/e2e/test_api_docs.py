"""The service API's documentation page (Swagger UI from ninja's static files, no CDN) in
Chromium under the strict Content-Security-Policy: it renders the operations of the served
schema, and the browser reports no violation (open_session fails the test on any)."""

from __future__ import annotations

from tests.e2e.conftest import E2E_MARKS

pytestmark = E2E_MARKS


def test_the_api_docs_page_renders_under_the_csp(open_session):
    s = open_session("api-docs")
    # axe is not run: the page is Swagger UI's own markup, for developers of other systems.
    s.go("/api/v1/docs", axe=False)
    s.page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    assert "/api/v1/ping" in s.page.locator(".opblock-summary-path").all_inner_texts()[0]
    s.shot("docs")
