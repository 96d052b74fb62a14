"""Every service checks its own permission: :func:`requires` declares it and enforces it.

A service decorated ``@requires("fraud.change_block")`` refuses, before it reads or writes
anything, an actor that may not do it, with :class:`customer_ops.errors.NotAllowed`,
whoever calls it (the admin, a job, the service API). The admin keeps hiding the buttons;
it is no longer the only guard.

Who may (:func:`check`):

* a staff ``User``: active, and holding one of the permissions (its role's group grants
  them, ``customer_ops.roles.grant``; a superuser holds all);
* the system (:data:`~customer_ops.context.SYSTEM` or ``None``: a job, a seeder) may;
* a :class:`~customer_ops.context.CallingSystem` (an API client) and any other
  :class:`~customer_ops.context.Actor` (a customer, an audit record) may not: the service
  API will declare what a calling system may do when it comes.

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


def may(actor, permissions: tuple[str, ...]) -> bool:
    """Whether ``actor`` may do what needs one of ``permissions``."""
    if actor is None or actor is SYSTEM:
        return True
    if isinstance(actor, Actor):
        return actor.actor_type == "SYSTEM" and actor.actor_id is None and actor.actor_name == SYSTEM.actor_name
    if isinstance(actor, CallingSystem):
        return False
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    return any(actor.has_perm(permission) for permission in permissions)


def check(actor, permissions: tuple[str, ...], what: str = "this") -> None:
    """Raise :class:`NotAllowed` unless ``actor`` holds one of ``permissions``."""
    if not may(actor, permissions):
        raise NotAllowed(f"Your role may not {what}.")


def requires(
    *permissions: str, what: str | None = None, message: str | None = None, error: type[NotAllowed] = NotAllowed
) -> Callable:
    """Declare and enforce the permission of a keyword-only service taking ``actor``.

    ``what`` words the refusal ("Your role may not <what>."; by default the function's
    name), or ``message`` gives it whole; ``error`` is the app's own kind of
    :class:`NotAllowed` (e.g. tickets' ``NotAllowed``), so its callers' handling is unchanged.
    An ``actor`` the service defaults (``actor=None``: the system) may be left out.
    """
    if not permissions:
        raise ValueError("requires() needs at least one permission")

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
            if not may(kwargs.get("actor", default), permissions):
                raise error(refusal)
            return service(*args, **kwargs)

        guarded.permissions = tuple(permissions)
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
        service.checked_inside = reason
        return service

    return decorate
