"""Customer-page panels of the support tables: the customer's tickets, refund requests and
disputes.

Also shown beside a ticket's thread and on the refund approval screen. Each panel runs
two queries whatever the customer's history, each a statement compiled once per process
(customer_ops.statements): three pages show these panels, and building and compiling the
querysets cost more CPU than PostgreSQL took to answer them.
"""

from __future__ import annotations

from customer_ops.registry import register_panel
from customer_ops.statements import STAND_IN, kept_rows
from tickets import conf, selectors
from tickets.models import Dispute, RefundRequest, Ticket


def _latest(queryset, *columns: str):
    """The customer's (:data:`STAND_IN`) newest rows of ``queryset``, ``columns`` only: a panel."""
    return queryset.filter(customer_id=STAND_IN).only(*columns).order_by("-created_at", "-id")[: conf.PANEL_ROWS]


@kept_rows(Ticket, "pk")
def _latest_tickets():
    return _latest(Ticket.objects.all(), "pk", "ticket_id", "subject", "status", "priority", "created_at")


@kept_rows(RefundRequest, "pk")
def _latest_refunds():
    columns = ("refund_request_id", "refund_type", "refund_status", "requested_amount", "approved_amount")
    return _latest(RefundRequest.objects.select_related("order"), "pk", *columns, "created_at", "order__order_number")


@kept_rows(Dispute, "pk")
def _latest_disputes():
    # Never the legal fields: this panel is shown to every role that may see disputes.
    columns = ("dispute_id", "dispute_type", "dispute_status", "disputed_amount")
    return _latest(Dispute.objects.all(), "pk", *columns, "created_at")


def _tickets(customer, request) -> dict:
    current = getattr(request, "current_ticket_pk", None)
    return {
        "tickets": _latest_tickets(pk=customer.pk),
        "current_pk": current,
        "open_count": selectors.open_ticket_count(customer.pk),
    }


def _refunds(customer, request) -> dict:
    return {
        "refunds": _latest_refunds(pk=customer.pk),
        "recent_days": conf.REFUND_RECENT_DAYS,
        "recent_total": selectors.recent_refunds_total(customer.pk, days=conf.REFUND_RECENT_DAYS),
    }


def _disputes(customer, request) -> dict:
    return {"disputes": _latest_disputes(pk=customer.pk)}


register_panel(
    key="tickets",
    title="Support tickets",
    template="tickets/panels/tickets.html",
    context=_tickets,
    order=40,
    permission="tickets.view_ticket",
)
register_panel(
    key="refunds",
    title="Refund requests",
    template="tickets/panels/refunds.html",
    context=_refunds,
    order=50,
    permission="tickets.view_refundrequest",
)
register_panel(
    key="disputes",
    title="Disputes",
    template="tickets/panels/disputes.html",
    context=_disputes,
    order=55,
    permission="tickets.view_dispute",
)
