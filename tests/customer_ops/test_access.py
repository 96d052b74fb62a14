"""The user's permissions and group names in one statement (customer_ops.access): the same
sets as Django's ModelBackend reads, for every role, and nothing kept past the user object."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from customer_ops.roles import Role, group_names
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    """The user as the next request loads it: nothing cached on the object."""
    return get_user_model().objects.get(pk=user.pk)


def _plain(user) -> tuple[set[str], set[str], frozenset[str]]:
    backend = ModelBackend()
    names = frozenset(Group.objects.filter(user=user).values_list("name", flat=True))
    return backend.get_user_permissions(_fresh(user)), backend.get_group_permissions(_fresh(user)), names


def _users(make_staff):
    direct = make_staff(Role.AGENT)
    direct.user_permissions.add(Permission.objects.get(codename="view_auditlog"))
    two_roles = make_staff(Role.LEAD)
    two_roles.groups.add(Group.objects.get(name=Role.ANALYST.value))
    return {
        **{role.key: make_staff(role) for role in Role},
        "direct permission": direct,
        "two roles": two_roles,
        "no group": make_staff(),
        "inactive": make_staff(Role.LEAD, is_active=False),
        "superuser": UserFactory(is_superuser=True),
    }


def test_same_sets_as_model_backend_for_every_kind_of_user(make_staff):
    for label, user in _users(make_staff).items():
        own, granted, names = _plain(user)
        user = _fresh(user)
        assert group_names(user) == names, label
        assert user.get_all_permissions() == ModelBackend().get_all_permissions(_fresh(user)), label
        if user.is_active and not user.is_superuser:
            assert user._user_perm_cache == own and user._group_perm_cache == granted, label
    assert _plain(_users(make_staff)["lead"])[1]  # the roles do hold permissions


def test_permissions_and_group_names_are_one_query(make_staff, django_assert_num_queries):
    user = _fresh(make_staff(Role.COMPLIANCE))
    with django_assert_num_queries(1):
        assert user.has_perm("compliance.view_auditlog")
        assert not user.has_perm("tickets.change_ticket")
        assert Role.COMPLIANCE.value in group_names(user)
        user.get_all_permissions()


def test_names_first_then_permissions_is_one_query(make_staff, django_assert_num_queries):
    user = _fresh(make_staff(Role.AGENT))
    with django_assert_num_queries(1):
        group_names(user)
        user.has_perm("tickets.view_ticket")


def test_a_removed_role_applies_to_the_next_request(make_staff):
    user = make_staff(Role.COMPLIANCE)
    assert _fresh(user).has_perm("compliance.view_auditlog")
    user.groups.clear()
    after = _fresh(user)
    assert not after.has_perm("compliance.view_auditlog") and group_names(after) == frozenset()


def test_password_sign_in_still_names_model_backend(make_staff, rf):
    """Sessions keep naming ModelBackend: adding the permission backend signs nobody out."""
    user = make_staff(Role.AGENT)
    user.set_password("a-long-password-123")
    user.save()
    request = rf.post("/admin/login/")
    signed = authenticate(request, username=user.username, password="a-long-password-123")
    assert signed is not None and signed.backend == "django.contrib.auth.backends.ModelBackend"
    assert authenticate(request, username=user.username, password="wrong-password-123") is None
