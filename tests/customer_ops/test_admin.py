"""Every registered admin page loads; logs are read-only for everyone; list pages stay
within a bounded number of queries whatever the page size."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from customer_ops.admin_base import ReadOnlyAdminMixin
from customer_ops.write_rules import rules_for
from tests.factories import ADMIN_FACTORIES as FACTORIES

MODELS = sorted((m for m in admin.site._registry if m in FACTORIES), key=lambda m: m._meta.db_table)
LOGS = [m for m in MODELS if rules_for(m) and rules_for(m).append_only]


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.db_table)
def test_list_change_and_search_pages_load(admin_client, model):
    row = FACTORIES[model]()
    assert admin_client.get(_url(model, "changelist")).status_code == 200
    assert admin_client.get(_url(model, "changelist"), {"q": "1"}).status_code == 200
    assert admin_client.get(_url(model, "change", row.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", LOGS, ids=lambda m: m._meta.db_table)
def test_logs_have_no_add_change_or_delete_even_for_superusers(admin_client, model):
    row = FACTORIES[model]()
    assert admin_client.get(_url(model, "add")).status_code == 403
    assert admin_client.get(_url(model, "delete", row.pk)).status_code == 403
    response = admin_client.post(_url(model, "change", row.pk), {})
    assert response.status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.db_table)
def test_list_page_queries_do_not_grow_with_rows(admin_client, model, django_assert_max_num_queries):
    FACTORIES[model].create_batch(3)
    url = _url(model, "changelist")
    admin_client.get(url)  # warm caches (content types, sessions)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    FACTORIES[model].create_batch(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("model", LOGS, ids=lambda m: m._meta.db_table)
@pytest.mark.parametrize("query", [{}, {"q": "1"}], ids=["unfiltered", "searched"])
def test_log_lists_never_count_without_a_limit(admin_client, model, query, django_assert_max_num_queries):
    FACTORIES[model].create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")
    with django_assert_max_num_queries(12) as ctx:
        admin_client.get(_url(model, "changelist"), query)
    table = model._meta.db_table
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and table in q["sql"]]
    # A count is allowed only over a LIMITed subquery (bounded cost), never over the table.
    assert all("LIMIT" in sql.upper() for sql in counts), counts


@pytest.mark.django_db
def test_estimated_paginator_is_exact_for_small_filtered_sets():
    from customer_ops.admin_base import EstimatedCountPaginator
    from customer_ops.models import Order

    customer = FACTORIES[Order]().customer
    FACTORIES[Order].create_batch(4, customer=customer)
    paginator = EstimatedCountPaginator(Order.objects.filter(customer=customer), 2)
    assert paginator.count == 5
    assert paginator.num_pages == 3


@pytest.mark.django_db
def test_lean_action_checkbox_is_djangos_markup(admin_client):
    """The row checkbox written without a template is the one Django's widget renders, so
    the admin's actions.js still finds and submits it."""
    from django.test.html import parse_html

    from customer_ops.models import Order

    order = FACTORIES[Order]()
    ma = admin.site._registry[Order]
    assert parse_html(ma.action_checkbox(order)) == parse_html(admin.ModelAdmin.action_checkbox(ma, order))
    page = admin_client.get(_url(Order, "changelist")).content.decode()
    assert f'value="{order.pk}"' in page and 'name="_selected_action"' in page


PROJECT_PACKAGES = {"tickets", "fraud", "analytics", "compliance", "customer_ops", "backoffice"}
# The admins with the read-only base (every project admin but the staff users', which is Django's).
ADMINS = sorted(
    ((m, a) for m, a in admin.site._registry.items() if isinstance(a, ReadOnlyAdminMixin)),
    key=lambda item: item[0]._meta.label,
)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=lambda x: x._meta.label if hasattr(x, "_meta") else "")
def test_the_writes_an_admin_refuses_are_refused_even_to_a_superuser(admin_client, model, model_admin):
    """``refused_writes`` (customer_ops.admin_base.ReadOnlyAdminMixin) is what a superuser
    gets: the permission methods say no, and the add page, the only one reachable without
    a row, answers 403. The other writes are not refused by the declaration."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from customer_ops.admin_base import WRITES

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="admin")
    for write in WRITES:
        allowed = getattr(model_admin, f"has_{write}_permission")(request)
        if write in model_admin.refused_writes:
            assert allowed is False, write
    if "add" in model_admin.refused_writes:
        try:
            url = _url(model, "add")
        except Exception:  # noqa: BLE001 - no add URL at all (a custom admin): nothing to open
            return
        assert admin_client.get(url).status_code == 403


def test_no_admin_hand_writes_a_refused_write():
    """The refusals are declared once (``refused_writes``), not copied as methods that
    return False: every ``has_add/change/delete_permission`` of a project admin class is the
    base's."""
    import inspect

    copies = []
    for model_admin in admin.site._registry.values():
        for cls in type(model_admin).__mro__:
            if cls.__module__.split(".")[0] not in {
                "tickets",
                "fraud",
                "analytics",
                "compliance",
                "customer_ops",
                "backoffice",
            }:
                continue
            for write in ("add", "change", "delete"):
                method = cls.__dict__.get(f"has_{write}_permission")
                if method and cls is not ReadOnlyAdminMixin:
                    body = inspect.getsource(method).splitlines()[1:]
                    if [line.split("#")[0].strip() for line in body if line.strip()] == ["return False"]:
                        copies.append(f"{cls.__module__}.{cls.__name__}.has_{write}_permission")
    assert not copies, sorted(set(copies))
