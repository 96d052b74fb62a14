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


ONE_QUERY = "customer_ops.access.OneQueryModelBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _with_password(user, password="a-long-password-123"):
    user.set_password(password)
    user.save()
    return user


def test_password_sign_in_names_the_one_query_backend(make_staff, rf):
    """New sessions name the backend that reads the user with its kept statement."""
    user = _with_password(make_staff(Role.AGENT))
    signed = authenticate(rf.post("/admin/login/"), username=user.username, password="a-long-password-123")
    assert signed == user and signed.backend == ONE_QUERY


@pytest.mark.parametrize("known", [True, False], ids=["wrong password", "unknown user"])
def test_a_failed_sign_in_hashes_the_password_once_and_is_reported(make_staff, rf, monkeypatch, known):
    """A wrong password stops at the first password backend: ModelBackend, listed after it,
    would hash it again (twice the CPU an attacker's guess costs the server). The failure
    is still reported, once, to django-axes' signal."""
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.signals import user_login_failed

    user = _with_password(make_staff(Role.AGENT))
    hashed = []
    for name in ("check_password", "set_password"):  # set_password: ModelBackend's decoy for an unknown user
        original = getattr(AbstractBaseUser, name)
        monkeypatch.setattr(AbstractBaseUser, name, lambda self, raw, _o=original: hashed.append(raw) or _o(self, raw))
    failures = []

    def failed(**kwargs):
        failures.append(kwargs)

    user_login_failed.connect(failed)
    try:
        username = user.username if known else "nobody-by-this-name"
        assert authenticate(rf.post("/admin/login/"), username=username, password="wrong-password-123") is None
    finally:
        user_login_failed.disconnect(failed)
    assert hashed == ["wrong-password-123"]
    assert len(failures) == 1 and failures[0]["credentials"]["username"] == username


@pytest.mark.parametrize("backend", [ONE_QUERY, MODEL_BACKEND])
def test_sessions_naming_either_backend_read_the_same_user(make_staff, rf, backend):
    """A session from before the one-query backend signed anyone in names ModelBackend: it
    stays valid. Both read the same user, and neither an inactive one nor a missing one."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth import get_user as session_user
    from django.contrib.sessions.backends.db import SessionStore

    user = make_staff(Role.AGENT)
    request = rf.get("/admin/")
    request.session = SessionStore()
    request.session.update(
        {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend, HASH_SESSION_KEY: user.get_session_auth_hash()}
    )
    read = session_user(request)
    assert read == user and read.__dict__.keys() >= _fresh(user).__dict__.keys() - {"_state"}
    assert {f.attname: getattr(read, f.attname) for f in user._meta.concrete_fields} == {
        f.attname: getattr(_fresh(user), f.attname) for f in user._meta.concrete_fields
    }
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert session_user(request).is_anonymous
    get_user_model().objects.filter(pk=user.pk).delete()
    assert session_user(request).is_anonymous
