"""``list_deferred`` (customer_ops.admin_base): a list page reads its rows without the columns
no cell shows, shows exactly what it showed with them, and its queryset (exports, actions) still reads them all.
Every admin that declares it is covered (derived from the admin registry)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.test import RequestFactory
from django.urls import resolve, reverse

from customer_ops import admin_rows
from fraud import services
from tests.factories import ADMIN_FACTORIES as FACTORIES

DECLARING = sorted(
    (model for model, model_admin in admin.site._registry.items() if getattr(model_admin, "list_deferred", ())),
    key=lambda m: m._meta.db_table,
)


def _field(model, path: str):
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _changelist(model, user):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    request = RequestFactory().get(url)
    request.user = user
    request.resolver_match = resolve(url)
    cl = admin.site._registry[model].get_changelist_instance(request)
    cl.formset = None
    return cl


def test_some_admin_declares_deferred_columns():
    assert DECLARING, "the alert queue declares list_deferred"


@pytest.mark.parametrize("model", DECLARING, ids=lambda m: m._meta.db_table)
def test_every_deferred_name_is_a_column_of_the_model_or_a_listed_relation(model):
    model_admin = admin.site._registry[model]
    for path in model_admin.list_deferred:
        try:
            field = _field(model, path)
        except FieldDoesNotExist:
            pytest.fail(f"{model.__name__}.list_deferred names {path!r}, which is no field")
        assert field.concrete, path
        relation = path.rpartition("__")[0]
        assert not relation or relation in model_admin.list_select_related, path


@pytest.mark.django_db
@pytest.mark.parametrize("model", DECLARING, ids=lambda m: m._meta.db_table)
def test_the_page_is_read_without_them_and_shows_the_same_rows(
    superuser, model, monkeypatch, django_assert_num_queries
):
    rows = FACTORIES[model].create_batch(3)
    if model._meta.db_table == "customer_fraud_alerts":
        services.alert_claim(alert=rows[0], actor=superuser)  # a held row: the "Held by" cell
    model_admin = admin.site._registry[model]
    cl = _changelist(model, superuser)
    with django_assert_num_queries(1):  # the page's one read, its cells' reads none
        lean = [row for (row,) in admin_rows.RowRenderer(cl).rows()]
    own = {_field(model, p).attname for p in model_admin.list_deferred if "__" not in p}
    assert all(own <= row.get_deferred_fields() for row in cl.result_list)

    monkeypatch.setattr(model_admin, "list_deferred", ())
    assert lean == [row for (row,) in admin_rows.RowRenderer(_changelist(model, superuser)).rows()]


@pytest.mark.django_db
@pytest.mark.parametrize("model", DECLARING, ids=lambda m: m._meta.db_table)
def test_the_changelists_queryset_keeps_every_column(superuser, model):
    """What an export (import-export's get_export_queryset) and the actions read."""
    FACTORIES[model].create_batch(2)
    assert all(not row.get_deferred_fields() for row in _changelist(model, superuser).queryset)
