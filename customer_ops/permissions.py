"""Every service checks its own permission: :func:`requires` declares it and enforces it.

A service decorated ``@requires("fraud.change_block")`` refuses, before it reads or writes
anything, an actor that may not do it, with :class:`customer_ops.errors.NotAllowed`,
whoever calls it (the admin, a job, the service API). The admin keeps hiding the buttons;
it is no longer the only guard.

Who may (:func:`check`):

* a staff ``User``: active, and holding one of the permissions (its role's group grants
  them, ``customer_ops.roles.grant``; a superuser holds all);
* the system (:data:`~customer_ops.context.SYSTEM` or ``None``: a job, a seeder) may;
* a :class:`~customer_ops.context.CallingSystem` (an API client) may only where the
  service declares a ``scope`` and the client holds it (``@requires(..., scope="fraud:write")``);
* a service declared with a scope and no permission (``@requires(scope="logs:write")``) is
  the platform's systems' alone: no staff member may, a superuser included (the auth
  system's login history is never typed in by a person);
* any other :class:`~customer_ops.context.Actor` (a customer, an audit record) may not.

The declaration is readable (``service.permissions``), so a test derived from the
services themselves calls each one as every role that may not
(``tests/test_service_permissions.py``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from customer_ops.context import SYSTEM, Actor, CallingSystem
from customer_ops.errors import NotAllowed
from customer_ops.scopes import API_SCOPES


def may(actor, permissions: tuple[str, ...], scope: str | None = None) -> bool:
    """Whether ``actor`` may do what needs one of ``permissions`` (a staff user) or
    ``scope`` (a calling system)."""
    if actor is None or actor is SYSTEM:
        return True
    if isinstance(actor, Actor):
        return actor.actor_type == "SYSTEM" and actor.actor_id is None and actor.actor_name == SYSTEM.actor_name
    if isinstance(actor, CallingSystem):
        return scope is not None and scope in actor.scopes
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    return any(actor.has_perm(permission) for permission in permissions)


def check(actor, permissions: tuple[str, ...], what: str = "this") -> None:
    """Raise :class:`NotAllowed` unless ``actor`` holds one of ``permissions``."""
    if not may(actor, permissions):
        raise NotAllowed(f"Your role may not {what}.")


def requires(
    *permissions: str,
    scope: str | None = None,
    what: str | None = None,
    message: str | None = None,
    error: type[NotAllowed] = NotAllowed,
) -> Callable:
    """Declare and enforce the permission of a keyword-only service taking ``actor``.

    ``what`` words the refusal ("Your role may not <what>."; by default the function's
    name), or ``message`` gives it whole; ``error`` is the app's own kind of
    :class:`NotAllowed` (e.g. tickets' ``NotAllowed``), so its callers' handling is unchanged.
    ``scope`` is the service API's scope (``customer_ops.scopes``) that lets a calling
    system through; without it no calling system may. A scope without a permission: no staff
    member may (only the system and calling systems with the scope).
    An ``actor`` the service defaults (``actor=None``: the system) may be left out.
    """
    if not permissions and scope is None:
        raise ValueError("requires() needs a permission or, for a service of the systems alone, a scope")
    if scope is not None and scope not in API_SCOPES:
        raise ValueError(f"requires(): no API scope {scope!r} (customer_ops.scopes)")

    def decorate(service: Callable) -> Callable:
        refusal = message or f"Your role may not {what or service.__name__.replace('_', ' ')}."
        parameter = inspect.signature(service).parameters.get("actor")
        if parameter is None or parameter.kind != parameter.KEYWORD_ONLY:
            raise TypeError(f"{service.__name__}() must take the acting party as a keyword-only actor")
        default = parameter.default

        @functools.wraps(service)
        def guarded(*args, **kwargs):
            if "actor" not in kwargs and default is parameter.empty:
                raise TypeError(f"{service.__name__}() takes the acting party as actor=")
            if not may(kwargs.get("actor", default), permissions, scope):
                raise error(refusal)
            return service(*args, **kwargs)

        guarded.permissions = tuple(permissions)
        guarded.scope = scope
        guarded.refusal = refusal
        return guarded

    return decorate


def checked_inside(reason: str) -> Callable:
    """Declare a service that takes ``actor`` but grants by a rule no role permission says:
    it decides for itself, and says why (``service.permissions`` is empty,
    ``service.checked_inside`` the reason; its own tests prove the rule). For example a
    read marker that is a no-op for anyone but the assignee, or a step only the customer
    may take."""

    def decorate(service: Callable) -> Callable:
        service.permissions = ()
        service.scope = None
        service.checked_inside = reason
        return service

    return decorate
