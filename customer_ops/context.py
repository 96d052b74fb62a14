"""Who is acting: a staff member, the system (jobs), a calling system or a customer.

Services take the acting party as ``actor``: a staff ``User``, :data:`SYSTEM`, a
:class:`CallingSystem` (an API client, by name) or a customer's :class:`Actor`
(:func:`actor_for_customer`). :func:`audit_actor` turns any of them into what the audit log
records, once, for every app.

:class:`customer_ops.middleware.ActorMiddleware` sets the request's actor (with its IP
address and user agent) for every request; jobs run with the default (``SYSTEM``) or wrap
their work in :func:`acting_as`. The audit trail reads it, so services need not thread the
request through every call.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Actor:
    actor_type: str  # the audit log's actor_type: ADMIN, AGENT, SYSTEM, CUSTOMER
    actor_id: int | None = None
    actor_name: str = "system"
    ip_address: str = ""
    user_agent: str = ""


SYSTEM = Actor(actor_type="SYSTEM")


@dataclass(frozen=True)
class CallingSystem:
    """Another system of the platform acting through the service API (an API client), with
    the scopes its token was granted (``api.scopes``): a service declared
    ``@requires(..., scope="fraud:write")`` lets it through only when it holds that scope."""

    name: str
    client_id: int | None = None
    scopes: frozenset[str] = frozenset()

    def audit(self) -> Actor:
        # The spec's actor types have no "system of the platform": SYSTEM, named after it.
        return Actor(actor_type="SYSTEM", actor_id=None, actor_name=f"api:{self.name}")


_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


# The signed-in staff member of the current request (None in jobs): masking reads it.
_viewer: contextvars.ContextVar = contextvars.ContextVar("viewer", default=None)


def current_viewer():
    return _viewer.get()


def actor_for_user(user, *, ip_address: str = "", user_agent: str = "") -> Actor:
    """The audit actor for a staff member: AGENT for support roles, ADMIN otherwise."""
    from customer_ops.roles import Role, group_names

    is_support = not {Role.AGENT.value, Role.LEAD.value}.isdisjoint(group_names(user))
    return Actor(
        actor_type="AGENT" if is_support else "ADMIN",
        actor_id=user.pk,
        actor_name=user.get_full_name() or user.get_username(),
        ip_address=ip_address,
        user_agent=user_agent[:500],
    )


def actor_for_customer(customer, *, ip_address: str = "", user_agent: str = "") -> Actor:
    """The audit actor for a customer acting for themselves (the customer channel of the
    service API): what they alone may write, such as a ticket's satisfaction rating."""
    return Actor(
        actor_type="CUSTOMER",
        actor_id=customer.pk,
        actor_name=customer.full_name,
        ip_address=ip_address,
        user_agent=user_agent[:500],
    )


def audit_actor(actor) -> Actor:
    """What the audit log records for ``actor`` (a staff user, ``None``/SYSTEM, a calling
    system, or an :class:`Actor` already): the request's own actor, with its IP address and
    user agent, when it is the same staff member; else one built for them."""
    if actor is None or actor is SYSTEM:
        return SYSTEM
    if isinstance(actor, Actor):
        return actor
    if isinstance(actor, CallingSystem):
        return actor.audit()
    current = current_actor()
    if current.actor_type != "SYSTEM" and current.actor_id == actor.pk:
        return current
    return actor_for_user(actor)


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def client_ip(request) -> str:
    """The client's IP address: the one helper for the lockout (django-axes), the audit
    trail and the access log.

    ``TRUSTED_PROXY_COUNT`` reverse proxies (load balancer, nginx) stand between the client
    and this process, each appending the address it received the request from to
    ``X-Forwarded-For``. The client is therefore the entry that many places from the right;
    anything further left was written by the client and may be forged. With no trusted
    proxy (the default) only the connection's own address counts, and ``X-Real-IP`` is never
    read: a single header that a client can set as freely as any other.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    chain = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(chain) < trusted:
        return remote  # fewer hops than proxies: not a request that came through all of them
    candidate = chain[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote  # a proxy that writes something else is misconfigured: keep the socket's address
