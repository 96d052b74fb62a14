"""The console's own forms (``customer_ops.form_renderer.ConsoleForm``) render through
Django's Jinja2 form renderer. Their markup is the Django-template renderer's, for every
such form (found from the class tree once every admin is loaded, so a new form is covered):
blank, bound to nothing (the required fields' errors), and bound to a tag in every value."""

from __future__ import annotations

import inspect

import pytest
from django.contrib import admin
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

from customer_ops.form_renderer import RENDERER, ConsoleForm
from customer_ops.roles import Role
from tests.tickets.factories import MacroFactory

pytestmark = pytest.mark.django_db

admin.autodiscover()  # every admin, and with them every app's forms
DJANGO = DjangoTemplates()


def _console_forms() -> list[type]:
    found, todo = [], list(ConsoleForm.__subclasses__())
    while todo:
        form = todo.pop()
        found.append(form)
        todo += form.__subclasses__()
    return sorted(found, key=lambda form: f"{form.__module__}.{form.__qualname__}")


def _build(form_class, data, renderer):
    required = {  # keyword-only arguments without a default (SaveViewForm's owner)
        name: None
        for name, p in inspect.signature(form_class.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    }
    kwargs = {"renderer": renderer} if renderer is not None else {}
    return form_class(data, **required, **kwargs)


def test_the_console_forms_are_found():
    names = {form.__name__ for form in _console_forms()}
    assert {"ReplyForm", "VersionedForm", "ResolveForm", "SplitForm", "BulkAssignForm"} <= names


@pytest.mark.parametrize("form_class", _console_forms(), ids=lambda form: form.__name__)
def test_markup_is_the_django_renderers(form_class, make_staff):
    make_staff(Role.AGENT, first_name="Ann <b>", last_name="O'Neil")  # a choice in the agent selects
    MacroFactory(name='Refund & "sorry"')
    blank = _build(form_class, None, None)
    assert blank.renderer is RENDERER
    junk = {name: '<script>alert("x")</script>' for name in blank.fields}
    for data in (None, {}, junk):  # blank; every required field's error; tags in every value
        jinja, django = _build(form_class, data, None), _build(form_class, data, DJANGO)
        assert parse_html(str(jinja)) == parse_html(str(django)), form_class
        assert "<script>" not in str(jinja)
