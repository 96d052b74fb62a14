"""Who is acting: the request's staff member, IP address and user agent, or SYSTEM.

:class:`customer_ops.middleware.ActorMiddleware` sets it for every request; jobs run
with the default (``SYSTEM``) or wrap their work in :func:`acting_as`. The audit trail
reads it, so services need not thread the request through every call.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    actor_type: str  # the audit log's actor_type: ADMIN, AGENT, SYSTEM, CUSTOMER
    actor_id: int | None = None
    actor_name: str = "system"
    ip_address: str = ""
    user_agent: str = ""


SYSTEM = Actor(actor_type="SYSTEM")

_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


# The signed-in staff member of the current request (None in jobs): masking reads it.
_viewer: contextvars.ContextVar = contextvars.ContextVar("viewer", default=None)


def current_viewer():
    return _viewer.get()


def actor_for_user(user, *, ip_address: str = "", user_agent: str = "") -> Actor:
    """The audit actor for a staff member: AGENT for support roles, ADMIN otherwise."""
    from customer_ops.roles import Role

    support = {Role.AGENT.value, Role.LEAD.value}
    is_support = any(g.name in support for g in user.groups.all())
    return Actor(
        actor_type="AGENT" if is_support else "ADMIN",
        actor_id=user.pk,
        actor_name=user.get_full_name() or user.get_username(),
        ip_address=ip_address,
        user_agent=user_agent[:500],
    )


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
