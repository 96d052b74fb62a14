"""Shared fixtures. The rules the tests follow (presence with absence, refusals re-read what they
could have written, plan tests name the index) and their helpers: tests/README.md, tests/assertions.py."""

import pytest
from django.contrib.auth.models import Group

from customer_ops.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def make_staff(db):
    """``make_staff(Role.AGENT)`` -> a staff user in that role's group."""

    def make(role: Role | None = None, **kwargs):
        user = UserFactory(**kwargs)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))
        return user

    return make


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)
