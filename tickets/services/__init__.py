"""Workflows of the support console: the one write path for tickets and refund requests.

``tickets.services.tickets`` (assign, reply, resolve, close, ...) and
``tickets.services.refunds`` (raise, approve, reject, process, complete). Disputes have
their own module, ``tickets.dispute_services``.
"""

from tickets.services.errors import Conflict, NotAllowed, StaleThread, SupportError

__all__ = ["Conflict", "NotAllowed", "StaleThread", "SupportError"]
