"""``{% url %}`` through :mod:`customer_ops.keyed_urls`: the same URL as ``reverse()`` for
every named pattern of the project (walked from the resolver, so a new view is covered),
with integer keys of any size, and ``reverse()``'s own answer for anything else."""

from __future__ import annotations

import itertools

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, get_resolver, reverse

from customer_ops.keyed_urls import reverse_keys
from customer_ops.templatetags.keyed_url import KeyedURLNode


def _names(resolver=None, namespace=""):
    """Every ``namespace:name`` of the URL conf with the number of its positional groups."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):  # an include()
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _names(pattern, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}"


NAMES = sorted(set(_names()))


def _reverse(name, args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return NoReverseMatch


def _keyed(name, args):
    try:
        return reverse_keys(name, args=args)
    except NoReverseMatch:
        return NoReverseMatch


def test_the_walk_finds_the_admin_and_the_api():
    assert "admin:tickets_ticket_change" in NAMES
    assert len(NAMES) > 100


@pytest.mark.parametrize("name", NAMES)
def test_every_named_url_is_the_same_as_reverse(name):
    keys = [0, 7, 123456789012345678, 7310486259]  # the last is one of the stand-ins itself
    for n in range(4):
        for args in itertools.product(keys, repeat=n) if n < 3 else [tuple(keys[:3])]:
            assert _keyed(name, list(args)) == _reverse(name, list(args)), (name, args)
    for junk in (["a/b"], [-1], ["12"], [True], [1.5], ["%2F"]):
        assert _keyed(name, junk) == _reverse(name, junk), (name, junk)


def test_the_template_tag_is_keyed_and_keeps_djangos_forms():
    request = RequestFactory().get("/")
    template = Template(
        "{% url 'admin:tickets_ticket_change' pk %}|{% url 'admin:index' %}|"
        "{% url 'admin:app_list' app_label='tickets' %}|{% url 'nope' as missing %}[{{ missing }}]"
    )
    assert isinstance(template.nodelist[0], KeyedURLNode)
    out = template.render(Context({"pk": 42, "request": request}))
    assert (
        out
        == "|".join(
            [
                reverse("admin:tickets_ticket_change", args=[42]),
                reverse("admin:index"),
                reverse("admin:app_list", args=["tickets"]),
            ]
        )
        + "|[]"
    )
    with pytest.raises(NoReverseMatch):
        Template("{% url 'nope' 1 %}").render(Context({}))
