"""`make run` prints one demo login per role of the role matrix, and the superuser's."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from customer_ops.roles import Role


@pytest.mark.django_db
def test_seed_demo_prints_a_login_for_every_role():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    listed = out.getvalue().split("Demo logins", 1)[1].splitlines()[1:]
    logins = dict(line.split(None, 1) for line in listed if line.strip())
    assert logins == {role.key: role.value for role in Role} | {"admin": "superuser"}
