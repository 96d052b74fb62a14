"""``BaseAdmin.get_object`` reads a change page's object by a statement compiled once per
process where the admin keeps Django's ``get_queryset`` or declares what its own depends on
(``object_query_key``). Derived from the admin registry, for the superuser and every role:
on a row each factory makes, the object read so is what Django's path reads (the same
values, the same relations read with it), and an admin with its own ``get_queryset`` and no
declaration keeps Django's path."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from customer_ops.admin_base import BaseAdmin
from customer_ops.roles import Role
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
# Admins with their own get_queryset that say what it depends on (object_query_key).
DECLARED = {
    model._meta.label
    for model, model_admin in admin.site._registry.items()
    if getattr(type(model_admin), "object_query_key", BaseAdmin.object_query_key) is not BaseAdmin.object_query_key
}


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
    assert DECLARED == {"tickets.Dispute", "fraud.FraudAlert"}


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=lambda v: getattr(v, "_meta", None) and v._meta.label)
def test_the_object_is_djangos_and_read_by_the_kept_statement(model, model_admin, superuser, make_staff, monkeypatch):
    """For the superuser and every role: an admin with Django's get_queryset, or one that
    declares what its own depends on, reads the object by its kept statement, and it is the
    object Django's path reads (with the same columns deferred for the role)."""
    obj = ADMIN_FACTORIES[model]()
    for user in (superuser, *(make_staff(role) for role in Role)):
        request = _request(user)
        kept = model_admin._object_statement(request, model._meta.pk, obj.pk)
        if (model._meta.label in OWN_QUERYSET and model._meta.label not in DECLARED) or type(obj.pk) is not int:
            assert kept is None
            continue
        assert kept is not None
        fetched = []

        def counted(original=kept.fetch, fetched=fetched, **values):
            fetched.append(values)
            return original(**values)

        with monkeypatch.context() as patch, CaptureQueriesContext(connection) as queries:
            patch.setattr(kept, "fetch", counted)
            read = model_admin.get_object(_request(user), str(obj.pk))
        reads = [q for q in queries if q["sql"].startswith(f'SELECT "{model._meta.db_table}".')]
        assert fetched == [{"pk": obj.pk}] and len(reads) == 1  # (and the user's permissions, once)
        with (
            monkeypatch.context() as patch
        ):  # Django's path: the admin's queryset, then its get_object's own steps (masking)
            patch.setattr(model_admin, "_object_statement", lambda *args: None)
            djangos = model_admin.get_object(_request(user), str(obj.pk))
        assert type(read) is model and _loaded(read) == _loaded(djangos), user
    # Keys no row has, or that are no key: no object, no error.
    for junk in ("0", "-1", str(2**63), str(-(2**63) - 1), "abc", "1.5", ""):
        assert model_admin.get_object(_request(superuser), junk) is None, junk


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request
