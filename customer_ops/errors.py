"""The one family of domain errors every service raises, and what each kind means to a caller.

A service refuses with a :class:`DomainError` of one of three kinds; every app's errors
derive from these (``tickets.services.errors.SupportError``, ``fraud.services.FraudError``...),
so a caller (the admin through ``customer_ops.admin_base.DomainErrorMixin``, the service
API) maps them in one place without knowing the app:

* :class:`NotAllowed` -- the actor's role or relation to the record does not allow it (403);
* :class:`Conflict` -- the record changed since the caller read it, or is in a state that
  refuses the step now (409);
* :class:`Invalid` -- the input is wrong (a form error, 422).

A plain :class:`DomainError` is treated as :class:`Invalid`.

A refusal of several inputs at once (a batch of the service API) lists each in ``errors``:
``[{"index": 3, "field": "severity", "message": "..."}]``, so the caller can mend them all.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused step, with a message for the person (or system) that asked, and optionally
    the input field it belongs to."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or []


class NotAllowed(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422
