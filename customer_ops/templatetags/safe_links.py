"""``{{ url|attachment_link:60 }}``: a link for an http(s) URL, inert text for anything else.

Attachment and evidence URLs come from the customer app and other services: a
``javascript:`` or ``data:`` URL rendered as a link would run in the staff member's session
when clicked. Only ``http`` and ``https`` become links.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html

register = template.Library()

LINK_SCHEMES = {"http", "https"}


def is_linkable(url) -> bool:
    try:
        parts = urlsplit(str(url).strip())
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.netloc)


@register.filter
def attachment_link(url, length: int = 60):
    label = truncatechars(str(url), length)
    if is_linkable(url):
        return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', str(url).strip(), label)
    return format_html('<span class="inert-url" title="Not a web link: not opened">{}</span>', label)
