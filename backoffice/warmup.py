"""What every worker would otherwise build on its first requests, built once in gunicorn's
master before it forks them (``preload_app``; gunicorn.conf.py's ``when_ready``): the
templates compiled into the cached loader, the URL resolver's reverse tables, the
translation catalogs. No database connection is opened here: a connection made before the
fork would be shared by every worker.

Workers are replaced every ``max_requests`` requests; without this each new one spent
about a third of a second of CPU on its first pages, and answered them slowly.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.forms.renderers import get_default_renderer
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver, reverse
from django.utils import translation


def template_names(engine) -> list[str]:
    """Every template the engine's directories and apps hold, by the name it loads them by."""
    names = set()
    for loader in engine.engine.template_loaders:
        for inner in getattr(loader, "loaders", [loader]):  # the cached loader wraps the others
            for directory in inner.get_dirs():
                root = Path(directory)
                names.update(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return sorted(names)


def warm() -> int:
    """Compiles the templates and fills the caches; the number of templates compiled."""
    get_resolver()._populate()
    reverse("admin:index")
    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("Log out")  # loads the catalogs of the language
    compiled = 0
    # The project's engine, and the form renderer's own (the widgets' templates).
    renderer = get_default_renderer()
    for engine in [*engines.all(), renderer.django.engine]:
        if not hasattr(engine, "engine"):
            continue
        for name in template_names(engine):
            try:
                engine.get_template(name)
            except (TemplateDoesNotExist, TemplateSyntaxError):  # partials of other engines, broken third-party files
                continue
            compiled += 1
    # The form renderer's Jinja2 templates: its environment keeps what it compiles.
    environment = renderer.jinja2.engine.env
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)
        compiled += 1
    return compiled
