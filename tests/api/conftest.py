from __future__ import annotations

import pytest

from api.services import api_client_create, api_token_issue
from customer_ops.context import SYSTEM
from customer_ops.scopes import API_SCOPES


@pytest.fixture
def make_token(db):
    """``make_token(scopes=[...], **client fields)`` -> (client, token in clear)."""
    made = 0

    def make(scopes=tuple(API_SCOPES), *, expires_at=None, **fields):
        nonlocal made
        made += 1
        client = api_client_create(
            name=fields.pop("name", f"system-{made}"), scopes=list(scopes), actor=SYSTEM, **fields
        )
        _, token = api_token_issue(client=client, expires_at=expires_at, actor=SYSTEM)
        return client, token

    return make


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_problem(response, status: int, *, detail: str = "") -> dict:
    """The response is RFC 9457 problem details with ``status`` (and ``detail`` in its detail)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status and body["type"].startswith("https://")
    assert detail in body["detail"]
    return body
