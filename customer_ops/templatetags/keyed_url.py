"""``{% url %}``, Django's tag with integer keys put in place of one ``reverse()`` per view
(:mod:`customer_ops.keyed_urls`). A builtin of the project's template engine (settings
``TEMPLATES``), so every template, the admin's own included, uses it; the parsing, the
``as var`` form and the errors are Django's."""

from __future__ import annotations

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from customer_ops.keyed_urls import reverse_keys

register = template.Library()


class KeyedURLNode(defaulttags.URLNode):
    def render(self, context):
        # Django's URLNode.render with reverse_keys for reverse.
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = reverse_keys(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    node.__class__ = KeyedURLNode
    return node
