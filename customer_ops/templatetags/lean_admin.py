"""``{% lean_result_list cl %}``: Django's ``result_list`` tag with the rows of
:mod:`customer_ops.admin_rows` (the same markup, a fraction of the CPU).
``templates/admin/change_list.html`` puts it in every change list.

``{% lean_fieldset %}``: Django's admin field set, rendered by Jinja2."""

from __future__ import annotations

import functools

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.forms.renderers import get_default_renderer
from django.utils.safestring import mark_safe

from customer_ops import admin_rows

register = template.Library()


@register.tag(name="lean_result_list")
def lean_result_list_tag(parser, token):
    # Like Django's tag, a model's own admin/<app>/<model>/change_list_results.html wins.
    return InclusionAdminNode(
        parser, token, func=admin_rows.result_list, template_name="change_list_results.html", takes_context=False
    )


# The context names Django's change form and stacked inlines include the field set with.
FIELDSET_CONTEXT = ("fieldset", "prefix", "id_prefix", "id_suffix", "heading_level")


@functools.cache
def _fieldset_template():
    # The form renderer's Jinja2 environment (app jinja2/ dirs), which the warm-up compiles.
    return get_default_renderer().jinja2.get_template("customer_ops/fieldset.html")


@register.simple_tag(takes_context=True)
def lean_fieldset(context) -> str:
    """Django's admin field set in Jinja2 (``customer_ops/jinja2/customer_ops/fieldset.html``,
    the markup of the installed Django's template: ``tests/customer_ops/test_lean_fieldset.py``
    compares them, so an upgrade that changes Django's fails there). The dispute page made a
    fifth fewer Python calls. ``templates/admin/includes/fieldset.html`` puts it in every
    change form."""
    return mark_safe(_fieldset_template().render({name: context.get(name) for name in FIELDSET_CONTEXT}))  # noqa: S308  (Jinja2 escaped it)
