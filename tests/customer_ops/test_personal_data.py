"""Personal data is declared once, next to each model, and no table can forget it."""

from django.apps import apps
from django.db import models

from customer_ops.models import Customer
from customer_ops.personal_data import PersonalData, Scope, declarations


def _has_customer(model) -> bool:
    return model is Customer or any(
        isinstance(f, models.ForeignKey) and f.related_model is Customer for f in model._meta.concrete_fields
    )


def test_every_model_holding_a_customer_declares_its_personal_data():
    missing = [
        m._meta.label
        for m in apps.get_models()
        if _has_customer(m)
        and not m._meta.proxy
        and not m.__name__.startswith("Historical")
        and m not in declarations()
    ]
    assert missing == []


def test_declared_fields_exist_with_a_known_scope():
    for model, decl in declarations().items():
        assert isinstance(decl, PersonalData)
        for name, scope in decl.fields.items():
            model._meta.get_field(name)
            assert scope in Scope and scope != Scope.ALL
        # The customer path must resolve, so erasure and export can find a customer's rows.
        model.objects.filter(**{decl.customer_path: 1}).query.__str__()


def test_rows_kept_whole_say_why():
    for model, decl in declarations().items():
        if not decl.fields:
            assert decl.keep_rows, f"{model._meta.label} declares no personal column and no reason to keep rows"
