"""Problem details everywhere under /api/, a body size cap, never a 500 on junk."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, bearer

pytestmark = pytest.mark.django_db
NOTES = "/api/test/notes"


@pytest.fixture(autouse=True)
def _test_api(settings):
    settings.ROOT_URLCONF = "tests.api.urls"


def test_an_unknown_path_under_api_is_a_problem_404_not_a_page(client, make_token):
    _, token = make_token()
    for path in ("/api/", "/api/v1/nope", "/api/v2/ping", "/api/v1/ping/"):
        assert_problem(client.get(path, **bearer(token)), 404)
        assert_problem(client.post(path, {}, content_type="application/json"), 404)  # no CSRF 403 either


def test_a_method_the_path_does_not_take_is_a_problem_405(client, make_token):
    _, token = make_token()
    response = client.delete("/api/v1/ping", **bearer(token))
    assert_problem(response, 405, detail="DELETE is not allowed")
    assert response["Allow"] == "GET"


def test_validation_errors_name_each_field(client, make_token):
    _, token = make_token()
    body = assert_problem(client.post(NOTES, {"slow": "abc"}, content_type="application/json", **bearer(token)), 422)
    assert {e["field"] for e in body["errors"]} == {"note", "slow"}


def test_a_domain_refusal_lists_every_bad_item(client, make_token):
    _, token = make_token()
    body = assert_problem(client.post(NOTES, {"note": "refuse"}, content_type="application/json", **bearer(token)), 422)
    assert body["errors"] == [
        {"index": 0, "field": "a", "message": "bad a"},
        {"index": 3, "field": "b", "message": "bad b"},
    ]


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[]", b"null"])
def test_junk_bodies_are_4xx(client, make_token, raw):
    _, token = make_token()
    response = client.post(NOTES, raw, content_type="application/json", **bearer(token))
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_a_body_over_the_cap_is_413_before_it_is_read(client, make_token, settings, django_assert_num_queries):
    settings.API_MAX_BODY_BYTES = 1000
    _, token = make_token()
    with django_assert_num_queries(0):
        response = client.post(NOTES, {"note": "x" * 2000}, content_type="application/json", **bearer(token))
    assert_problem(response, 413, detail="at most 1,000 are accepted")
    assert client.post(NOTES, {"note": "x" * 500}, content_type="application/json", **bearer(token)).status_code == 201
