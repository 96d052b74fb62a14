"""Customer-page panels of the support tables: the customer's tickets and refund requests.

Also shown beside a ticket's thread and on the refund approval screen. Each panel runs
two queries whatever the customer's history.
"""

from __future__ import annotations

from customer_ops.registry import register_panel
from tickets import conf, selectors
from tickets.models import RefundRequest, Ticket


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
