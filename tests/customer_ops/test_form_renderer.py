"""The form renderer (``customer_ops.form_renderer.FormRenderer``) takes Django's Jinja2
templates where they exist and Django's template renderer otherwise. Its markup is the
Django-template renderer's for every form the project defines (found from the class tree
once every admin is loaded) and every admin's form (from the admin registry), so a new
form or admin is covered: blank, bound to nothing (the required fields' errors), and bound
to a tag in every value."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import RequestFactory
from django.test.html import parse_html

from customer_ops.form_renderer import FormRenderer
from customer_ops.roles import Role
from tests.factories import ADMIN_FACTORIES as FACTORIES
from tests.tickets.factories import MacroFactory

pytestmark = pytest.mark.django_db

admin.autodiscover()  # every admin, and with them every app's forms
DJANGO = DjangoTemplates()
PROJECT_APPS = ("analytics", "api", "backoffice", "compliance", "customer_ops", "fraud", "tickets")


def _project_forms() -> list[type]:
    found, todo = [], [forms.Form, forms.ModelForm]
    while todo:
        form = todo.pop()
        todo += form.__subclasses__()
        if form.__module__.split(".")[0] in PROJECT_APPS:
            found.append(form)
    return sorted(set(found), key=lambda form: f"{form.__module__}.{form.__qualname__}")


def _build(form_class, data, renderer):
    required = {  # keyword-only arguments without a default (SaveViewForm's owner ...)
        name: None
        for name, p in inspect.signature(form_class.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    }
    return form_class(data, **required, **({"renderer": renderer} if renderer else {}))


def _same_markup(form_class, data=None):
    form = _build(form_class, data, None)  # one form rendered twice: the same (random) initial values
    ours = str(form)
    form.renderer = DJANGO
    assert parse_html(ours) == parse_html(str(form)), form_class
    assert "<script>" not in ours


def _junk(form_class) -> dict:
    """A tag in every text field (a related field's junk fails in its lookup, either renderer)."""
    fields = _build(form_class, None, None).fields
    text = [name for name, field in fields.items() if type(field) in (forms.CharField, forms.EmailField)]
    return {name: '<script>alert("x")</script>' for name in text}


@pytest.fixture
def choices(make_staff):
    make_staff(Role.AGENT, first_name="Ann <b>", last_name="O'Neil")  # a choice in the agent selects
    MacroFactory(name='Refund & "sorry"')


def test_the_renderer_is_the_setting_and_the_forms_are_found():
    assert isinstance(get_default_renderer(), FormRenderer)
    names = {form.__name__ for form in _project_forms()}
    assert {"ReplyForm", "VersionedForm", "SplitForm", "BulkAssignForm", "TransitionForm"} <= names


@pytest.mark.parametrize("form_class", _project_forms(), ids=lambda form: form.__name__)
def test_every_project_form_has_djangos_markup(form_class, choices):
    if issubclass(form_class, forms.ModelForm) and getattr(form_class._meta, "model", None) is None:
        pytest.skip("an abstract model form: its admins' forms are checked below")
    try:
        str(_build(form_class, None, None))
    except (TypeError, AttributeError) as error:  # needs the object or actor its page passes
        pytest.skip(f"built by its page only: {error}")
    for data in (None, {}, _junk(form_class)):
        _same_markup(form_class, data)


ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize("model, model_admin", ADMINS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_admin_form_has_djangos_markup(model, model_admin, choices):
    superuser = get_user_model().objects.create_superuser("renderer-admin", "r@example.com", "x")
    request = RequestFactory().get("/")
    request.user = superuser
    obj = None
    if not model_admin.has_add_permission(request):  # its change page's form, on a row
        if model not in FACTORIES:
            pytest.skip("no add page and no factory for a row")
        obj = FACTORIES[model]()
    form_class = model_admin.get_form(request, obj, change=obj is not None)
    instance = {"instance": obj} if obj is not None else {}
    for data in (None, {}, _junk(form_class)):
        form = form_class(data, **instance)
        ours = str(form)
        form.renderer = DJANGO
        assert parse_html(ours) == parse_html(str(form)), model


def test_djangos_form_templates_are_loaded_with_their_includes_written_in_place():
    """customer_ops.form_renderer.InliningLoader: no Django form template includes another by
    a literal name once loaded (a widget is one template, not three)."""
    env = get_default_renderer().jinja2.engine.env
    root = Path(forms.__file__).parent / "jinja2"
    names = sorted(str(path.relative_to(root)) for path in root.rglob("*.html"))
    assert "django/forms/widgets/text.html" in names
    for name in names:
        source = env.loader.get_source(env, name)[0]
        assert not re.search(r"""include\s+["']django/forms/""", source), name
    assert env.loader.get_source(env, "django/forms/widgets/text.html")[0].startswith('<input type="{{ widget.type }}"')


def test_djangos_form_templates_write_an_error_list_only_when_it_has_errors():
    """InliningLoader: ``{{ errors }}`` and ``{{ field.errors }}`` behind ``{% if %}`` (an empty
    list rendered to nothing through a template of its own); the markup tests above compare
    forms with and without errors with Django's."""
    env = get_default_renderer().jinja2.engine.env
    root = Path(forms.__file__).parent / "jinja2"
    guarded = 0
    for path in sorted(root.rglob("*.html")):
        source = env.loader.get_source(env, str(path.relative_to(root)))[0]
        for match in re.finditer(r"\{\{\s*((?:field\.)?errors)\s*\}\}", source):
            assert source[: match.start()].endswith(f"{{% if {match[1]} %}}"), (path.name, match[0])
            guarded += 1
    assert guarded >= 8  # div, p, table, ul and field templates' lists
