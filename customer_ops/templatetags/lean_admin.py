"""``{% lean_result_list cl %}``: Django's ``result_list`` tag with the rows of
:mod:`customer_ops.admin_rows` (the same markup, a fraction of the CPU).
``templates/admin/change_list.html`` puts it in every change list."""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from customer_ops import admin_rows

register = template.Library()


@register.tag(name="lean_result_list")
def lean_result_list_tag(parser, token):
    # Like Django's tag, a model's own admin/<app>/<model>/change_list_results.html wins.
    return InclusionAdminNode(
        parser, token, func=admin_rows.result_list, template_name="change_list_results.html", takes_context=False
    )
