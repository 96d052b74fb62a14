"""The one domain error type of the support workflows, and its refinements.

Admin views and actions catch :class:`SupportError` and turn it into a message or a form
error; :class:`NotAllowed` becomes a 403.
"""

from __future__ import annotations


class SupportError(Exception):
    """A workflow step refused, with a message for the staff member that says why."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, if any


class NotAllowed(SupportError):
    """The staff member's role or relation to the record does not allow the step."""


class Conflict(SupportError):
    """Someone else changed the record since the form was loaded."""


class StaleThread(SupportError):
    """New messages or notes arrived since the reply was written."""

    def __init__(self, message: str, *, seen: tuple[int, int]):
        super().__init__(message)
        self.seen = seen
