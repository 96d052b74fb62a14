"""The admin site's app list (the nav sidebar of every page) is kept per permission set:
for every role it is the list Django builds for that user, and one role's list never
reaches another."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from customer_ops.roles import Role
from customer_ops.site import BackofficeSite


def _plain(app_list) -> list:
    return [
        (str(app["name"]), [(str(m["name"]), m["admin_url"], sorted(m["perms"].items())) for m in app["models"]])
        for app in app_list
    ]


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(BackofficeSite, "_app_lists", {})


@pytest.mark.django_db
def test_every_roles_list_is_djangos_list_for_that_user(make_staff, superuser, fresh_cache):
    users = [make_staff(role) for role in Role] + [superuser, AnonymousUser()]
    for _ in range(2):  # the second round is served from the cache
        for user in users:
            cached = admin.site.get_app_list(_request(user))
            built = AdminSite.get_app_list(admin.site, _request(user))
            assert _plain(cached) == _plain(built), getattr(user, "username", "anonymous")
    assert 1 < len(BackofficeSite._app_lists) <= len(users)


@pytest.mark.django_db
def test_a_superusers_list_never_reaches_an_agent(make_staff, superuser, fresh_cache):
    everything = _plain(admin.site.get_app_list(_request(superuser)))
    agent = _plain(admin.site.get_app_list(_request(make_staff(Role.AGENT))))
    assert sum(len(models) for _, models in agent) < sum(len(models) for _, models in everything)
    assert agent == _plain(AdminSite.get_app_list(admin.site, _request(make_staff(Role.AGENT))))
