"""The form renderer (``settings.FORM_RENDERER``): Django's Jinja2 templates of its built-in
widgets, labels, error lists and form layouts, and Django's template renderer for the rest
(the admin's own widgets, which have Django templates only).

The two sets of templates give the same markup (``tests/customer_ops/test_form_renderer.py``
compares them on every form of the project and every admin form, blank, with errors and
with tags in the values); through Jinja2 a field costs half the Python work. The ticket
page renders up to nine action forms, which were about a quarter of its CPU; every admin
change page renders one form per field set.
"""

from __future__ import annotations

import re
from pathlib import Path

import django.forms
import jinja2
from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property


class ProjectJinja2(Jinja2):
    """Django's Jinja2 form renderer (its widget templates, then each app's ``jinja2/``
    folder) in the project's environment, :mod:`customer_ops.jinja2_env`: Django's filters,
    ``url()`` and ``static()``. The project's own Jinja2 templates (the lean admin's and the
    customer panels) are rendered in it too, so one environment compiles and keeps them all."""

    @cached_property
    def engine(self):
        engine = self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [Path(django.forms.__file__).parent / "jinja2"],
                "NAME": "djangoforms",
                "OPTIONS": {"environment": "customer_ops.jinja2_env.environment"},
            }
        )
        engine.env.loader = InliningLoader(engine.template_dirs)
        return engine


# ``{% include "django/forms/..." %}`` with a literal name, as Django's form templates write it.
_FORM_INCLUDE = re.compile(r"""\{%\s*include\s+(["'])(django/forms/[^"']+)\1\s*%\}""")
# ``{{ errors }}``, ``{{ field.errors }}``: an error list, rendered through its own template.
_ERRORS = re.compile(r"\{\{\s*((?:field\.)?errors)\s*\}\}")


class InliningLoader(jinja2.FileSystemLoader):
    """The file loader, with Django's form templates' includes of one another written in
    place. A field's widget was three templates deep (``text.html`` includes ``input.html``,
    which includes ``attrs.html``), and each include builds a new context at render time:
    about 140 a ticket page. Inlined, each widget is one template. An include renders the
    included template in the includer's context, so the output is the same (the form
    renderer's test compares it with Django's templates on every form); as an included
    template's output does, the inlined text loses its one trailing newline.

    An error list is written only when it has errors: an empty one renders to nothing
    through a template of its own, nineteen times on a ticket page (each form's and each
    field's)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        if template.startswith("django/forms/"):
            source = _FORM_INCLUDE.sub(lambda match: self._inlined(environment, match[2]), source)
            source = _ERRORS.sub(r"{% if \1 %}{{ \1 }}{% endif %}", source)
        return source, filename, uptodate

    def _inlined(self, environment, name: str) -> str:
        source = self.get_source(environment, name)[0]
        return source[:-1] if source.endswith("\n") else source


class FormRenderer(BaseRenderer):
    def __init__(self):
        self.jinja2 = ProjectJinja2()
        self.django = DjangoTemplates()
        self._renderer_of: dict[str, BaseRenderer] = {}  # a template name -> who has it

    def get_template(self, template_name):
        renderer = self._renderer_of.get(template_name)
        if renderer is None:
            try:
                template = self.jinja2.get_template(template_name)
            except TemplateDoesNotExist:
                renderer = self._renderer_of[template_name] = self.django
            else:
                self._renderer_of[template_name] = self.jinja2
                return template
        return renderer.get_template(template_name)
