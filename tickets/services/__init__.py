"""Workflows of the support console: the one write path for tickets, refund requests and disputes.

``tickets.services.tickets`` (assign, reply, resolve, close, ...),
``tickets.services.intake`` (the customer's own: open a ticket, add a message),
``tickets.services.refunds`` (raise, approve, reject, process, complete) and
``tickets.services.disputes`` (open, change, investigate, escalate, resolve, reject).
Each service takes the acting party as ``actor``, refuses what its role may not do
(whoever calls it: the admin, a job, the service API) and raises the kinds of
``customer_ops.errors`` (``tickets.services.errors``).
"""

from tickets.services.errors import (
    Conflict,
    DisputeConflict,
    DisputeError,
    DisputeNotAllowed,
    NotAllowed,
    StaleThread,
    SupportError,
)
from tickets.services.intake import ticket_add_customer_message, ticket_open

__all__ = [
    "Conflict",
    "DisputeConflict",
    "DisputeError",
    "DisputeNotAllowed",
    "NotAllowed",
    "StaleThread",
    "SupportError",
    "ticket_add_customer_message",
    "ticket_open",
]
