"""The support workflows' errors: the kinds of :mod:`customer_ops.errors`, for tickets,
refunds and disputes.

:class:`SupportError` is the tickets' :class:`~customer_ops.errors.DomainError` (a refusal
for a wrong input or state); :class:`NotAllowed` and :class:`Conflict` are both a
``SupportError`` and the matching ``customer_ops`` kind, so a caller that knows only
``customer_ops.errors`` (the service API) maps them the same as the admin: 403, 409.
Disputes raise :class:`DisputeError` and its two refinements the same way.
"""

from __future__ import annotations

from customer_ops import errors


class SupportError(errors.DomainError):
    """A ticket or refund workflow step refused, with a message that says why."""


class NotAllowed(SupportError, errors.NotAllowed):
    """The staff member's role or relation to the record does not allow the step."""


class Conflict(SupportError, errors.Conflict):
    """Someone else changed the record since the form was loaded."""


class StaleThread(Conflict):
    """New messages or notes arrived since the reply was written."""

    def __init__(self, message: str, *, seen: tuple[int, int]):
        super().__init__(message)
        self.seen = seen


class DisputeError(errors.DomainError):
    """A dispute change the workflow refuses."""


class DisputeNotAllowed(DisputeError, errors.NotAllowed):
    """The actor's role may not make this dispute change (or set the legal fields)."""


class DisputeConflict(DisputeError, errors.Conflict):
    """The dispute changed since the caller read it."""
