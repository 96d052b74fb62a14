"""The compliance workflows' refusals, as kinds of :mod:`customer_ops.errors`.

:class:`ComplianceError` is the app's base (a caller that catches it catches every
compliance refusal, the erasure's included); each raise picks its kind: not allowed (the
actor, or four eyes), conflict (the request's state refuses the step now), invalid (the
input).
"""

from __future__ import annotations

from customer_ops.errors import Conflict, DomainError, Invalid, NotAllowed


class ComplianceError(DomainError):
    """A compliance workflow refused (bad transition or bad input)."""


class ComplianceNotAllowed(ComplianceError, NotAllowed):
    """The actor may not do this (their role, or four eyes)."""


class ComplianceConflict(ComplianceError, Conflict):
    """The record's state refuses the step now (already open, no longer pending...)."""


class ComplianceInvalid(ComplianceError, Invalid):
    """The input is wrong."""


class ErasureError(ComplianceError):
    """An erasure that cannot run (wrong request status, bad scope) or has no certificate yet."""


class ErasureConflict(ErasureError, Conflict):
    """The request or its run is not in the state the step needs."""


class ErasureInvalid(ErasureError, Invalid):
    """The request names nothing to erase."""
