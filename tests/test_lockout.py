"""The sign-in lockout (django-axes with backoffice.security.LockoutHandler) and the one
helper for the client's IP address (customer_ops.context.client_ip)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse

from compliance.models import AccessLog, AuditLog
from customer_ops.context import client_ip
from customer_ops.roles import Role
from tests import factories as f

LOGIN = reverse("admin:login")
PASSWORD = "right-password-123"


def attempt(username: str, password: str, **headers):
    return Client().post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **headers)


@pytest.mark.django_db
def test_one_password_sprayed_over_many_usernames_from_one_address_locks_the_address(settings, make_staff):
    make_staff(Role.AGENT, username="bystander", password=PASSWORD)
    limit = settings.AXES_IP_FAILURE_LIMIT
    for n in range(limit - 1):
        assert attempt(f"user{n}", "Summer2026!", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert attempt(f"user{limit}", "Summer2026!", REMOTE_ADDR="203.0.113.7").status_code == 429
    # The address is locked, whoever signs in from it; other addresses are not.
    assert attempt("bystander", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert attempt("bystander", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302


@pytest.mark.django_db
def test_one_username_guessed_from_many_addresses_locks_the_username(settings, make_staff):
    make_staff(Role.AGENT, username="victim", password=PASSWORD)
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        assert attempt("victim", f"guess-{n}", REMOTE_ADDR=f"198.51.100.{n + 1}").status_code == 200
    assert attempt("victim", "guess-last", REMOTE_ADDR="198.51.100.99").status_code == 429
    # Locked from everywhere, even with the right password; other people are not.
    assert attempt("victim", PASSWORD, REMOTE_ADDR="192.0.2.200").status_code == 429
    make_staff(Role.AGENT, username="colleague", password=PASSWORD)
    assert attempt("colleague", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302


@pytest.mark.django_db
def test_a_valid_account_does_not_reset_the_count_of_the_accounts_being_guessed(settings, make_staff):
    make_staff(Role.AGENT, username="insider", password=PASSWORD)
    make_staff(Role.AGENT, username="target", password="target-password-123")
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        attempt("target", f"guess-{n}", REMOTE_ADDR="203.0.113.9")
    assert attempt("insider", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 302
    assert AccessAttempt.objects.get(username="target").failures_since_start == limit - 1
    assert attempt("target", "guess-again", REMOTE_ADDR="203.0.113.9").status_code == 429


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_users_own_failures(settings, make_staff):
    make_staff(Role.AGENT, username="typo", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("typo", "wrong")
    assert attempt("typo", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="typo").exists()
    assert attempt("typo", "wrong").status_code == 200  # counting starts again


# --- the client's address --------------------------------------------------------------------

FORGED = {"HTTP_X_FORWARDED_FOR": "6.6.6.6", "HTTP_X_REAL_IP": "7.7.7.7"}


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no proxy: the headers are the client's own words
        (0, "", "10.0.0.1"),
        (1, "192.0.2.10", "192.0.2.10"),  # one proxy: the address it saw
        (1, "6.6.6.6, 192.0.2.10", "192.0.2.10"),  # the client's forged entry is left of it
        (2, "6.6.6.6, 192.0.2.10, 10.1.1.1", "192.0.2.10"),
        (2, "192.0.2.10", "10.0.0.1"),  # fewer hops than proxies: not through them
        (1, "not-an-address", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_believes_only_the_trusted_proxies(settings, trusted, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="7.7.7.7")
    if forwarded_for:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_ip(request) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("trusted", "expected"), [(0, "10.9.9.9"), (1, "6.6.6.6")])
def test_the_lockout_the_audit_trail_and_the_access_log_share_the_address(
    settings, client, make_staff, trusted, expected
):
    """With no trusted proxy a forged X-Forwarded-For / X-Real-IP is ignored everywhere; with
    one, the proxy's entry is used everywhere."""
    settings.TRUSTED_PROXY_COUNT = trusted
    headers = {"REMOTE_ADDR": "10.9.9.9", **FORGED}
    attempt("nobody", "wrong", **headers)
    assert AccessAttempt.objects.get(username="nobody").ip_address == expected

    legal = make_staff(Role.LEGAL)
    dispute = f.DisputeFactory()
    client.force_login(legal)
    client.post(reverse("admin:tickets_dispute_transition", args=[dispute.pk, "investigate"]), {"note": ""}, **headers)
    entry = AuditLog.objects.get(customer=dispute.customer, action_field="dispute.dispute_status")
    assert entry.ip_address == expected

    customer = f.CustomerFactory()
    client.get(reverse("admin:customer_ops_customer_change", args=[customer.pk]), **headers)
    assert AccessLog.objects.get(customer=customer).ip_address == expected
