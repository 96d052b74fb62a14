"""seed_demo refuses production settings unless told explicitly, with a password that passes the validators."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from customer_ops.demo import DEMO_EMAIL_DOMAIN, STAFF
from tests.factories import CustomerFactory

STRONG = "Staging-only-3f9Qx7-Lm2p"
DEMO_LOGINS = [username for username, *_ in STAFF] + ["admin"]
production = override_settings(PRODUCTION=True)


@pytest.fixture
def demo_data_already_there(db):
    """Demo customers exist, so a permitted run only sets the logins (the full seed takes a minute)."""
    CustomerFactory(email=f"someone@{DEMO_EMAIL_DOMAIN}")


def _logins():
    return list(get_user_model().objects.filter(username__in=DEMO_LOGINS).values_list("username", "password"))


@production
@pytest.mark.parametrize(
    "args",
    [[], ["--allow-production"], ["--password", STRONG]],
    ids=["no flags", "no password", "no allow-production"],
)
def test_production_refuses_without_both_flags(demo_data_already_there, args):
    with pytest.raises(CommandError, match="Refusing to seed demo data .* with production settings"):
        call_command("seed_demo", *args)
    assert _logins() == []  # no demo login, in particular no superuser, was created


@production
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("backoffice-demo", "public demo password"),
        ("password", "too common"),
        ("Xy7!", "too short"),
        ("40985729347561", "entirely numeric"),
        ("compliance1", "too similar to the username"),
    ],
)
def test_production_validates_the_password(demo_data_already_there, password, message):
    with pytest.raises(CommandError, match=f"The password is refused: .*{message}"):
        call_command("seed_demo", "--allow-production", "--password", password)
    assert _logins() == []


@production
def test_production_with_both_flags_and_a_strong_password_sets_the_logins(demo_data_already_there, capsys):
    call_command("seed_demo", "--allow-production", "--password", STRONG)
    assert STRONG not in capsys.readouterr().out  # not printed to the deployment's logs
    users = get_user_model().objects.filter(username__in=DEMO_LOGINS)
    assert sorted(u.username for u in users) == sorted(DEMO_LOGINS)
    assert all(u.check_password(STRONG) for u in users)


@override_settings(PRODUCTION=False)
def test_development_keeps_the_demo_password(demo_data_already_there):
    call_command("seed_demo")
    assert get_user_model().objects.get(username="agent").check_password("backoffice-demo")
