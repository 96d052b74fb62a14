"""Tokens: every refusal (problem+json), the rate limit, and the one query a call costs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from api.auth import new_token
from api.models import ApiToken, ApiUsage
from api.services import api_token_revoke
from customer_ops.context import SYSTEM
from customer_ops.scopes import DECISIONS_READ, LOGS_WRITE
from tests.api.conftest import assert_problem, bearer

pytestmark = pytest.mark.django_db
PING = "/api/v1/ping"


def test_a_valid_token_pings_and_its_call_is_counted(client, make_token):
    api_client, token = make_token([DECISIONS_READ])
    response = client.get(PING, **bearer(token))
    assert response.status_code == 200 and response.json() == {}
    assert ApiUsage.objects.get(client=api_client).calls == 1
    assert ApiToken.objects.get(client=api_client).last_used_at is not None


def test_a_ping_costs_one_query_even_with_a_session_cookie(client, make_token, django_assert_num_queries):
    _, token = make_token([DECISIONS_READ])
    client.cookies["sessionid"] = "a-browser-session"  # dropped on /api/: no session lookup
    client.cookies["csrftoken"] = "x"
    with django_assert_num_queries(1):
        assert client.get(PING, **bearer(token)).status_code == 200
    with django_assert_num_queries(1):  # last_used_at is stamped once a minute: the same single statement
        assert client.get(PING, **bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer abc", "Basic dXNlcjpwdw==", "bo_" + "a" * 43, "Bearer bo_" + "a" * 42],
)
def test_missing_or_malformed_tokens_are_401_without_a_query(client, header, django_assert_num_queries):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    with django_assert_num_queries(0):
        body = assert_problem(client.get(PING, **extra), 401)
    assert body["type"].endswith("/unauthenticated")


def test_an_unknown_token_is_401(client, make_token):
    make_token()
    token, _, _ = new_token()
    assert_problem(client.get(PING, **bearer(token)), 401, detail="Unknown token")


def test_a_revoked_token_is_refused_at_its_next_call(client, make_token):
    api_client, token = make_token()
    assert client.get(PING, **bearer(token)).status_code == 200
    api_token_revoke(token=ApiToken.objects.get(client=api_client), actor=SYSTEM)
    assert_problem(client.get(PING, **bearer(token)), 401, detail="revoked")
    assert ApiUsage.objects.get(client=api_client).calls == 1  # refused calls are not the client's usage


def test_an_expired_token_is_401(client, make_token):
    _, token = make_token(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_problem(client.get(PING, **bearer(token)), 401, detail="expired")


def test_a_disabled_client_is_401(client, make_token):
    api_client, token = make_token()
    api_client.enabled = False
    api_client.save()
    assert_problem(client.get(PING, **bearer(token)), 401, detail="disabled")


@pytest.mark.parametrize("query", ["access_token={token}", "api_key={token}", "q={token}", "token=whatever"])
def test_a_token_in_the_query_string_is_refused(client, make_token, query):
    api_client, token = make_token()
    response = client.get(f"{PING}?{query.format(token=token)}", **bearer(token))
    assert_problem(response, 400, detail="A token in the URL is refused")
    assert not ApiUsage.objects.filter(client=api_client).exists()  # refused before the token is looked up


def test_a_token_without_the_operations_scope_is_403(client, make_token, settings):
    settings.ROOT_URLCONF = "tests.api.urls"
    _, token = make_token([DECISIONS_READ])
    body = assert_problem(
        client.post("/api/test/notes", {"note": "x"}, content_type="application/json", **bearer(token)), 403
    )
    assert LOGS_WRITE in body["detail"]


def test_over_the_rate_limit_is_429_with_retry_after(client, make_token):
    api_client, token = make_token(rate_limit_per_minute=2)
    assert [client.get(PING, **bearer(token)).status_code for _ in range(2)] == [200, 200]
    response = client.get(PING, **bearer(token))
    assert_problem(response, 429, detail="limit of 2 calls a minute")
    assert 1 <= int(response["Retry-After"]) <= 60
    # The window is the client's, whatever its token.
    other = ApiToken.objects.create(client=api_client, prefix="x", token_hash=new_token()[2])
    assert other.client_id == api_client.pk
