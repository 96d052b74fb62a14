"""Sign-in hardening and security headers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customer_ops.roles import Role
from tests.factories import UserFactory
from tests.production.env import database_url, production_env

LOGIN = reverse("admin:login")


def _attempt(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_out_with_a_clear_message(client):
    UserFactory(username="victim", password="right-password-123")
    for _ in range(4):
        response = _attempt(client, "victim", "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    assert _attempt(client, "victim", "wrong").status_code == 429  # the fifth failure locks
    response = _attempt(client, "victim", "right-password-123")  # even the right password, now
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


@pytest.mark.django_db
def test_an_administrator_can_unlock(client, admin_client):
    from axes.models import AccessAttempt

    UserFactory(username="victim", password="right-password-123")
    for _ in range(5):
        _attempt(client, "victim", "wrong")
    attempt = AccessAttempt.objects.get(username="victim")
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert admin_client.get(changelist).status_code == 200
    admin_client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert _attempt(client, "victim", "right-password-123").status_code == 302


@pytest.mark.django_db
def test_successful_sign_in_through_the_form(client):
    UserFactory(username="agent-x", password="right-password-123")
    response = _attempt(client, "agent-x", "right-password-123")
    assert response.status_code == 302


@pytest.mark.django_db
def test_two_factor_required_refuses_unverified_staff(client, make_staff, settings):
    """A real TOTP device and the real sign-in: the password alone opens nothing, a code
    computed from the device's key (as the app would) does."""
    settings.REQUIRE_2FA = True
    user = make_staff(Role.AGENT, username="two-factor", password="right-password-123")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert _attempt(client, "two-factor", "right-password-123")["Location"] == reverse("admin:second_factor_verify")
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    response = client.post(reverse("admin:second_factor_verify"), {"otp_token": f"{code:06d}"})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    other = Client()  # signed in without a second factor (as while REQUIRE_2FA was off): refused
    other.force_login(user)
    response = other.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_two_factor_is_optional_in_the_demo(client, make_staff, settings):
    settings.REQUIRE_2FA = False
    make_staff(Role.AGENT, username="demo-agent", password="right-password-123")
    assert _attempt(client, "demo-agent", "right-password-123")["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_security_headers_on_an_admin_page(admin_client):
    response = admin_client.get(reverse("admin:index"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_hsts_on_https_in_production():
    """The production settings module itself, loaded in a process of its own: a request that
    came through the TLS proxy gets HSTS; the same request in plain HTTP is redirected. (A page
    that renders no static file: this process has no collected static files.)"""
    code = (
        "import django; django.setup(); from django.test import Client; c = Client(); "
        "s = c.get('/admin/', HTTP_HOST='127.0.0.1', HTTP_X_FORWARDED_PROTO='https'); "
        "p = c.get('/admin/', HTTP_HOST='127.0.0.1'); "
        "print(s.status_code, s.get('Strict-Transport-Security')); print(p.status_code, p.get('Location'))"
    )
    # Behind one TLS proxy (TRUSTED_PROXY_COUNT=1): only then is its X-Forwarded-Proto trusted.
    env = production_env(database_url=database_url(connection.settings_dict), TRUSTED_PROXY_COUNT="1")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        env={**env, "DJANGO_SETTINGS_MODULE": "backoffice.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    secure, plain = result.stdout.splitlines()
    assert secure == "302 max-age=31536000; includeSubDomains; preload"  # to the sign-in page
    assert plain == "301 https://127.0.0.1/admin/"


def _stored_session(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key)


@pytest.mark.django_db
def test_sessions_expire_when_idle(admin_client, settings):
    from django.utils import timezone

    admin_client.get(reverse("admin:index"))
    # Activity pushes the server-side expiry 30 minutes ahead: an idle timeout.
    remaining = (_stored_session(admin_client).expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 60 < remaining <= settings.SESSION_COOKIE_AGE == 30 * 60


@pytest.mark.django_db
def test_an_idle_session_signs_the_user_out(admin_client):
    import datetime as dt

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    admin_client.get(reverse("admin:index"))
    key = admin_client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.django_db
def test_page_views_within_a_minute_do_not_write_the_session(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin_client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(reverse("admin:index")).status_code == 200
    assert not [q for q in captured if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


@pytest.mark.django_db
def test_activity_after_a_minute_renews_the_expiry(admin_client):
    import datetime as dt

    from django.utils import timezone

    from backoffice.sessions import RENEWED_KEY

    admin_client.get(reverse("admin:index"))
    # The last renewal was five minutes ago, and so was the expiry it set.
    session = admin_client.session
    session[RENEWED_KEY] -= 300
    session.set_expiry(None)
    session.save()
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + dt.timedelta(minutes=25)
    )
    admin_client.get(reverse("admin:index"))
    remaining = (_stored_session(admin_client).expire_date - timezone.now()).total_seconds()
    assert remaining > 29 * 60


@pytest.mark.django_db
def test_changing_the_password_signs_out_the_users_other_sessions(make_staff):
    from django.test import Client

    make_staff(Role.AGENT, username="two-browsers", password="first-password-123")
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        assert _attempt(browser, "two-browsers", "first-password-123").status_code == 302
        assert browser.get(reverse("admin:index")).status_code == 200
    response = laptop.post(
        reverse("admin:password_change"),
        {
            "old_password": "first-password-123",
            "new_password1": "second-Passw0rd-456",
            "new_password2": "second-Passw0rd-456",
        },
    )
    assert response.status_code == 302
    assert laptop.get(reverse("admin:index")).status_code == 200  # the session that changed it stays
    response = phone.get(reverse("admin:index"))  # the other one is signed out
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


REGISTRY_PROBE = """
import django
django.setup()
from django.contrib import admin
from backoffice.security import BackOfficeAdminSite

def registry():
    return {model._meta.label: type(model_admin).__name__ for model, model_admin in admin.site._registry.items()}

before = registry()
assert isinstance(admin.site, BackOfficeAdminSite), type(admin.site)
assert before["otp_totp.TOTPDevice"] == "TOTPDeviceListAdmin", before["otp_totp.TOTPDevice"]
assert before["otp_static.StaticDevice"] == "StaticDeviceListAdmin", before["otp_static.StaticDevice"]
from django.urls import reverse
reverse("admin:index")
assert registry() == before, "importing the URLs changed the admin registry"
print("registry ok", len(before))
"""


def test_the_admin_site_is_configured_once_when_the_apps_are_ready():
    """The second factor and the list-only device admins are in place after django.setup(),
    before any URL is resolved, and importing the URLconf changes no registration: a test
    file iterating the registry before its first reverse() (run alone) would otherwise see
    "dictionary keys changed during iteration". A fresh process: this one imported the URLs."""
    result = subprocess.run(
        [sys.executable, "-c", REGISTRY_PROBE],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert result.returncode == 0 and "registry ok" in result.stdout, result.stdout + result.stderr
