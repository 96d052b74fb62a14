"""The customer 360 page: panels contributed by the apps, rendered in their order.

The same panels are shown beside a ticket's thread and on the refund-approval screen
(:func:`render_panels` with ``only=``), so "what do we know about this customer" is
answered in one place.

A panel's template is Jinja2, in its app's ``jinja2/`` folder, rendered in the project's
Jinja2 environment (:mod:`customer_ops.jinja2_env`, the form renderer's): Django's engine
spent about two milliseconds a ticket page on the panels' rows.
"""

from __future__ import annotations

from django.dispatch import Signal

from customer_ops import jinja2_env
from customer_ops.datetimes import held_here
from customer_ops.models import Order
from customer_ops.registry import Panel, panels, register_panel
from customer_ops.statements import STAND_IN, kept_rows

# Sent when staff open a customer's page (compliance records who looked at personal data).
customer_viewed = Signal()  # kwargs: customer, request


def visible_panels(request, only: list[str] | None = None) -> list[Panel]:
    chosen = panels.ordered()
    if only is not None:
        chosen = [p for p in chosen if p.key in only]
    return [p for p in chosen if p.permission is None or request.user.has_perm(p.permission)]


def render_panels(customer, request, only: list[str] | None = None) -> list[dict]:
    with held_here():  # the panels' times and durations: one lookup of zone and language
        return _render_panels(customer, request, only)


def _render_panels(customer, request, only: list[str] | None) -> list[dict]:
    rendered = []
    for panel in visible_panels(request, only):
        context = panel.context(customer, request)
        if context is None:
            continue
        html = jinja2_env.render(panel.template, {"customer": customer, "panel": panel, **context}, request)
        rendered.append({"key": panel.key, "title": panel.title, "html": html})
    return rendered


@kept_rows(Order, "pk")
def _latest_orders():
    # A statement compiled once per process (customer_ops.statements): three pages show it.
    return Order.objects.filter(customer_id=STAND_IN).order_by("-created_at", "-id")[:10]


def _recent_orders(customer, request) -> dict:
    return {"orders": _latest_orders(pk=customer.pk)}


register_panel(
    key="recent_orders",
    title="Recent orders",
    template="customer_ops/panels/recent_orders.html",
    context=_recent_orders,
    order=30,
    permission="customer_ops.view_order",
)
