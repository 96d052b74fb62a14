"""A new staff member's first sign-in in a real browser, with the second factor required:
enrolment (QR code and key), recovery codes, then sign-ins with the app's code and with a
recovery code, which works once; then new recovery codes, which need a fresh code from the
app once the sign-in's is older than the window. The test reads the key from the page and
computes the codes from it with django-otp's TOTP function, as an authenticator app would.

Screenshots: ``artifacts/screenshots/enrolment.png``, ``recovery-codes.png`` and
``confirm-code.png``.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice import second_factor as sf
from customer_ops.roles import Role
from tests.e2e.conftest import E2E_MARKS, PASSWORD, SCREENSHOTS

pytestmark = E2E_MARKS


def _code(key: bytes, steps_ahead: int = 0) -> str:
    """The app's code; a code is accepted once, so each sign-in uses the next 30-second step
    (within django-otp's tolerance of one step)."""
    return f"{totp(key, step=30, t0=0, digits=6, drift=steps_ahead):06d}"


def _password(session, username: str) -> None:
    page = session.page
    page.goto(session.base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")


def _code_step(session, code: str) -> None:
    page = session.page
    assert "Enter the 6-digit code" in page.content()
    page.fill("#id_otp_token", code)
    with page.expect_navigation():
        page.click("input[type=submit]")


@pytest.fixture
def require_2fa(settings):
    settings.REQUIRE_2FA = True  # the live server's thread reads the same settings


def test_a_new_staff_member_enrols_and_signs_in_with_the_app_and_a_recovery_code(open_session, make_staff, require_2fa):
    user = make_staff(Role.AGENT, username="newcomer", password=PASSWORD, first_name="Nia", last_name="Okafor")
    session = open_session("second-factor")
    page = session.page

    # First sign-in: after the password, the enrolment page (no device yet).
    _password(session, "newcomer")
    assert page.url.endswith("/admin/second-factor/enrol/")
    qr = page.locator("img.second-factor-qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # rendered under the CSP
    shown_key = page.locator("#second-factor-key").inner_text()
    key = base64.b32decode(shown_key.replace(" ", "") + "=" * (-len(shown_key.replace(" ", "")) % 8))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "enrolment.png"), full_page=True)

    page.fill("#id_otp_token", _code(key))
    with page.expect_navigation():
        page.click("input[type=submit]")

    # Recovery codes, shown once.
    assert page.url.endswith("/admin/second-factor/account/")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    page.screenshot(path=str(SCREENSHOTS / "recovery-codes.png"), full_page=True)
    assert TOTPDevice.objects.get(user=user).confirmed
    with page.expect_navigation():
        page.click("text=I have saved them, continue")
    assert page.locator("#user-tools").is_visible()
    page.reload()
    session.go("/admin/second-factor/account/")
    assert "Recovery codes left: 10" in page.content() and codes[0] not in page.content()
    session.logout()

    # Signing in again: password, then the app's code.
    _password(session, "newcomer")
    _code_step(session, _code(key, steps_ahead=1))
    assert page.locator("#user-tools").is_visible()
    session.go("/admin/tickets/ticket/")
    session.logout()

    # Phone lost: a recovery code signs in...
    _password(session, "newcomer")
    _code_step(session, codes[0])
    assert page.locator("#user-tools").is_visible()
    assert "recovery code; 9 left" in page.content()
    session.logout()

    # ...once.
    _password(session, "newcomer")
    _code_step(session, codes[0])
    assert "That code is not valid" in page.content()
    assert page.locator("#user-tools").count() == 0
    assert StaticToken.objects.filter(device__user=user).count() == 9

    # Later, with the phone again: signing in with the app's code opens the account page's
    # changes for a few minutes; after that they ask for a current code first.
    start = dt.datetime.now(tz=dt.UTC)
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=True):  # the next codes of the app
        _password(session, "newcomer")
        _code_step(session, _code(key))
        session.go("/admin/second-factor/account/")
        assert page.locator("#recovery-codes-form").is_visible() and page.locator("#confirm-form").count() == 0
    with time_machine.travel(start + dt.timedelta(minutes=1, seconds=sf.fresh_proof_seconds() + 5), tick=True):
        session.go("/admin/second-factor/account/")
        assert page.locator("#recovery-codes-form").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "confirm-code.png"), full_page=True)
        page.fill("#confirm-form #id_otp_token", _code(key))
        with page.expect_navigation():
            page.click("#confirm-form input[type=submit]")
        assert page.url.endswith("/admin/second-factor/account/")
        with page.expect_navigation():
            page.click("#recovery-codes-form input[type=submit]")
        new_codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert set(new_codes) == set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
