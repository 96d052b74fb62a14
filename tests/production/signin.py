"""Signing in to a production server in the browser, second factor included.

With ``REQUIRE_2FA`` (production's default) a new staff member has no authenticator yet: the
first sign-in takes them, after the password, to the enrolment page. ``sign_in`` does what
the person would: reads the key shown under the QR code, enters the code their app computes
from it, passes the recovery codes page, and lands in the admin. ``create_staff`` only creates
the accounts (password and group), as an administrator would; nobody sets anyone's device.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from django_otp.oath import totp

ROOT = Path(__file__).resolve().parents[2]

# Runs in `manage.py shell` against the production database: one new staff member per role,
# without a second factor; prints their usernames.
_CREATE_STAFF = """
import json, os
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from customer_ops.roles import Role
names = []
for role in Role:
    user = get_user_model().objects.create_user(
        f"smoke-{role.key}", password=os.environ["SMOKE_STAFF_PASSWORD"], is_staff=True
    )
    user.groups.add(Group.objects.get(name=role.value))
    names.append(user.username)
print(json.dumps(names))
"""


def create_staff(env: dict[str, str], password: str) -> list[str]:
    """The usernames of a new staff member of each role, created in the database of ``env``."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "shell", "-c", _CREATE_STAFF],
        cwd=ROOT,
        env={**env, "SMOKE_STAFF_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def totp_code(key: bytes) -> str:
    """The code the authenticator app shows now."""
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("input[type=submit]")


def sign_in(page, base_url: str, username: str, password: str, *, screenshot=None) -> bytes:
    """A new staff member's first sign-in through the real forms: password, then enrolment
    (the key read from the page, the code computed from it), then past the recovery codes.
    Returns the key, as the person's phone keeps it. ``screenshot(name)`` is called on the
    enrolment and recovery-codes pages."""
    page.goto(base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    _submit(page)
    assert page.url.endswith("/admin/second-factor/enrol/"), f"{username}: not sent to enrolment ({page.url})"
    shown = page.locator("#second-factor-key").inner_text().replace(" ", "")
    key = base64.b32decode(shown + "=" * (-len(shown) % 8))
    if screenshot:
        screenshot("enrolment")
    page.fill("#id_otp_token", totp_code(key))
    _submit(page)
    assert page.locator("#recovery-codes code").count() == 10, f"{username}: no recovery codes shown"
    if screenshot:
        screenshot("recovery-codes")
    with page.expect_navigation():
        page.click("text=I have saved them, continue")
    if not page.locator("#user-tools").count():
        raise AssertionError(f"{username} could not sign in: {page.inner_text('#content')[:500]}")
    return key
