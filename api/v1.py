"""The service API, version 1: ``/api/v1/`` (schema ``openapi.json``, documentation ``docs``).

How to add an endpoint (a router per area, ``api/endpoints/<area>.py``)::

    router = Router(tags=["fraud"])

    @router.post("/fraud-alerts", auth=Scoped(FRAUD_WRITE), response={201: AlertsOut})
    @idempotent                                    # every POST
    def create_fraud_alerts(request, payload: AlertsIn):
        alerts = fraud_alerts_create(items=[...], actor=request.auth)   # the domain service
        affected(request, [a.pk for a in alerts])                       # ids for the call log
        return Status(201, AlertsOut(...))

then one line in :data:`ROUTERS` below. The rules:

* **scope** -- every operation says ``auth=Scoped(<scope>)`` (``customer_ops.scopes``);
  tests/api/test_routes.py walks every route and fails on one without it. ``request.auth``
  is then the :class:`~customer_ops.context.CallingSystem`: pass it as the service's
  ``actor`` (the service's ``@requires(..., scope=...)`` checks it again), or
  ``actor_for_customer(customer)`` for the customer channel. The audit actor of the whole
  handler is the calling system already (:func:`_acting`).
* **idempotency** -- every POST handler is ``@idempotent`` (under the route decorator); it
  runs the handler in one transaction; return ``Status(201, data)`` with ``data`` JSON-able
  (a Schema instance, a dict, a list): see :mod:`api.idempotency`.
* **errors** -- raise the services' ``customer_ops.errors`` kinds (or :class:`api.errors.ApiProblem`);
  :mod:`api.errors` answers them as problem+json. Never catch and re-word in a handler.
* **call log** -- a write handler names the rows it wrote with :func:`api.calls.affected`.
* handlers parse, call one service or selector, and render: no rule lives here.
"""

from __future__ import annotations

import functools

from ninja import NinjaAPI, Router, Schema
from ninja.openapi.docs import Swagger

from api import calls, errors
from api.auth import ANY_SCOPE, Scoped
from api.openapi import DocumentedAPI
from customer_ops.context import acting_as

# (prefix, "api.endpoints.<area>.router"): one line per area.
ROUTERS: list[tuple[str, str]] = [
    ("", "api.endpoints.tickets.router"),
    ("", "api.endpoints.privacy.router"),
    ("", "api.endpoints.pipeline.router"),
    ("", "api.endpoints.logs.router"),
    ("", "api.endpoints.decisions.router"),
    ("", "api.endpoints.webhooks.router"),
]

DESCRIPTION = """The back-office's door for the platform's other systems.

Authenticate with `Authorization: Bearer <token>` (a token of an API client, created by the
back-office's administrator). Every POST takes an `Idempotency-Key`. Errors are RFC 9457
problem details (`application/problem+json`)."""


def _acting(handler):
    """ninja "operation" decorator: the audit actor of the handler is the calling system."""

    @functools.wraps(handler)
    def wrapper(request, *args, **kwargs):
        with acting_as(request.auth.audit()):
            return handler(request, *args, **kwargs)

    return wrapper


def build(*, urls_namespace: str, version: str, routers: list[tuple[str, object]] = ()) -> NinjaAPI:
    """A NinjaAPI with the project's auth, errors, call log and docs (tests build one with
    test-only routes the same way)."""
    api = DocumentedAPI(
        title="Back-office service API",
        version=version,
        description=DESCRIPTION,
        urls_namespace=urls_namespace,
        docs=Swagger(settings={"persistAuthorization": False}),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    errors.install(api)
    api.add_decorator(calls.logged, mode="view")
    api.add_decorator(_acting, mode="operation")
    for prefix, router in routers:
        api.add_router(prefix, router)
    return api


class Empty(Schema):
    pass


ping_router = Router(tags=["ping"])


@ping_router.get("/ping", auth=Scoped(ANY_SCOPE), response=Empty, summary="Check a token")
def ping(request):
    """Authenticates the token (any scope) and answers `{}`: the framework's floor."""
    return {}


api = build(urls_namespace="api-v1", version="1", routers=[("", ping_router), *ROUTERS])
