"""``change_select_related`` (customer_ops.admin_base.BaseAdmin): the relations a change page
shows are read with the object, not by a query each. Derived from the admin registry: every
admin that declares relations is checked on a row its factory makes."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ADMIN_FACTORIES

admin.autodiscover()
DECLARING = sorted(
    (model for model, model_admin in admin.site._registry.items() if getattr(model_admin, "change_select_related", ())),
    key=lambda model: model._meta.label,
)


def test_some_admins_declare_relations():
    assert {m._meta.label for m in DECLARING} >= {"tickets.Dispute", "compliance.DataDeletionRequest"}


def _page_queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.parametrize("model", DECLARING, ids=lambda m: m._meta.label)
def test_the_change_page_reads_its_relations_with_the_object(admin_client, model, monkeypatch):
    """The object's read joins each declared relation, and the page runs fewer queries than
    without the declaration (each relation it shows was a query of its own)."""
    obj = ADMIN_FACTORIES[model]()
    model_admin = admin.site._registry[model]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    admin_client.get(url)  # warm: the session, the permissions
    with_relations = _page_queries(admin_client, url)
    reads = [sql for sql in with_relations if sql.startswith(f'SELECT "{model._meta.db_table}"."')]
    assert reads, "the object was not read"
    for name in model_admin.change_select_related:
        related = model._meta.get_field(name).related_model._meta.db_table
        assert any(f'JOIN "{related}"' in sql for sql in reads), (name, reads)
    monkeypatch.setattr(type(model_admin), "change_select_related", ())
    without = _page_queries(admin_client, url)
    assert len(without) > len(with_relations), (len(without), len(with_relations))
