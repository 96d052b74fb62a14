"""The customer panels (customer_ops/panels.py): every registered panel renders through its
Jinja2 template (customer_ops/jinja2_env.py), and what customers or staff typed is escaped."""

from __future__ import annotations

import zoneinfo

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.utils import timezone

from customer_ops.jinja2_env import template
from customer_ops.panels import render_panels
from customer_ops.registry import panels
from tests.factories import BlockFactory, CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db

MARKUP = '<script>alert("x")</script>'


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user, request.session = user, {}
    get_token(request)  # the panels' forms carry the CSRF token
    return request


def test_every_registered_panel_has_a_jinja2_template():
    registered = panels.ordered()
    assert len(registered) >= 11
    for panel in registered:
        template(panel.template)  # raises TemplateDoesNotExist otherwise


def test_every_panel_renders_for_a_superuser_and_escapes_what_was_typed(superuser):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    TicketFactory(customer=customer, order=order, subject=MARKUP)
    BlockFactory(customer=customer, block_reason=MARKUP)
    rendered = {p["key"]: p["html"] for p in render_panels(customer, _request(superuser))}
    assert set(rendered) == {panel.key for panel in panels.ordered()}
    page = "".join(rendered.values())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in rendered["tickets"] and "&lt;script&gt;alert(" in rendered["fraud_blocks"]
    assert f'href="/admin/customer_ops/order/{order.pk}/change/"' in rendered["recent_orders"]
    assert 'name="csrfmiddlewaretoken"' in rendered["fraud_trust"]
    assert "All blocks of this customer" in rendered["fraud_blocks"]


def test_a_panel_shows_times_in_the_current_time_zone(superuser):
    block = BlockFactory(customer=CustomerFactory())
    with timezone.override("Asia/Tokyo"):
        html = render_panels(block.customer, _request(superuser), only=["fraud_blocks"])[0]["html"]
    tokyo = timezone.localtime(block.blocked_at, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f'title="{tokyo.isoformat()}"' in html and tokyo.isoformat().endswith("+09:00")
