"""Personal data is declared once, next to each model, and no table can forget it."""

from customer_ops.personal_data import PersonalData, Scope, declarations

# That every model with a customer declares itself is tested with the erasure
# (tests/compliance/test_erasure.py), which also knows the history tables.


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
