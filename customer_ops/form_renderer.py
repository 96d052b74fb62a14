"""The renderer of the console's own forms (the ticket page's actions, bulk work, refunds).

Django's Jinja2 form renderer with Django's own Jinja2 templates of the built-in widgets:
the same markup as the Django-template renderer (``tests/customer_ops/test_form_renderer.py``
compares the two on every such form, blank and with errors) for half the Python work per
form; the ticket page renders up to nine, which was about a quarter of its CPU. The admin's
own forms keep ``FORM_RENDERER``: the admin's widgets have Django templates only.
"""

from __future__ import annotations

from django import forms
from django.forms.renderers import Jinja2

RENDERER = Jinja2()  # one engine per process: its templates are compiled once


class ConsoleForm(forms.Form):
    """A form of the console's own pages, rendered with :data:`RENDERER`. Built-in widgets only."""

    default_renderer = RENDERER
