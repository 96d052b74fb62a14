"""Derived from the URL resolver: every route under /api/ requires a token and declares a
scope, and every POST takes an Idempotency-Key. A route added later is covered unchanged."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api.auth import ANY_SCOPE
from api.v1 import api
from tests.api.conftest import assert_problem, bearer

pytestmark = pytest.mark.django_db
# The schema and its documentation page; ninja's root, which answers a problem 404 to all.
PUBLIC = {"openapi-json", "openapi-view", "api-root"}
METHODS = ("get", "post", "put", "patch", "delete")


def api_routes(patterns=None, prefix="") -> list[tuple[str, URLPattern]]:
    """(path, pattern) of every URL pattern under /api/ but the catch-all 404."""
    found = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            found += api_routes(p.url_patterns, route)
        elif route.startswith("api/") and p.name is not None:
            found.append(("/" + route, p))
    return found


def _concrete(route: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", route)


def test_the_walk_sees_the_api():
    names = {p.name for _, p in api_routes()}
    assert PUBLIC | {"ping"} <= names


def test_every_api_route_refuses_a_call_without_a_token(client):
    for route, pattern in api_routes():
        if pattern.name in PUBLIC:
            continue
        statuses = {m: getattr(client, m)(_concrete(route)).status_code for m in METHODS}
        assert set(statuses.values()) <= {401, 405}, (route, statuses)
        assert 401 in statuses.values(), (route, statuses)


def test_every_api_route_declares_a_scope(client, make_token):
    """A token with no scope at all is refused (403) by every operation but the ping."""
    _, token = make_token(scopes=[])
    for route, pattern in api_routes():
        if pattern.name in PUBLIC:
            continue
        for m in METHODS:
            response = getattr(client, m)(_concrete(route), **bearer(token))
            if response.status_code == 405:
                continue
            if pattern.name == "ping":
                assert response.status_code == 200
            else:
                assert_problem(response, 403, detail="lacks the scope")


def test_every_operation_is_scoped_and_every_post_idempotent():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), (method, path)
            if method == "post":
                headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
                assert "Idempotency-Key" in headers, path
    for router in api._get_bound_routers():  # the declarations themselves
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                scopes = [getattr(a, "scope", None) for a in op.auth_callbacks]
                assert scopes and all(scopes), op.view_func.__name__
                assert ANY_SCOPE not in scopes or op.view_func.__name__ == "ping"


def test_the_root_is_a_problem_404(client):
    assert_problem(client.get("/api/v1/"), 404)


def test_the_schema_and_the_docs_page_are_served_under_the_csp(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in s or "application/json" in s for s in scripts)  # no inline script
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', html))  # our own static files, no CDN
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
