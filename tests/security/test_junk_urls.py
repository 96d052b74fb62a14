"""Junk in a URL is a 4xx or the stock "?e=1" page, never a 500 (#12.4).

Walked as a superuser (who may open everything), from the admin registry:

* every change list, with each junk value in every parameter its list filters expect
  (``expected_parameters()`` of the filter specs the change list builds: choice filters,
  custom ``SimpleListFilter`` parameters, date ranges), its date hierarchy, the search box
  ``q``, the page ``p``, the ordering ``o`` and a ``__regex`` lookup on each filtered field;
* every change page with junk ids;
* every URL pattern of the admin site and of every ModelAdmin (custom consoles, exports,
  history, the dashboard, the customer page) with junk in each of its URL parameters, and
  with junk in the query-string parameters the custom views read, GET and POST.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from analytics.filters import DashboardFilter
from tests.security.test_permission_walk import _urls_of, admin_patterns

JUNK = ["\x00", "x" * 5000, "abc", "2026-02-31", "99999-01-01", "99999999999999999999", "(", "1e400"]
JUNK_IDS = ["%00", "abc", "99999999999999999999", "-1", "1.5", "%25", "..%2F"]
# Query-string parameters the custom views read themselves (request.GET in the consoles),
# besides every list-filter parameter and the dashboard's filter fields.
VIEW_PARAMS = ["after", "ticket", "order", "customer", "format", "queue", "status", "customer_id"]


def _filter_params(cl, model_admin) -> set[str]:
    params = {p for spec in cl.filter_specs for p in spec.expected_parameters()}
    if model_admin.date_hierarchy:
        params |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
    fields = {getattr(spec, "field_path", None) for spec in cl.filter_specs} - {None}
    params |= {f"{field}__regex" for field in fields} | {f"{field}__in" for field in fields}
    return params | {"q", "p", "o", "_facets", "all", "pk", "id__in"}


@pytest.mark.django_db
def test_no_junk_url_answers_500(client, walk_objects, superuser, settings):
    settings.DEBUG = False  # the plain 400/404 pages, not the (slow) technical ones
    client.force_login(superuser)
    client.raise_request_exception = False
    made, errors = 0, []

    def probe(method: str, url: str, data: dict | None = None):
        nonlocal made
        response = client.get(url, data) if method == "GET" else client.post(url, data or {})
        made += 1
        if response.status_code >= 500:
            errors.append(f"{method} {url[:120]} {str(data)[:120]}: {response.status_code}")
        return response

    all_params: set[str] = set()
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{info}_changelist")
        page = client.get(changelist)
        if page.context and "cl" in page.context:  # a change list (the dashboard is a page of its own)
            params = _filter_params(page.context["cl"], model_admin)
            all_params |= params
            for param in sorted(params):
                for value in JUNK:
                    probe("GET", changelist, {param: value})
        for junk in JUNK_IDS:
            for view in ("change", "delete", "history"):
                try:
                    url = reverse(f"{info}_{view}", args=["1"]).replace("/1/", f"/{junk}/", 1)
                except NoReverseMatch:
                    continue
                probe("GET", url)

    # Without the ``__regex`` parameters: the custom views read none, and more than
    # MAX_REGEX_PARAMETERS of them answer 400 before any view runs (each change list had
    # its own above).
    view_params = sorted(
        p for p in all_params | set(DashboardFilter.base_filters) | set(VIEW_PARAMS) if not p.endswith("regex")
    )
    for pattern in admin_patterns():
        if pattern.key == "logout":
            continue
        client.force_login(superuser)
        for url, _label in _urls_of(pattern, walk_objects):
            converters = pattern.pattern.pattern.converters if pattern.model else {}
            for value in JUNK[:3]:
                probe("GET", url, {name: value for name in view_params})
                probe("POST", url, {name: value for name in view_params})
            # Junk in each URL parameter of the pattern (object ids, customer ids, fields).
            for name in converters:
                for junk in JUNK_IDS:
                    kwargs = dict(_kwargs_of(url, pattern))
                    if name not in kwargs:
                        continue
                    kwargs[name] = junk
                    probe("GET", _with_kwargs(url, pattern, kwargs))
                    probe("POST", _with_kwargs(url, pattern, kwargs))

    print(f"\njunk requests made: {made}, answered 500: {len(errors)}")
    assert made > 7_000
    assert not errors, f"{len(errors)} of {made} junk requests answered 500:\n" + "\n".join(errors[:50])


def _kwargs_of(url: str, pattern) -> dict:
    from django.urls import resolve

    return resolve(url.split("?")[0]).kwargs


def _with_kwargs(url: str, pattern, kwargs: dict) -> str:
    from django.urls import resolve

    match = resolve(url.split("?")[0])
    path = url.split("?")[0]
    for name, value in match.kwargs.items():
        if name in kwargs and str(value) != kwargs[name] and f"/{value}/" in path:
            path = path.replace(f"/{value}/", f"/{quote(str(kwargs[name]), safe='%')}/", 1)
    return path


# A NUL byte in each part of a request (#21): refused with 400 by customer_ops/bad_input.py
# before any view runs. Each request, with "x" for the NUL, is one the site answers with
# something else (the admin home 200, an unknown admin page 404, the sign-in form re-shown
# 200), so a 400 here is the NUL check's and not "not 500" by luck.
NUL_REQUESTS = {
    "path": ("GET", "/admin/tickets/{}/", None),
    "query string": ("GET", "/admin/?note={}", None),
    "form field": ("POST", "/admin/login/", {"username": "nobody", "password": "wrong", "note": "{}"}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("part", NUL_REQUESTS)
def test_a_nul_byte_is_answered_400(client, superuser, settings, part):
    settings.DEBUG = False
    method, url, form = NUL_REQUESTS[part]
    if method == "GET":
        client.force_login(superuser)
    client.raise_request_exception = False

    def send(filler: str):
        target = url.format(quote(filler))
        if method == "GET":
            return client.get(target)
        return client.post(target, {key: value.format(filler) for key, value in form.items()})

    assert send("x").status_code in (200, 404)
    assert send("\x00").status_code == 400
