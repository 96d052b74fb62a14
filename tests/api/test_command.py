from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiClient, ApiToken
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def test_creates_a_client_and_prints_the_token_alone_on_the_last_line(client):
    out = _run("ml-pipeline", "--scope", "fraud:write", "--scope", "logs:write", "--contact", "ml@example.test")
    token = out.strip().splitlines()[-1]
    api_client = ApiClient.objects.get(name="ml-pipeline")
    assert api_client.scopes == ["fraud:write", "logs:write"] and api_client.contact == "ml@example.test"
    assert token.startswith("bo_") and " " not in token
    assert token not in "".join(ApiToken.objects.values_list("token_hash", "prefix").get())  # stored hashed
    assert client.get("/api/v1/ping", **bearer(token)).status_code == 200


def test_a_second_run_adds_a_token_to_the_existing_client(client):
    first = _run("portal", "--scope", "privacy:write").strip().splitlines()[-1]
    second = _run("portal", "--expires-days", "30").strip().splitlines()[-1]
    assert first != second and ApiClient.objects.count() == 1
    assert list(ApiToken.objects.order_by("pk").values_list("expires_at", flat=True))[0] is None
    assert ApiToken.objects.order_by("pk").last().expires_at is not None
    assert client.get("/api/v1/ping", **bearer(first)).status_code == 200
    assert client.get("/api/v1/ping", **bearer(second)).status_code == 200


@pytest.mark.parametrize(
    "args",
    [["x"], ["x", "--scope", "nope"], ["x", "--scope", "fraud:write", "--expires-days", "0"]],
)
def test_refuses_bad_arguments_and_creates_nothing(args):
    with pytest.raises(CommandError):
        _run(*args)
    assert not ApiClient.objects.exists() and not ApiToken.objects.exists()
