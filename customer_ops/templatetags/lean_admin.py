"""Django's admin templates that every page renders many times, rendered by Jinja2 with the
same markup (each compared with Django's own in the tests, so an upgrade that changes
Django's fails there), at a fraction of the CPU:

* ``{% lean_result_list cl %}``: Django's ``result_list`` tag with the rows of
  :mod:`customer_ops.admin_rows` in ``change_list_results.html``;
* ``{% lean_list_filter cl spec %}``: a list filter of the sidebar (``filter.html``);
* ``{% lean_fieldset %}``: a change form's field set;
* ``{% lean_app_list app_list show_changelinks %}``: the table of every app and model on the
  home pages (``app_list.html``).

``templates/admin/change_list.html`` and ``templates/admin/includes/fieldset.html`` put them
in every page. The templates are in ``customer_ops/jinja2/customer_ops/``, in the project's
Jinja2 environment (:mod:`customer_ops.jinja2_env`), which the warm-up compiles."""

from __future__ import annotations

import functools

from django import template
from django.contrib.admin.templatetags.admin_list import admin_list_filter
from django.template.defaultfilters import urlencode
from django.template.loader import get_template
from django.utils.encoding import iri_to_uri
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext

from customer_ops import admin_rows, jinja2_env

register = template.Library()


@functools.cache
def _jinja2(name: str):
    # The project's Jinja2 environment (customer_ops/jinja2_env.py), which the warm-up compiles.
    return jinja2_env.template(name)


def _safe_capfirst(value) -> str:
    """Django's ``capfirst`` filter: a safe string stays safe (the checkbox column's header)."""
    shown = capfirst(str(value)) if value else value
    return mark_safe(shown) if isinstance(value, SafeData) else shown  # noqa: S308  (was safe)


def _result_texts() -> dict:
    """The list header's words, in the request's language (Django's {% translate %} ones)."""
    sorting = gettext("Sorting priority: %(priority_number)s")
    return {
        "remove": gettext("Remove from sorting"),
        "toggle": gettext("Toggle sorting"),
        "priority": lambda number: mark_safe(sorting % {"priority_number": escape(number)}),  # noqa: S308
    }


@register.simple_tag
def lean_result_list(cl) -> str:
    """Django's ``{% result_list cl %}``. An editable list or a popup keeps Django's own rows and
    template (its form rows); no admin of the project has its own ``change_list_results.html``
    (a test checks)."""
    context = admin_rows.result_list(cl)
    if cl.formset or cl.is_popup:
        return get_template("admin/change_list_results.html").render(context)
    context.update(texts=_result_texts(), capfirst=_safe_capfirst)
    return mark_safe(_jinja2("customer_ops/change_list_results.html").render(context))  # noqa: S308  (Jinja2 escaped it)


@register.simple_tag
def lean_list_filter(cl, spec) -> str:
    """Django's ``{% admin_list_filter cl spec %}``; a filter with its own template keeps Django's."""
    if spec.template != "admin/filter.html":
        return admin_list_filter(cl, spec)
    title = spec.title
    context = {
        "title": title,
        "heading": mark_safe(gettext(" By %(filter_title)s ") % {"filter_title": escape(title)}),  # noqa: S308
        "choices": list(spec.choices(cl)),
        "iriencode": iri_to_uri,
    }
    return mark_safe(_jinja2("customer_ops/filter.html").render(context))  # noqa: S308  (Jinja2 escaped it)


# The context names Django's change form and stacked inlines include the field set with.
FIELDSET_CONTEXT = ("fieldset", "prefix", "id_prefix", "id_suffix", "heading_level")


def _fieldset_template():
    return _jinja2("customer_ops/fieldset.html")


@register.simple_tag(takes_context=True)
def lean_fieldset(context) -> str:
    """Django's admin field set in Jinja2 (``customer_ops/jinja2/customer_ops/fieldset.html``,
    the markup of the installed Django's template: ``tests/customer_ops/test_lean_fieldset.py``
    compares them, so an upgrade that changes Django's fails there). The dispute page made a
    fifth fewer Python calls. ``templates/admin/includes/fieldset.html`` puts it in every
    change form."""
    return mark_safe(_fieldset_template().render({name: context.get(name) for name in FIELDSET_CONTEXT}))  # noqa: S308  (Jinja2 escaped it)


def _app_list_texts() -> dict:
    """The app list's words, in the request's language (Django's {% translate %} ones)."""
    models_in = gettext("Models in the %(name)s application")
    return {
        "models_in": lambda name: mark_safe(models_in % {"name": escape(name)}),  # noqa: S308
        "model_name": gettext("Model name"),
        "add_link": gettext("Add link"),
        "change_link": gettext("Change or view list link"),
        "add": gettext("Add"),
        "view": gettext("View"),
        "change": gettext("Change"),
        "nothing": gettext("You don’t have permission to view or edit anything."),
    }


@register.simple_tag(takes_context=True)
def lean_app_list(context, app_list, show_changelinks=False) -> str:
    """Django's ``{% include "admin/app_list.html" %}`` (the home pages' "All tables").

    Rendered once per distinct list, path and language: the markup is a function of what the
    key holds (every value the template reads of the list), and a role's list is the same on
    each of its home pages. It was 8% of a home page's CPU."""
    request = context.get("request")
    path = urlencode(request.path) if request is not None else ""
    return _rendered_app_list(_app_list_key(app_list), bool(show_changelinks), path, get_language())


# Every value app_list.html reads of an app and of a model.
_APP_KEYS = ("app_label", "app_url", "name")
_MODEL_KEYS = ("object_name", "name", "admin_url", "add_url", "view_only")


def _values(item: dict, keys: tuple) -> tuple:
    # Names may be lazy translations: the key holds their text (the language is in the key).
    return tuple(str(item[k]) if k == "name" else item.get(k) for k in keys)


def _app_list_key(app_list) -> tuple:
    return tuple(
        (_values(app, _APP_KEYS), tuple(_values(model, _MODEL_KEYS) for model in app["models"])) for app in app_list
    )


@functools.lru_cache(maxsize=256)
def _rendered_app_list(key: tuple, show_changelinks: bool, path: str, language: str | None) -> str:
    app_list = [
        {
            **dict(zip(_APP_KEYS, app, strict=True)),
            "models": [dict(zip(_MODEL_KEYS, values, strict=True)) for values in models],
        }
        for app, models in key
    ]
    values = {"app_list": app_list, "show_changelinks": show_changelinks, "path": path, "texts": _app_list_texts()}
    return mark_safe(_jinja2("customer_ops/app_list.html").render(values))  # noqa: S308  (Jinja2 escaped it)
