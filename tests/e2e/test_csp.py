"""The admin's pages in Chromium under the strict Content-Security-Policy: any violation the
browser reports (an inline script, style or event handler, an eval) fails the test, and so
does any serious or critical axe-core finding (the stock widgets included: split date and
time inputs, select2, filter_horizontal, the export page's "Select all").

One page per distinct page template and media is loaded (every page's HTML is also checked for
inline scripts, styles and handlers by the permission walk, in-process).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse

from tests.e2e.conftest import E2E_MARKS, PASSWORD
from tests.security import expectations as ex
from tests.security.conftest import persona_user, walk_objects  # noqa: F401 (the fixture)
from tests.security.test_permission_walk import _urls_of, admin_patterns

pytestmark = E2E_MARKS

NOT_PAGES = {
    "login",
    "logout",
    "view_on_site",
    "catch_all",
    "app_list",
    "autocomplete",
    "jsi18n",
    "compliance_customer_export",  # a zip
    "compliance_deletion_certificate",  # a JSON download
    "otp_totp_totpdevice_qrcode",  # an image
}


def _pages(objects) -> list[str]:
    """One URL per distinct page template and set of scripts and stylesheets (the test client
    tells which a page uses): the pages left out differ only in server-rendered HTML, which
    the permission walk's HTML lint checks for inline code."""
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="walk-root"))
    table = ex.expectations()
    by_templates: dict[tuple, str] = {}
    for u in admin_patterns():
        rule = table[u.key].get("GET")
        if u.key in NOT_PAGES or rule is None or rule.status(ex.S) != 200:
            continue
        for url, _ in _urls_of(u, objects):
            response = client.get(url)
            media = response.context.get("media") if response.context else None
            key = (response.templates[0].name if response.templates else url, str(media or ""))
            by_templates.setdefault(key, url)
    return list(by_templates.values())


def test_admin_pages_work_under_the_csp(open_session, walk_objects):  # noqa: F811
    user = persona_user(ex.S)
    user.set_password(PASSWORD)
    user.save()
    pages = _pages(walk_objects)
    assert len(pages) > 30
    s = open_session("csp")
    s.login(user.username)
    s.go("/admin/")
    s.shot("index")
    for url in pages:
        s.go(url)  # axe-core too: no serious or critical violation on any admin page
    # select2's combobox is named by its field's label (customer_ops/admin_a11y.js), not by
    # its selection alone, which is empty on an add page.
    s.go(reverse("admin:tickets_dispute_add"))
    assert s.page.get_by_role("combobox", name="Customer").count() == 1
    # open_session fails the test on any CSP violation or page error seen on these pages
