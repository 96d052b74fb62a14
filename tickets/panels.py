"""Customer-page panels of the support tables: the customer's tickets, refund requests and
disputes.

Also shown beside a ticket's thread and on the refund approval screen. Each panel runs
two queries whatever the customer's history.
"""

from __future__ import annotations

from customer_ops.registry import register_panel
from tickets import conf, selectors
from tickets.models import Dispute, RefundRequest, Ticket


def _tickets(customer, request) -> dict:
    rows = list(
        Ticket.objects.filter(customer=customer)
        .only("pk", "ticket_id", "subject", "status", "priority", "created_at")
        .order_by("-created_at", "-id")[: conf.PANEL_ROWS]
    )
    current = getattr(request, "current_ticket_pk", None)
    return {
        "tickets": rows,
        "current_pk": current,
        "open_count": selectors.open_ticket_count(customer.pk),
    }


def _refunds(customer, request) -> dict:
    rows = list(
        RefundRequest.objects.filter(customer=customer)
        .select_related("order")
        .only(
            "pk",
            "refund_request_id",
            "refund_type",
            "refund_status",
            "requested_amount",
            "approved_amount",
            "created_at",
            "order__order_number",
        )
        .order_by("-created_at", "-id")[: conf.PANEL_ROWS]
    )
    return {
        "refunds": rows,
        "recent_days": conf.REFUND_RECENT_DAYS,
        "recent_total": selectors.recent_refunds_total(customer.pk, days=conf.REFUND_RECENT_DAYS),
    }


def _disputes(customer, request) -> dict:
    # Never the legal fields: this panel is shown to every role that may see disputes.
    rows = list(
        Dispute.objects.filter(customer=customer)
        .only("pk", "dispute_id", "dispute_type", "dispute_status", "disputed_amount", "created_at")
        .order_by("-created_at", "-id")[: conf.PANEL_ROWS]
    )
    return {"disputes": rows}


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
