"""Canned replies: the placeholders a macro may use, and their rendering for one ticket.

Placeholders are a fixed list filled by plain substitution (not the template engine), so
a macro can never reach anything but these values.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

PLACEHOLDERS = {
    "customer_first_name": "the customer's first name",
    "customer_name": "the customer's full name",
    "order_number": "the ticket's order number (empty without an order)",
    "ticket_id": "the ticket id, e.g. TKT-00000042",
    "agent_first_name": "the replying agent's first name",
}
_TOKEN = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def check_placeholders(body: str) -> None:
    unknown = sorted({name for name in _TOKEN.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        raise ValidationError(
            {"body": f"Unknown placeholder(s): {', '.join(unknown)}. Known: {', '.join(PLACEHOLDERS)}."}
        )


def values_for(ticket, agent) -> dict[str, str]:
    return {
        "customer_first_name": ticket.customer.first_name,
        "customer_name": ticket.customer.full_name,
        "order_number": ticket.order.order_number if ticket.order_id else "",
        "ticket_id": ticket.ticket_id,
        "agent_first_name": agent.first_name or agent.get_username(),
    }


def render(body: str, values: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), body)
