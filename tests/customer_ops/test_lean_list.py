"""``{% lean_result_list %}`` and ``{% lean_list_filter %}`` (customer_ops/templatetags/lean_admin.py)
render a change list's table and its filters by Jinja2. Their markup is Django's own
templates' on every registered admin (from the admin registry, so a new admin, column or
filter is covered), sorted and unsorted, with each filter's every choice selected in turn,
and with markup in the texts."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl

import django.contrib.admin
import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import admin_list_filter
from django.template import Context, Template, TemplateDoesNotExist
from django.template.loader import get_template
from django.test import RequestFactory
from django.test.html import parse_html
from django.urls import resolve, reverse
from django.utils.safestring import mark_safe

from customer_ops import admin_base, admin_rows
from customer_ops.roles import Role
from customer_ops.templatetags.lean_admin import lean_list_filter, lean_result_list
from tests.factories import ADMIN_FACTORIES

admin.autodiscover()
DJANGO_TEMPLATES = Path(django.contrib.admin.__file__).parent / "templates/admin"
DJANGOS_RESULTS = Template((DJANGO_TEMPLATES / "change_list_results.html").read_text())
DJANGOS_FILTER = Template((DJANGO_TEMPLATES / "filter.html").read_text())
REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
MODELS = sorted((m for m in admin.site._registry if m in ADMIN_FACTORIES), key=lambda m: m._meta.label)


def _changelist(model, user, **params):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    request = RequestFactory().get(url, params)
    request.user = user
    request.resolver_match = resolve(url)
    cl = admin.site._registry[model].get_changelist_instance(request)
    cl.formset = None  # as changelist_view sets it for a list without list_editable
    return cl


def _same(ours: str, theirs: str) -> None:
    assert parse_html(ours) == parse_html(theirs)


def _djangos_results(cl) -> str:
    return DJANGOS_RESULTS.render(Context(admin_rows.result_list(cl)))


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_change_list_table_has_djangos_markup(superuser, model):
    ADMIN_FACTORIES[model].create_batch(2)
    model_admin = admin.site._registry[model]
    cl = _changelist(model, superuser)
    assert cl.result_list, "no row to compare"
    _same(lean_result_list(cl), _djangos_results(cl))
    # Sorted by two columns where the list has two sortable ones: the sort options and priorities.
    sortable = [i for i, header in enumerate(admin_rows.result_list(cl)["result_headers"]) if header["sortable"]]
    if len(sortable) >= 2 and not model_admin.sortable_by == ():
        cl = _changelist(model, superuser, o=f"{sortable[0]}.-{sortable[1]}")
        assert "sortpriority" in lean_result_list(cl)
        _same(lean_result_list(cl), _djangos_results(cl))


@pytest.mark.django_db
def test_an_empty_change_list_has_djangos_markup(superuser):
    from tickets.models import Ticket

    cl = _changelist(Ticket, superuser)
    assert not cl.result_list
    _same(lean_result_list(cl), _djangos_results(cl))


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_list_filter_has_djangos_markup_whichever_choice_is_selected(superuser, model):
    ADMIN_FACTORIES[model]()
    cl = _changelist(model, superuser)
    compared = 0
    for spec in cl.filter_specs:
        _same(lean_list_filter(cl, spec), admin_list_filter(cl, spec))
        # Each choice's own page, where that choice is the selected one.
        for choice in list(spec.choices(cl))[:4]:
            if "query_string" not in choice:  # a filter of its own template (an input box)
                continue
            params = dict(parse_qsl(choice["query_string"].lstrip("?")))
            try:
                selected = _changelist(model, superuser, **params)
            except Exception:  # noqa: BLE001  (a choice the list refuses as a parameter: nothing to compare)
                continue
            for other in selected.filter_specs:
                _same(lean_list_filter(selected, other), admin_list_filter(selected, other))
        compared += 1
    assert compared == len(cl.filter_specs)


def test_filter_texts_are_escaped_as_django_escapes_them():
    choices = [
        {"selected": True, "query_string": '?q=<b>&name=Zoë "x"', "display": "<script>alert(1)</script>"},
        {"selected": False, "query_string": "?", "display": mark_safe("<em>kept</em>")},
    ]
    spec = SimpleNamespace(template="admin/filter.html", title="<i>A & B</i>", choices=lambda cl: iter(choices))
    ours = lean_list_filter(None, spec)
    assert "<script>" not in ours and "&lt;script&gt;" in ours and "<em>kept</em>" in ours
    assert "<i>" not in ours
    theirs = DJANGOS_FILTER.render(Context({"title": spec.title, "choices": choices, "spec": spec}))
    _same(ours, theirs)


@pytest.mark.django_db
def test_a_filter_with_its_own_template_keeps_it(superuser):
    """compliance's id filters are typed into a box (their own template): Django's tag renders them."""
    from compliance.admin import InputFilter

    owners = [m for m, a in admin.site._registry.items() if any(_is_input(f, InputFilter) for f in a.list_filter)]
    assert owners, "no admin with a filter of its own template"
    for model in owners:
        cl = _changelist(model, superuser)
        for spec in (s for s in cl.filter_specs if isinstance(s, InputFilter)):
            assert lean_list_filter(cl, spec) == admin_list_filter(cl, spec)
            assert "<input" in lean_list_filter(cl, spec)


def _is_input(entry, base) -> bool:
    return isinstance(entry, type) and issubclass(entry, base)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_no_admin_has_its_own_results_template(model):
    """Django's tag would take ``admin/<app>/<model>/change_list_results.html``; the lean one
    does not look for it, so none may exist."""
    opts = model._meta
    for name in (f"admin/{opts.app_label}/{opts.model_name}/", f"admin/{opts.app_label}/", "admin/"):
        try:
            origin = Path(get_template(f"{name}change_list_results.html").origin.name)
        except TemplateDoesNotExist:
            continue
        assert origin.is_relative_to(DJANGO_TEMPLATES.parent.parent), origin


@pytest.mark.django_db
def test_the_list_pages_render_the_filters_through_the_lean_tag(admin_client, monkeypatch):
    from customer_ops.templatetags import lean_admin
    from tickets.models import Ticket

    ADMIN_FACTORIES[Ticket]()
    rendered = []
    real = lean_admin._jinja2
    monkeypatch.setattr(lean_admin, "_jinja2", lambda name: rendered.append(name) or real(name))
    page = admin_client.get(reverse("admin:tickets_ticket_changelist"))
    assert page.status_code == 200
    filters = len(page.context["cl"].filter_specs)
    assert rendered.count("customer_ops/filter.html") == filters > 3
    assert rendered.count("customer_ops/change_list_results.html") == 1
    assert page.content.decode().count("<details data-filter-title=") == filters


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: getattr(r, "key", "no role"))
def test_the_app_list_has_djangos_markup_for_every_role(make_staff, superuser, role):
    """Every role's "All tables" on its home page (and a superuser's, and a user with no
    table), on the home page and on a model's own page (the current-app marks)."""
    from customer_ops.templatetags.lean_admin import lean_app_list

    djangos = Template((DJANGO_TEMPLATES / "app_list.html").read_text())
    user = make_staff(role) if role is not None else superuser
    for path in ("/admin/", "/admin/tickets/ticket/", "/admin/compliance/"):
        request = RequestFactory().get(path)
        request.user = user
        app_list = admin.site.get_app_list(request)
        for show_changelinks in (True, False):
            values = {"request": request, "app_list": app_list, "show_changelinks": show_changelinks}
            ours = lean_app_list(Context(values), app_list, show_changelinks)
            _same(ours, djangos.render(Context(values)))
    if role is None:
        assert "current-app" in ours and "addlink" in ours


@pytest.mark.django_db
def test_an_empty_app_list_has_djangos_markup():
    from customer_ops.templatetags.lean_admin import lean_app_list

    djangos = Template((DJANGO_TEMPLATES / "app_list.html").read_text())
    request = RequestFactory().get("/admin/")
    ours = lean_app_list(Context({"request": request}), [], True)
    _same(ours, djangos.render(Context({"request": request, "app_list": [], "show_changelinks": True})))
    assert "permission" in ours


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_the_pagination_compares_page_links_with_a_plain_ellipsis(model):
    """Each admin's paginator: its "…" translated once (each page link is compared with it),
    and the elided page range Django's pagination renders is unchanged."""
    from django.core.paginator import Paginator

    model_admin = admin.site._registry[model]
    if not isinstance(model_admin, admin_base.BaseAdmin):
        pytest.skip("not a project admin")
    paginator = model_admin.get_paginator(RequestFactory().get("/"), model._default_manager.none(), 10)
    assert type(paginator.ELLIPSIS) is str and paginator.ELLIPSIS == str(Paginator.ELLIPSIS)
    djangos = Paginator(range(1000), 10)
    paginator.count = djangos.count  # a thousand rows, without making them
    assert [str(n) for n in paginator.get_elided_page_range(50)] == [str(n) for n in djangos.get_elided_page_range(50)]


def test_the_app_list_cache_key_holds_every_value_the_template_reads():
    """The rendered app list is kept per key: a value of an app or a model that the template
    reads and the key leaves out would serve one user's list to another."""
    from customer_ops.templatetags import lean_admin

    source = (Path(lean_admin.__file__).parents[1] / "jinja2/customer_ops/app_list.html").read_text()
    assert set(re.findall(r"\bapp\.(\w+)", source)) - {"models"} <= set(lean_admin._APP_KEYS)
    assert set(re.findall(r"\bmodel\.(\w+)", source)) <= set(lean_admin._MODEL_KEYS)


@pytest.mark.django_db
def test_the_kept_app_list_follows_the_users_permissions_and_language(make_staff):
    """Two renders of one role's list are one; a permission taken away or another language
    gives another list at once (nothing kept across what the key holds)."""
    from django.contrib.auth.models import Permission
    from django.utils import translation

    from customer_ops.templatetags.lean_admin import lean_app_list

    user = make_staff(Role.COMPLIANCE)
    request = RequestFactory().get("/admin/")
    request.user = user

    def shown():
        user_ = type(user).objects.get(pk=user.pk)  # fresh permission caches
        request.user = user_
        app_list = admin.site.get_app_list(request)
        return lean_app_list(Context({"request": request}), app_list, True)

    before = shown()
    assert shown() == before
    assert "model-datadeletionrequest" in before and ">Add<" in before
    with translation.override("de"):
        assert ">Hinzufügen<" in shown()
    group = user.groups.get()
    group.permissions.remove(*Permission.objects.filter(codename__endswith="_datadeletionrequest"))
    assert "model-datadeletionrequest" not in shown()
