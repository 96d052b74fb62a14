"""``{% lean_fieldset %}`` (customer_ops/templatetags/lean_admin.py) renders Django's admin
field set in Jinja2. Its markup is Django's own template's for every field set of every
admin's change or add page (from the admin registry, so a new admin is covered), shown to a
superuser."""

from __future__ import annotations

from pathlib import Path

import django.contrib.admin
import pytest
from django.contrib import admin
from django.template import Context, Template
from django.test.html import parse_html

from customer_ops.templatetags.lean_admin import FIELDSET_CONTEXT, lean_fieldset
from tests.factories import ADMIN_FACTORIES

pytestmark = pytest.mark.django_db

admin.autodiscover()
DJANGOS = Template((Path(django.contrib.admin.__file__).parent / "templates/admin/includes/fieldset.html").read_text())
ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize("model, model_admin", ADMINS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_admin_field_set_has_djangos_markup(model, model_admin, admin_client):
    """A row's change page where a factory makes one, the add page otherwise."""
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    url = f"{base}{ADMIN_FACTORIES[model]().pk}/change/" if model in ADMIN_FACTORIES else f"{base}add/"
    pages = [admin_client.get(url, follow=True)]
    if url.endswith("add/"):
        pages.append(admin_client.post(url, {}))  # the required fields' errors
    forms = [page.context["adminform"] for page in pages if page.context and "adminform" in page.context]
    if not forms:
        pytest.skip(f"no change form at {url} ({pages[0].status_code})")
    compared = 0
    for counter, fieldset in enumerate(fieldset for adminform in forms for fieldset in adminform):
        values = {"fieldset": fieldset, "prefix": "fieldset", "id_prefix": 0, "id_suffix": counter}
        for heading_level in (2, None):
            context = {**values, "heading_level": heading_level}
            assert set(context) == set(FIELDSET_CONTEXT)
            ours = lean_fieldset(Context(context))
            theirs = DJANGOS.render(Context(context))
            assert parse_html(ours) == parse_html(theirs), (model, fieldset.name)
            compared += 1
    assert compared


def test_the_admin_pages_include_the_lean_field_set():
    from django.conf import settings
    from django.template.loader import get_template

    origin = Path(get_template("admin/includes/fieldset.html").origin.name)
    assert origin == Path(settings.BASE_DIR) / "templates/admin/includes/fieldset.html"
    assert "lean_fieldset" in origin.read_text()


def test_the_jinja2_field_set_escapes():
    from customer_ops.templatetags.lean_admin import _fieldset_template

    assert _fieldset_template().template.environment.autoescape is True
