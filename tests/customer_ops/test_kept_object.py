"""``BaseAdmin.get_object`` reads a change page's object by a statement compiled once per
process where the admin keeps Django's ``get_queryset``. Derived from the admin registry:
on a row each factory makes, the object read so is Django's (the same values, the same
relations read with it), and an admin with its own ``get_queryset`` keeps Django's path."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from tests.factories import ADMIN_FACTORIES

admin.autodiscover()
ADMINS = sorted(
    ((model, model_admin) for model, model_admin in admin.site._registry.items() if model in ADMIN_FACTORIES),
    key=lambda pair: pair[0]._meta.label,
)
OWN_QUERYSET = {
    model._meta.label
    for model, model_admin in admin.site._registry.items()
    if type(model_admin).get_queryset is not admin.ModelAdmin.get_queryset
}


def _djangos(model_admin, request, pk):
    """Django's get_object (with the admin's change_select_related), for comparison."""
    queryset = model_admin.get_queryset(request)
    if model_admin.change_select_related:
        queryset = queryset.select_related(*model_admin.change_select_related)
    return queryset.get(pk=pk)


def _loaded(obj, seen=()) -> dict:
    """What a read put on an instance: its columns and the relations read with it (a
    one-to-one's reverse side points back: each instance once)."""
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    seen = (*seen, id(obj))
    related = {
        name: None if rel is None else "seen" if id(rel) in seen else _loaded(rel, seen)
        for name, rel in obj._state.fields_cache.items()
    }
    return {"model": type(obj), "values": values, "related": related}


def test_the_admins_with_their_own_queryset_are_known():
    assert {"tickets.Ticket", "tickets.Dispute", "fraud.FraudAlert"} <= OWN_QUERYSET


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=lambda v: getattr(v, "_meta", None) and v._meta.label)
def test_the_object_is_djangos_and_read_by_the_kept_statement(model, model_admin, superuser, monkeypatch):
    obj = ADMIN_FACTORIES[model]()
    request = _request(superuser)
    pk_field = model._meta.pk
    kept = model_admin._object_statement(pk_field, obj.pk)
    if model._meta.label in OWN_QUERYSET or type(obj.pk) is not int:
        assert kept is None
        return
    assert kept is not None
    fetched = []
    original = kept.fetch
    monkeypatch.setattr(kept, "fetch", lambda **values: fetched.append(values) or original(**values))
    with CaptureQueriesContext(connection) as queries:
        read = model_admin.get_object(_request(superuser), str(obj.pk))
    assert fetched == [{"pk": obj.pk}] and len(queries) == 1
    assert type(read) is model and _loaded(read) == _loaded(_djangos(model_admin, request, obj.pk))
    # Keys no row has, or that are no key: no object, no error.
    for junk in ("0", "-1", str(2**63), str(-(2**63) - 1), "abc", "1.5", ""):
        assert model_admin.get_object(_request(superuser), junk) is None, junk


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request
