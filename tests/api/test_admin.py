"""The API's admin pages: the superuser's alone; tokens shown once, revoked, rotated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from api.models import ApiCall, ApiClient, ApiToken
from customer_ops.roles import Role
from customer_ops.scopes import API_SCOPES
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db
PAGES = ["api_apiclient", "api_apitoken", "api_apicall"]


@pytest.fixture
def rows(make_token):
    api_client, token = make_token(["tickets:read"], name="customer-app")
    ApiCall.objects.create(client=api_client, operation="open_ticket", method="POST", status=201, affected_ids=["7"])
    return api_client, token


def _pages(api_client):
    token = ApiToken.objects.get(client=api_client)
    call = ApiCall.objects.get(client=api_client)
    return [
        *(reverse(f"admin:{p}_changelist") for p in PAGES),
        reverse("admin:api_apiclient_add"),
        reverse("admin:api_apiclient_change", args=[api_client.pk]),
        reverse("admin:api_apitoken_change", args=[token.pk]),
        reverse("admin:api_apicall_change", args=[call.pk]),
    ]


def test_the_superuser_sees_every_page(client, superuser, rows):
    client.force_login(superuser)
    for url in _pages(rows[0]):
        response = client.get(url)
        assert response.status_code == 200, url
        assert rows[1] not in response.content.decode()  # a token is never shown again


@pytest.mark.parametrize("role", list(Role))
def test_every_role_gets_403(client, make_staff, rows, role):
    client.force_login(make_staff(role))
    for url in _pages(rows[0]):
        assert client.get(url).status_code == 403, url


def test_a_client_made_in_the_admin_gets_a_token_shown_once(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:api_apiclient_add"),
        {
            "name": "ml",
            "contact": "ml team",
            "scopes": ["fraud:write", "logs:write"],
            "enabled": "on",
            "rate_limit_per_minute": "600",
            "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    api_client = ApiClient.objects.get(name="ml")
    assert api_client.scopes == ["fraud:write", "logs:write"]
    response = client.post(
        reverse("admin:api_apiclient_changelist"),
        {"action": "issue_token", "index": "0", ACTION_CHECKBOX_NAME: [api_client.pk]},
    )
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if "shown again" in str(m)]
    token = next(word for word in message.split() if word.startswith("bo_") and len(word) > 40)
    assert ApiToken.objects.get(client=api_client).prefix == token[:11]
    assert client.get("/api/v1/ping", **bearer(token)).status_code == 200


def test_revoke_and_rotate_with_an_overlap(client, superuser, rows):
    api_client, old = rows
    token = ApiToken.objects.get(client=api_client)
    client.force_login(superuser)
    changelist = reverse("admin:api_apitoken_changelist")
    response = client.post(
        changelist,
        {"action": "rotate_selected", "index": "0", "overlap_hours": "2", ACTION_CHECKBOX_NAME: [token.pk]},
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    new = next(w for m in messages for w in m.split() if w.startswith("bo_") and len(w) > 40)
    token.refresh_from_db()
    assert abs(token.expires_at - (timezone.now() + dt.timedelta(hours=2))) < dt.timedelta(minutes=1)
    assert client.get("/api/v1/ping", **bearer(old)).status_code == 200  # still, during the overlap
    assert client.get("/api/v1/ping", **bearer(new)).status_code == 200
    client.post(changelist, {"action": "revoke_selected", "index": "0", ACTION_CHECKBOX_NAME: [token.pk]})
    assert client.get("/api/v1/ping", **bearer(old)).status_code == 401
    assert client.get("/api/v1/ping", **bearer(new)).status_code == 200


@pytest.mark.parametrize("who", [*Role, "calling system"])
def test_only_the_administrator_or_the_system_manage_clients_and_tokens(make_staff, rows, who):
    from api import services
    from customer_ops.context import CallingSystem
    from customer_ops.errors import NotAllowed

    actor = CallingSystem("x", 1, frozenset(API_SCOPES)) if who == "calling system" else make_staff(who)
    token = ApiToken.objects.get(client=rows[0])
    calls = [
        lambda: services.api_client_create(name="new", scopes=["tickets:read"], actor=actor),
        lambda: services.api_token_issue(client=rows[0], actor=actor),
        lambda: services.api_token_revoke(token=token, actor=actor),
        lambda: services.api_token_rotate(token=token, overlap=dt.timedelta(hours=1), actor=actor),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    token.refresh_from_db()
    assert ApiToken.objects.count() == 1 and token.usable and ApiClient.objects.count() == 1
