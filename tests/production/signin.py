"""Signing in to a production server in the browser, second factor included.

With ``REQUIRE_2FA`` (production's default) the sign-in form asks for a TOTP code. Today the
smoke test creates each staff member with a confirmed TOTP device (``create_staff``) and
computes the code from the device's key, as the staff member's phone would. When
self-service enrolment lands, one user can be switched to enrolling through the UI here
(the rest of the test only needs ``sign_in`` to leave the browser signed in).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from django_otp.oath import TOTP

ROOT = Path(__file__).resolve().parents[2]

# Runs in `manage.py shell` against the production database: one staff member per role, each
# with a confirmed TOTP device; prints {username: hex key}.
_CREATE_STAFF = """
import json, os
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice
from customer_ops.roles import Role
keys = {}
for role in Role:
    user = get_user_model().objects.create_user(
        f"smoke-{role.key}", password=os.environ["SMOKE_STAFF_PASSWORD"], is_staff=True
    )
    user.groups.add(Group.objects.get(name=role.value))
    keys[user.username] = TOTPDevice.objects.create(user=user, name="phone", confirmed=True).key
print(json.dumps(keys))
"""


def create_staff(env: dict[str, str], password: str) -> dict[str, str]:
    """``{username: TOTP key}`` for a new staff member of each role, created in the database of ``env``."""
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


def totp_code(hex_key: str) -> str:
    """The code the authenticator app shows now."""
    return f"{TOTP(bytes.fromhex(hex_key)).token():06d}"


def sign_in(page, base_url: str, username: str, password: str, totp_key: str) -> None:
    """Through the real sign-in form: password and the current TOTP code. django-otp's admin
    form lists the user's devices only once the password was right ("Please select a
    device."), so a second round picks the device and enters the code again."""
    page.goto(base_url + "/admin/login/")
    for _ in range(2):
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        devices = page.locator("#id_otp_device option:not([value=''])")
        if devices.count():
            page.select_option("#id_otp_device", devices.first.get_attribute("value"))
        page.fill("#id_otp_token", totp_code(totp_key))
        with page.expect_navigation():
            page.click("input[type=submit]")
        if page.locator("#user-tools").count():
            return
    raise AssertionError(f"{username} could not sign in: {page.inner_text('#content')[:500]}")
