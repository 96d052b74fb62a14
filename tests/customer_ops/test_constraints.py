"""Bad input is refused by the database (raw SQL) and by model validation (forms), for
every enum and range CHECK constraint the models declare."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction

from tests.assertions import unchanged
from tests.factories import FACTORIES


def _bad_value(model, constraint: models.CheckConstraint):
    """(field name, a value the constraint refuses), from the constraint itself."""
    name = constraint.name
    children = [c for c in constraint.condition.children if isinstance(c, tuple)]
    lookup, value = children[0]
    field_name = lookup.split("__")[0]
    field = model._meta.get_field(field_name)
    if name.endswith("_valid"):
        if isinstance(field, models.JSONField) or hasattr(field, "base_field"):
            return field_name, ["NOT_A_SCOPE"]
        return field_name, "NOT_A_VALUE"
    if name.endswith("_range"):
        ops = dict(children)
        if f"{field_name}__gte" in ops:
            return field_name, ops[f"{field_name}__gte"] - 1
        return field_name, ops[f"{field_name}__lte"] + 1
    return None


CASES = [
    (m, c)
    for m in FACTORIES
    for c in m._meta.constraints
    if isinstance(c, models.CheckConstraint) and (c.name.endswith("_valid") or c.name.endswith("_range"))
]


def _id(case):
    return case.name if isinstance(case, models.CheckConstraint) else case._meta.db_table


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "constraint"), CASES, ids=_id)
def test_database_refuses_bad_value(model, constraint):
    """A raw INSERT copying a valid row but with the bad value fails on the named CHECK."""
    row = FACTORIES[model]()
    field_name, bad = _bad_value(model, constraint)
    target = model._meta.get_field(field_name).column
    columns = [
        f.column for f in model._meta.concrete_fields if not f.primary_key and not (f.unique and f.has_db_default())
    ]
    select = ", ".join("%s" if c == target else c for c in columns)
    table = model._meta.db_table
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table} WHERE id = %s"
    with (
        unchanged(model),
        pytest.raises(IntegrityError, match=constraint.name),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [bad, row.pk])


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "constraint"), CASES, ids=_id)
def test_validation_refuses_bad_value_with_a_clear_message(model, constraint):
    row = FACTORIES[model]()
    field_name, bad = _bad_value(model, constraint)
    setattr(row, field_name, bad)
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert field_name in caught.value.message_dict or any(field_name in m for m in caught.value.messages), (
        caught.value.message_dict
    )
