"""The project's Jinja2 environment: the form renderer's
(:class:`customer_ops.form_renderer.ProjectJinja2`), in which the lean admin templates and
the customer panels (:mod:`customer_ops.panels`) render too.

The panels render a table row per ticket, refund, order or block on the pages staff open
most (the ticket page shows six of them), and Django's template engine spent about two
milliseconds a ticket page on them; Jinja2 compiles a template to Python and takes a
fraction of that. The panels use Django's own filters here, so their values read as they
do in Django's templates: times in the current time zone, ``since`` as the queue says it,
``{% url %}`` as :func:`customer_ops.keyed_urls.reverse_keys`.
"""

from __future__ import annotations

import datetime as dt

from django.forms.renderers import get_default_renderer
from django.template import defaultfilters
from django.templatetags.static import static
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from jinja2 import Environment

from customer_ops.datetimes import local_datetime
from customer_ops.keyed_urls import reverse_keys
from customer_ops.templatetags.durations import since
from customer_ops.templatetags.safe_links import attachment_link


def url(viewname: str, *args) -> str:
    """Django's ``{% url viewname arg ... %}``."""
    return reverse_keys(viewname, args)


def date(value, arg=None) -> str:
    """Django's ``date`` filter, in the current time zone as Django's templates show a time.
    A datetime in a format of its own (not a setting's name) takes ``local_datetime``'s
    path: a panel shows ten or more."""
    if isinstance(value, dt.datetime) and arg and arg not in formats.FORMAT_SETTINGS:
        return local_datetime(value, fmt=arg)
    return defaultfilters.date(template_localtime(value), arg)


def default(value, arg):
    """Django's ``default`` filter: ``arg`` for any false value (Jinja2's own only for undefined)."""
    return value or arg


def environment(**options) -> Environment:
    env = Environment(**options)  # noqa: S701  (autoescape is on: Django's Jinja2 backend sets it)
    env.globals.update(url=url, static=static)
    env.filters.update(
        attachment_link=attachment_link,
        date=date,
        default=default,
        default_if_none=defaultfilters.default_if_none,
        floatformat=defaultfilters.floatformat,
        pluralize=defaultfilters.pluralize,
        since=since,
        truncatechars=defaultfilters.truncatechars,
        urlencode=defaultfilters.urlencode,
    )
    return env


def template(name: str):
    """A template of the project's Jinja2 environment. It is not an engine of ``TEMPLATES``:
    the admin's template lookups would then search its folders for every name Django's
    engine lacks."""
    return get_default_renderer().jinja2.get_template(name)


def render(name: str, context: dict, request=None) -> SafeString:
    """``name`` rendered with ``context`` (and ``request``: ``csrf_input``), safe to put in a
    Django template as it is (Jinja2 escaped the values)."""
    return mark_safe(template(name).render(context, request))  # noqa: S308  (Jinja2 escaped it)
