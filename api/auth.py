"""Bearer tokens: ``Authorization: Bearer bo_…``, checked and counted in one SQL statement.

A token is ``bo_`` and 43 random URL-safe characters (256 bits); the database keeps its
SHA-256 and its first characters (``prefix``), never the token. Each operation declares
the scope it needs: ``auth=Scoped(FRAUD_WRITE)`` (``Scoped(ANY_SCOPE)`` for the ping).

:data:`CHECK_SQL` finds the token by its hash, and in the same statement counts the call
in the client's current minute (``api_usage``, an upsert) and stamps ``last_used_at`` (at
most once a minute): so authentication, the read statistics and the rate limit cost one
round trip, and the order-time decision needs two queries in all.

Refusals, each problem+json (:mod:`api.errors`):

* 400 -- a token in the query string (URLs end up in access logs; the caller should rotate it);
* 401 -- no ``Authorization: Bearer``, a malformed, unknown, revoked or expired token, or
  a disabled client;
* 429 -- over the client's calls per minute, with ``Retry-After`` (seconds to the next minute);
* 403 -- the client's scopes do not include the operation's.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets

from django.db import connection
from ninja.security import HttpBearer

from api.errors import ApiProblem
from customer_ops.context import CallingSystem
from customer_ops.scopes import API_SCOPES

TOKEN_PREFIX = "bo_"
TOKEN_RE = re.compile(r"bo_[A-Za-z0-9_-]{43}")
PREFIX_LENGTH = 11  # "bo_" and 8 characters: enough to tell a client's tokens apart
ANY_SCOPE = "*"  # the ping: any valid token
# Query-string parameters that carry a token in other APIs; any value shaped like ours counts too.
TOKEN_PARAMETERS = {"access_token", "token", "api_key", "apikey", "bearer", "authorization"}

CHECK_SQL = """
WITH found AS (
    SELECT t.id, t.client_id, c.name, c.scopes, c.rate_limit_per_minute,
           c.enabled AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AS usable,
           CASE WHEN NOT c.enabled THEN 'its client is disabled'
                WHEN t.revoked_at IS NOT NULL THEN 'revoked'
                WHEN t.expires_at <= now() THEN 'expired' END AS refusal,
           t.last_used_at
    FROM api_tokens t JOIN api_clients c ON c.id = t.client_id
    WHERE t.token_hash = %s
), counted AS (
    INSERT INTO api_usage (client_id, minute, calls)
    SELECT client_id, date_trunc('minute', now()), 1 FROM found WHERE usable
    ON CONFLICT (client_id, minute) DO UPDATE SET calls = api_usage.calls + 1
    RETURNING calls
), stamped AS (
    UPDATE api_tokens SET last_used_at = now()
    WHERE id = (SELECT id FROM found
                WHERE usable AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
)
SELECT client_id, name, scopes, rate_limit_per_minute, refusal, (SELECT calls FROM counted),
       extract(epoch FROM now())::float8
FROM found
"""


def new_token() -> tuple[str, str, str]:
    """A fresh token: ``(token, prefix, sha256)``. The token is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token[:PREFIX_LENGTH], token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, kind="unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="api"'})


def check_token(request) -> CallingSystem:
    """The calling system of the request's token, its call counted; raises the refusal."""
    if any(
        name.lower() in TOKEN_PARAMETERS or TOKEN_RE.search(value)
        for name, values in request.GET.lists()
        for value in values
    ):
        raise ApiProblem(
            400,
            "A token in the URL is refused: URLs end up in logs. Send it as 'Authorization: Bearer <token>', "
            "and rotate the token that was sent.",
            kind="token-in-query",
        )
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("Send the token as 'Authorization: Bearer <token>'.")
    if scheme.lower() != "bearer" or not TOKEN_RE.fullmatch(token.strip()):
        raise _unauthorized("Malformed Authorization header: expected 'Bearer bo_…' (a token of this API).")
    with connection.cursor() as cursor:
        cursor.execute(CHECK_SQL, [token_hash(token.strip())])
        row = cursor.fetchone()
    if row is None:
        raise _unauthorized("Unknown token.")
    client_id, name, scopes, limit, refusal, calls, now = row
    if refusal:
        raise _unauthorized(f"This token is refused: {refusal}.")
    if calls > limit:
        retry = max(1, math.ceil(60 - now % 60))
        raise ApiProblem(
            429,
            f"Over this client's limit of {limit} calls a minute; retry in {retry} s.",
            kind="rate-limited",
            headers={"Retry-After": str(retry)},
        )
    return CallingSystem(name=name, client_id=client_id, scopes=frozenset(scopes))


class Scoped(HttpBearer):
    """``auth=Scoped(TICKETS_WRITE)``: a valid token whose client holds the scope. The
    declaration is readable (``.scope``): tests/api walks every operation for it."""

    def __init__(self, scope: str):
        if scope != ANY_SCOPE and scope not in API_SCOPES:
            raise ValueError(f"Scoped(): no API scope {scope!r} (customer_ops.scopes)")
        self.scope = scope
        super().__init__()

    def __call__(self, request) -> CallingSystem:
        system = check_token(request)
        if self.scope != ANY_SCOPE and self.scope not in system.scopes:
            raise ApiProblem(403, f"This client's token lacks the scope {self.scope!r}.", kind="scope")
        request.calling_system = system
        return system

    def authenticate(self, request, token):  # HttpBearer's hook; __call__ does it all
        raise NotImplementedError
