"""Clients and tokens: the one write path for the admin and ``create_api_client``.

Only the administrator (a superuser) or the system (``create_api_client``, run by an
operator) may: no role's permission says so, so each service checks it itself
(:func:`_administrator_only`). A token is returned once, in clear, by
the service that makes it (:func:`api_token_issue`, :func:`api_token_rotate`), and never
stored (api.auth).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from api.auth import new_token
from api.models import ApiClient, ApiToken
from customer_ops.context import SYSTEM
from customer_ops.errors import Conflict, Invalid, NotAllowed
from customer_ops.permissions import checked_inside
from customer_ops.scopes import API_SCOPES

ADMINISTRATOR_ONLY = "API clients and tokens: the administrator (a superuser) or the system alone"


def _administrator_only(actor) -> None:
    if actor is None or actor is SYSTEM:
        return
    if getattr(actor, "is_superuser", False) and getattr(actor, "is_active", False):
        return
    raise NotAllowed("Only the administrator may manage API clients and tokens.")


@checked_inside(ADMINISTRATOR_ONLY)
def api_client_create(
    *, name: str, scopes: list[str], contact: str = "", rate_limit_per_minute: int | None = None, actor
) -> ApiClient:
    _administrator_only(actor)
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown:
        raise Invalid(f"Unknown scopes {', '.join(unknown)}; known: {', '.join(API_SCOPES)}.", field="scopes")
    client = ApiClient(name=name.strip(), scopes=sorted(set(scopes)), contact=contact)
    if rate_limit_per_minute is not None:
        client.rate_limit_per_minute = rate_limit_per_minute
    client.full_clean()
    client.save()
    return client


@checked_inside(ADMINISTRATOR_ONLY)
def api_token_issue(*, client: ApiClient, expires_at: dt.datetime | None = None, actor) -> tuple[ApiToken, str]:
    """A new token for ``client``: ``(row, token in clear)``; show the token once."""
    _administrator_only(actor)
    token, prefix, digest = new_token()
    row = ApiToken.objects.create(client=client, prefix=prefix, token_hash=digest, expires_at=expires_at)
    return row, token


@checked_inside(ADMINISTRATOR_ONLY)
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Refused from its next call on (the token check reads ``revoked_at`` every time)."""
    _administrator_only(actor)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


@checked_inside(ADMINISTRATOR_ONLY)
def api_token_rotate(*, token: ApiToken, overlap: dt.timedelta, actor) -> tuple[ApiToken, str]:
    """A new token for the same client; the old one keeps working for ``overlap`` (the time
    the calling system needs to deploy the new one), then expires."""
    _administrator_only(actor)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if not token.usable:
            raise Conflict("This token is revoked or expired already: issue a new one instead.")
        ends = timezone.now() + overlap
        if token.expires_at is None or token.expires_at > ends:
            token.expires_at = ends
            token.save(update_fields=["expires_at"])
        return api_token_issue(client=token.client, expires_at=None, actor=actor)
