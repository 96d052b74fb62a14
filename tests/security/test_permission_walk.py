"""Least privilege, tested: every persona × every URL pattern registered on the admin site.

The walk enumerates ``admin.site.get_urls()`` and each ModelAdmin's ``get_urls()`` (list,
add, change, delete, history, past versions, every custom view, export and import), opens
each URL as each persona (the six roles, staff without a role, a superuser) and compares
the status with ``expectations.py``. Workflow URLs are also POSTed empty: a refused persona
must get 403 before any validation, an allowed one a form error (nothing is written).
A URL pattern without an expectation fails ``test_every_admin_url_has_an_expectation``.

Analysts: no page they may open (and no export) shows the customer's name, email or phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, reverse

from customer_ops.models import Customer, Order
from tests.assertions import assert_page_shows, unchanged
from tests.security import expectations as ex
from tests.security.conftest import PERSONAL_VALUES, PERSONAS, SECRET_ADDRESS, persona_user

SITE_PATTERN_KEYS = {"catch_all_view": "catch_all"}
REVEAL_FIELD = {"customer": "email", "order": "delivery_address", "activitylog": "ip_address"}
QUERY = {"autocomplete": "?app_label=customer_ops&model_name=order&field_name=customer&term="}


@dataclass(frozen=True)
class AdminUrl:
    key: str
    pattern: URLPattern
    model: type | None = None


def admin_patterns() -> list[AdminUrl]:
    """Every URL pattern of the admin site, keyed by its name (or, unnamed, its route)."""
    found = []
    resolvers = 0
    for p in admin.site.get_urls():
        if isinstance(p, URLResolver):
            resolvers += 1
            continue
        key = p.name or SITE_PATTERN_KEYS.get(getattr(p.callback, "__name__", ""), str(p.pattern))
        found.append(AdminUrl(key, p))
    assert resolvers == len(admin.site._registry)  # one include per registered model, walked below
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for p in model_admin.get_urls():
            assert isinstance(p, URLPattern), p
            key = p.name or f"{opts.app_label}/{opts.model_name}/{p.pattern}"
            found.append(AdminUrl(key, p, model))
    return found


def test_every_admin_url_has_an_expectation():
    keys = {u.key for u in admin_patterns()}
    table = set(ex.expectations())
    assert not keys - table, f"admin URLs without an expectation in tests/security/expectations.py: {keys - table}"
    assert not table - keys, f"expectations for URLs that no longer exist: {table - keys}"
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered == set(ex.MODEL_RIGHTS)


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _urls_of(u: AdminUrl, objects: dict) -> list[tuple[str, str]]:
    """(url, a label for messages) to request for one pattern; app_list yields one per app."""
    customer = objects[Customer]
    if u.model is None:
        if u.key == "app_list":
            return [(reverse("admin:app_list", args=[app]), f"app_list:{app}") for app in _apps()]
        if u.key == "catch_all":
            return [("/admin/no-such-page/", u.key)]
        if u.key == "view_on_site":
            ct = ContentType.objects.get_for_model(Customer)
            return [(reverse("admin:view_on_site", args=[ct.pk, customer.pk]), u.key)]
        return [(reverse(f"admin:{u.key}") + QUERY.get(u.key, ""), u.key)]
    obj = objects[u.model]
    opts = u.model._meta
    values = {
        "object_id": obj.pk,
        "pk": obj.pk,
        "id": obj.pk,
        "view_id": obj.pk,  # a saved queue view: none is the persona's
        "customer_id": customer.pk,
        "field": REVEAL_FIELD.get(opts.model_name),
        "action": "investigate",
    }
    if u.pattern.name is None:  # the old "<id>/" redirect
        route = str(u.pattern.pattern).replace("<path:object_id>", str(obj.pk))
        return [(f"/admin/{opts.app_label}/{opts.model_name}/{route}", u.key)]
    if u.key.endswith("_simple_history"):
        version = obj.history.order_by("history_id").first()
        return [(reverse(f"admin:{u.key}", args=[obj.pk, version.history_id]), u.key)]
    params = [p for p in u.pattern.pattern.converters if p not in u.pattern.default_args]
    return [(reverse(f"admin:{u.key}", kwargs={p: values[p] for p in params}), u.key)]


def _apps() -> list[str]:
    return sorted({m._meta.app_label for m in admin.site._registry})


def _app_rule(app: str) -> ex.Rule:
    viewers = set()
    for label, r in ex.MODEL_RIGHTS.items():
        if label.startswith(f"{app}."):
            viewers |= r.view | r.change
    return ex.Rule(frozenset(viewers), 200, 404)


# What the strict Content-Security-Policy would block (tests/e2e/test_csp.py loads pages in Chromium).
INLINE_CODE = [
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),  # inline script
    re.compile(r"<[a-z][^>]*\sstyle=[\"']", re.I),  # style attribute
    re.compile(r"<[a-z][^>]*\son[a-z]+=[\"']", re.I),  # event handler attribute
    re.compile(r"href=[\"']javascript:", re.I),
]


def _inline_code(response) -> list[str]:
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return []
    body = response.content.decode(errors="replace")
    return [f"inline code {m.group(0)[:80]!r}" for pattern in INLINE_CODE for m in pattern.finditer(body)]


class _FormNesting(HTMLParser):
    """Finds a <form> opened inside another: browsers drop the inner tag, so its button
    would submit the outer form (a change form) to the wrong view."""

    def __init__(self):
        super().__init__()
        self.depth, self.nested = 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            if self.depth:
                self.nested.append(dict(attrs).get("action", ""))
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "form" and self.depth:
            self.depth -= 1


def _nested_forms(response) -> list[str]:
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return []
    parser = _FormNesting()
    parser.feed(response.content.decode(errors="replace"))
    return [f"a form (action {action!r}) nested inside another" for action in parser.nested]


def _leaks(response) -> list[str]:
    # Exports stream (CSV): read them too, or an analyst's export would never be checked.
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode(errors="replace")
    return [value for value in PERSONAL_VALUES if value in body]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_walk(client, walk_objects, persona):
    client.force_login(persona_user(persona))
    client.raise_request_exception = False  # a 500 is reported as a wrong status, not a crash
    table = ex.expectations()
    wrong, leaks, walked = [], [], 0
    for u in admin_patterns():
        for url, label in _urls_of(u, walk_objects):
            methods = {"GET": _app_rule(label.split(":")[1])} if u.key == "app_list" else table[u.key]
            for method, rule in methods.items():
                expected = rule.status(persona)
                if method == "POST" and expected == 403:
                    # Refused before any validation, and nothing of the walk's rows written.
                    with unchanged(*walk_objects.values()):
                        response = client.post(url, {})
                else:
                    response = client.get(url) if method == "GET" else client.post(url, {})
                walked += 1
                if response.status_code != expected:
                    wrong.append(f"{method} {url} ({label}): {response.status_code}, expected {expected}")
                if persona == ex.N and response.status_code == 200 and not u.key.endswith("_reveal"):
                    leaks += [f"{method} {url}: {value!r}" for value in _leaks(response)]
                if response.status_code == 200:
                    wrong += [f"{method} {url}: {found}" for found in _inline_code(response)]
                    wrong += [f"{method} {url}: {found}" for found in _nested_forms(response)]
    assert walked > 250
    assert not wrong, f"{persona}: {len(wrong)} unexpected responses:\n" + "\n".join(wrong)
    assert not leaks, "personal data shown to an analyst:\n" + "\n".join(leaks)


# --- admin actions (change-list POST with action=...) ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_actions(client, walk_objects, persona):
    user = persona_user(persona)
    client.force_login(user)
    client.raise_request_exception = False
    request = RequestFactory().get("/admin/")
    request.user = user
    wrong = []
    for model, model_admin in admin.site._registry.items():
        label = _label(model)
        offered = set(model_admin.get_actions(request)) if model_admin.has_view_or_change_permission(request) else set()
        expected = ex.expected_actions(label, persona)
        if offered != expected:
            wrong.append(f"{label}: offered {sorted(offered)}, expected {sorted(expected)}")
        names = set(ex.ACTIONS.get(label, {})) | {"delete_selected"}
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in names:
            data = {"action": name, "index": "0", admin.helpers.ACTION_CHECKBOX_NAME: [walk_objects[model].pk]}
            response = client.post(changelist, data)
            ran = _action_ran(response, name)
            if persona not in ex.MODEL_RIGHTS[label].view | ex.MODEL_RIGHTS[label].change:
                if response.status_code != 403:
                    wrong.append(f"{label} {name}: {response.status_code}, expected 403")
            elif ran != (name in expected):
                wrong.append(f"{label} {name}: {'ran' if ran else 'refused'} ({response.status_code})")
    assert not wrong, f"{persona}:\n" + "\n".join(wrong)


def _action_ran(response, name: str) -> bool:
    """An action ran if it showed its own page (a confirmation, a "cannot delete" page or a
    form carrying the action's name) or said what it did; an action the user may not use is
    "No action selected" (or, with no actions at all, the change list itself)."""
    if response.status_code == 302:
        said = [str(m) for m in response.wsgi_request._messages._queued_messages]  # this request's only
        return bool(said) and not any("No action selected" in m for m in said)
    if response.status_code == 200:
        body = response.content.decode()
        return f'value="{name}"' in body and 'id="changelist"' not in body or "Cannot delete" in body
    return False


# --- analysts: masked on the customer and order pages, and in every export they may run -------


@pytest.mark.django_db
def test_analyst_sees_customers_and_orders_masked(client, walk_objects):
    client.force_login(persona_user(ex.N))
    customer, order = walk_objects[Customer], walk_objects[Order]
    pages = [
        reverse("admin:customer_ops_customer_changelist"),
        reverse("admin:customer_ops_customer_change", args=[customer.pk]),
        reverse("admin:customer_ops_order_changelist"),
        reverse("admin:customer_ops_order_change", args=[order.pk]),
    ]
    shown = [["Z•••", "z•••@•••"], ["Z•••", "z•••@•••"], [order.order_number], [order.order_number, "1••• Q•••"]]
    for url, present in zip(pages, shown, strict=True):  # masked, not missing
        assert_page_shows(client.get(url), present=present, absent=[*PERSONAL_VALUES, SECRET_ADDRESS])


@pytest.mark.django_db
def test_analyst_exports_hold_no_personal_data(client, walk_objects):
    client.force_login(persona_user(ex.N))
    exports = [
        name for name, rules in ex.CUSTOM.items() if name.endswith("_export") and rules["GET"].status(ex.N) == 200
    ]
    assert len(exports) == 5
    for name in exports:
        url = reverse(f"admin:{name}")
        form = client.get(url).context["form"]
        fields = {n: "on" for n, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
        response = client.post(url, {"format": "0", "resource": "0", **fields})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), name
        assert not _leaks(response), name


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client, walk_objects):
    login = reverse("admin:login")
    for u in admin_patterns():
        for url, label in _urls_of(u, walk_objects):
            response = client.get(url)
            if u.key == "login":
                assert response.status_code == 200
            elif u.key == "logout":  # back to the index, which asks for a login
                assert response.status_code == 302 and response["Location"] == reverse("admin:index")
            else:
                assert response.status_code == 302 and response["Location"].startswith(login), label
