"""/healthz and /readyz: unauthenticated, ok / not ok only, past the HTTPS redirect and host check."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler
from django.test import override_settings

from backoffice import health

# What production sets (DEBUG false): every other URL is redirected to HTTPS and checked
# against ALLOWED_HOSTS.
PRODUCTION = override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["backoffice.example.com"])


@pytest.fixture(autouse=True)
def fresh_readiness():
    health._migrations_checked.clear()
    yield
    health._migrations_checked.clear()


def _probe(client, path, method="get", host="10.0.3.7:8000"):
    return getattr(client, method)(path, HTTP_HOST=host)


@pytest.mark.django_db
@PRODUCTION
def test_probes_answer_ok_over_plain_http_to_the_instance_address(client):
    for path in ("/healthz", "/readyz"):
        response = _probe(client, path)
        assert response.status_code == 200, path
        assert response.content == b"ok\n"
        assert response["Content-Type"] == "text/plain"
        assert response["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response  # no session, no CSRF cookie: nothing but the answer
        assert _probe(client, path, method="head").status_code == 200


@pytest.mark.django_db
@PRODUCTION
def test_only_the_probes_skip_the_redirect_and_the_host_check(client):
    # The same plain-HTTP request to any other path: redirected to HTTPS, or refused for its host.
    assert client.get("/admin/login/", HTTP_HOST="backoffice.example.com").status_code == 301
    assert client.get("/admin/login/", HTTP_HOST="10.0.3.7:8000", secure=True).status_code == 400
    assert client.get("/healthz/", HTTP_HOST="backoffice.example.com").status_code == 301
    # A probe path with another method goes the normal way too.
    assert client.post("/readyz", HTTP_HOST="backoffice.example.com").status_code == 301


@pytest.mark.django_db
def test_ready_is_cached_after_the_first_success_to_one_select(client, django_assert_num_queries):
    assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1) as captured:
        assert client.get("/readyz").status_code == 200
    assert captured.captured_queries[0]["sql"] == "SELECT 1"


@pytest.mark.django_db
def test_an_unapplied_migration_is_not_ready(client):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations WHERE app = 'tickets')"
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ok\n"  # no migration name, no error text
    assert client.get("/healthz").status_code == 200  # the process itself is alive


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_not_ready():
    settings = {**connection.settings_dict, "PORT": "1", "NAME": "nowhere"}  # nothing listens on port 1
    unreachable = ConnectionHandler({"default": settings})["default"]
    try:
        assert health.database_ready(unreachable) is False
    finally:
        unreachable.close()
    assert health.database_ready(connection) is True


@pytest.mark.django_db
def test_a_database_that_stops_answering_is_not_ready_even_after_success():
    assert health.database_ready(connection) is True
    settings = {**connection.settings_dict, "PORT": "1"}
    unreachable = ConnectionHandler({"default": settings})["default"]
    try:
        assert health.database_ready(unreachable) is False  # the cache never skips the SELECT 1
    finally:
        unreachable.close()
