"""``BaseAdmin.get_form`` keeps each admin's form class per what Django builds it from.
Derived from the admin registry, for the superuser and every role, on a row each factory
makes: the kept class is reused, and its form is Django's (the same fields, the same
markup: widgets, related-object links, choices) and it keeps no callback bound to the
request that built it; a user with other permissions gets another class; two forms of one
class share no field."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.test import RequestFactory

from customer_ops.admin_base import BaseAdmin
from customer_ops.roles import Role
from tests.factories import ADMIN_FACTORIES

admin.autodiscover()
ADMINS = sorted(
    (
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model in ADMIN_FACTORIES and isinstance(model_admin, BaseAdmin)
    ),
    key=lambda pair: pair[0]._meta.label,
)


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=lambda v: getattr(v, "_meta", None) and v._meta.label)
def test_the_kept_form_is_djangos(model, model_admin, superuser, make_staff):
    obj = ADMIN_FACTORIES[model]()
    shown = 0
    for user in (superuser, *(make_staff(role) for role in Role)):
        request = _request(user)
        if not model_admin.has_view_or_change_permission(request, obj):
            continue
        shown += 1
        fields = flatten_fieldsets(model_admin.get_fieldsets(request, obj))
        kept = model_admin.get_form(request, obj, change=True, fields=fields)
        assert model_admin.get_form(_request(user), obj, change=True, fields=fields) is kept
        assert kept._meta.formfield_callback is None and kept.Meta.formfield_callback is None  # no request kept
        djangos = admin.ModelAdmin.get_form(model_admin, _request(user), obj, change=True, fields=fields)
        ours, theirs = kept(instance=obj), djangos(instance=obj)
        assert list(ours.fields) == list(theirs.fields), user
        assert str(ours) == str(theirs), user
        again = kept(instance=obj)
        for name, field in ours.fields.items():
            assert again.fields[name] is not field
            if hasattr(field, "queryset"):
                assert again.fields[name].queryset is not field.queryset
    assert shown


@pytest.mark.django_db
def test_users_with_other_permissions_get_another_form(superuser, make_staff):
    from tickets.models import Dispute

    model_admin = admin.site._registry[Dispute]
    obj = ADMIN_FACTORIES[Dispute]()
    legal, lead = make_staff(Role.LEGAL), make_staff(Role.LEAD)
    forms = {user.pk: model_admin.get_form(_request(user), obj, change=True) for user in (superuser, legal, lead)}
    assert len({id(form) for form in forms.values()}) == 3
