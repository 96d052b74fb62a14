"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

``{"type", "title", "status", "detail", "errors": [{"index"?, "field", "message"}]}`` --
``errors`` lists every bad field (every bad item of a batch, with its index), so a caller
mends them all at once. :func:`install` maps, in one place, what can go wrong:

* ninja's request validation (422) and a body that is not JSON (400, an ``HttpError``);
* the refusals of :mod:`api.auth` (401, 403, 429 with ``Retry-After``) and of the API's
  own checks (:class:`ApiProblem`: 400, 413, 422);
* the domain services' :class:`customer_ops.errors.DomainError` kinds (403, 409, 422),
  their ``field`` and ``errors`` included;
* a missing row (404) and a method the path does not take (405, :mod:`api.middleware`).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.db import DataError
from django.http import Http404, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from customer_ops.errors import DomainError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://backoffice.invalid/problems/"  # documentation anchors, not fetched by clients


class ApiProblem(Exception):
    """A refusal of the API itself: ``raise ApiProblem(413, "...", kind="body-too-large")``."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None, errors=None, headers=None):
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.errors = errors or []
        self.headers = headers or {}


def problem(status: int, detail: str, *, kind: str | None = None, errors=None, headers=None) -> HttpResponse:
    """The problem+json response (``kind`` names the ``type``; by default the status's phrase)."""
    title = HTTPStatus(status).phrase
    body = {
        "type": TYPE_BASE + (kind or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_errors(errors: list[dict]) -> list[dict]:
    """ninja's ``[{"loc": ("body", "payload", "items", 3, "severity"), "msg": ...}]`` as
    ``[{"index": 3, "field": "severity", "message": ...}]`` (the index of a batch item)."""
    found = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path", "header")]
        item = {}
        ints = [i for i, part in enumerate(loc) if isinstance(part, int)]
        if ints:
            item["index"] = loc[ints[0]]
            loc = loc[ints[0] + 1 :]
        item["field"] = ".".join(str(part) for part in loc) or None
        item["message"] = error.get("msg", "Invalid value.")
        found.append(item)
    return found


def install(api) -> None:
    """Map every error of ``api`` (a NinjaAPI) to problem details."""

    @api.exception_handler(ValidationError)
    def validation(request, exc):
        errors = _validation_errors(exc.errors)
        return problem(422, "The request does not validate: see errors.", kind="validation", errors=errors)

    @api.exception_handler(ApiProblem)
    def own(request, exc):
        return problem(exc.status, exc.detail, kind=exc.kind, errors=exc.errors, headers=exc.headers)

    @api.exception_handler(DomainError)
    def domain(request, exc):
        errors = exc.errors or ([{"field": exc.field, "message": exc.message}] if exc.field else [])
        return problem(exc.status, exc.message, errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return problem(401, "Send a valid token as 'Authorization: Bearer <token>'.", kind="unauthenticated")

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return problem(exc.status_code, str(exc))

    @api.exception_handler(DataError)
    def unstorable(request, exc):
        # A value pydantic let through that PostgreSQL refuses (a NUL byte in text, a number
        # past a column's range): the caller's input, not a server error.
        logger.warning("Bad input on %s: %s", request.path, exc)
        return problem(400, "A value cannot be stored (a NUL character, or a number out of range).")

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return problem(404, str(exc) or "No such resource.")
