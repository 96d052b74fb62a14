"""Every service refuses, by itself, an actor whose role may not call it (issue 21, item 2).

Derived from the services themselves: every public function of every ``services`` module
of the project's apps (a package's submodules included, and the functions a module offers
from elsewhere in its app through ``__all__``), found by introspection. A
function that takes ``actor`` declares its permission with
:func:`customer_ops.permissions.requires` (``service.permissions``); the test calls it as a
user of every role whose group does not hold that permission (the grants the migrations
made, ``customer_ops.roles.grant``), as a user with no role and as a calling system, and
expects :class:`customer_ops.errors.NotAllowed` with every row of the service's app, and
the audit log, unchanged. The other arguments are ``None``: the refusal must come before
the service reads anything.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission

from customer_ops.context import CallingSystem
from customer_ops.errors import NotAllowed
from customer_ops.roles import Role
from customer_ops.scopes import API_SCOPES
from tests.assertions import unchanged

pytestmark = pytest.mark.django_db


def _project_apps():
    root = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if root in path.parents and ".venv" not in path.parts:
            yield config


def service_modules() -> list:
    """Every ``<app>.services`` module of the project, and each submodule of a package."""
    found = []
    for config in _project_apps():
        name = f"{config.name}.services"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        found.append(module)
        if hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, prefix=f"{name}."):
                found.append(importlib.import_module(info.name))
    return found


def services() -> list:
    """Every public function a services module offers, once: those it defines, and those
    it offers from another module of its app (``compliance.services`` offers the erasure's
    workflow, written in ``compliance.erasure``). (defining module, name, function)."""
    result, seen = [], set()
    for module in service_modules():
        app = _app_of(module)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            home = importlib.import_module(function.__module__)
            if name.startswith("_") or function in seen or _app_of(home) is not app:
                continue
            if home is not module and name not in getattr(module, "__all__", ()):
                continue  # a helper the module imports for itself, not one it offers
            seen.add(function)
            result.append((home, name, function))
    return result


def takes_actor(function) -> bool:
    """A service takes the acting party as a keyword-only ``actor`` (predicates such as
    ``has_perm(actor, perm)`` take it positionally and are not services)."""
    parameter = inspect.signature(function).parameters.get("actor")
    return parameter is not None and parameter.kind == parameter.KEYWORD_ONLY


def _label(module, name) -> str:
    return f"{module.__name__}.{name}"


def _app_of(module):
    return apps.get_containing_app_config(module.__name__)


def test_the_services_are_found():
    """The discovery itself: the four apps' service modules and their functions."""
    names = {module.__name__ for module in service_modules()}
    assert {"fraud.services", "compliance.services", "analytics.services", "tickets.services"} <= names
    found = {_label(m, n) for m, n, _ in services()}
    assert {"fraud.services.block_customer", "compliance.erasure.deletion_request_approve"} <= found


def test_every_service_taking_an_actor_declares_its_permission():
    undeclared = sorted(_label(m, n) for m, n, f in services() if takes_actor(f) and not hasattr(f, "permissions"))
    assert not undeclared, f"services taking an actor without @requires(...) or @checked_inside(...): {undeclared}"


def test_every_declared_permission_exists_and_some_role_holds_it():
    """A misspelt permission would refuse every role, the ones that may included."""
    for module, name, function in services():
        for permission in getattr(function, "permissions", ()):
            app_label, codename = permission.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), (
                f"{_label(module, name)}: no permission {permission}"
            )
            holders = Group.objects.filter(
                permissions__content_type__app_label=app_label, permissions__codename=codename
            )
            assert holders.exists(), f"{_label(module, name)}: no role holds {permission}"


def test_each_service_refuses_every_role_that_may_not(make_staff):
    actors = {role.value: make_staff(role) for role in Role}
    actors["no role"] = make_staff(None)
    actors["calling system"] = CallingSystem(name="test-client")
    tried: list[tuple[str, str]] = []
    # A service of the systems alone declares a scope and no permission: every role is refused.
    declared = [(m, n, f) for m, n, f in services() if getattr(f, "permissions", ()) or getattr(f, "scope", None)]
    assert declared
    for module, name, function in declared:
        tables = list(_app_of(module).get_models())
        required = [
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind == p.KEYWORD_ONLY and p.default is p.empty and p.name != "actor"
        ]
        # A calling system holding every scope of the service API but the service's own.
        others = CallingSystem(name="scoped-client", scopes=frozenset(API_SCOPES) - {function.scope})
        for who, actor in {**actors, "calling system, other scopes": others}.items():
            if who in {r.value for r in Role} and any(actor.has_perm(p) for p in function.permissions):
                continue  # this role may
            with unchanged(*tables), pytest.raises(NotAllowed, match=re.escape(function.refusal)):
                function(**dict.fromkeys(required), actor=actor)
            tried.append((_label(module, name), who))
    services_tried = {service for service, _ in tried}
    assert services_tried == {_label(m, n) for m, n, _ in declared}
    print(f"\nservice permissions: {len(tried)} (service, role) pairs tried over {len(services_tried)} services")
