"""One function for every audit entry: :func:`audit`.

Services call it in the same transaction as the change they record. The entry is written
to ``customer_audit_log`` by the writer that the ``compliance`` app registers (this app
imports no other app); the actor comes from :mod:`customer_ops.context`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from customer_ops.context import Actor, current_actor


@dataclass(frozen=True)
class AuditEntry:
    customer_id: int
    action_type: str  # CREATE, UPDATE, DELETE, STATUS_CHANGE, VERIFICATION
    action_field: str = ""
    old_value: str | None = None
    new_value: str | None = None
    action_reason: str = ""
    actor: Actor | None = None


_writer: Callable[[AuditEntry], None] | None = None


def register_writer(writer: Callable[[AuditEntry], None]) -> None:
    global _writer
    _writer = writer


def _text(value) -> str | None:
    return None if value is None else str(value)


def audit(
    *,
    customer_id: int,
    action_type: str,
    action_field: str = "",
    old_value=None,
    new_value=None,
    reason: str = "",
    actor: Actor | None = None,
) -> None:
    if _writer is None:
        raise RuntimeError("No audit writer registered: is the compliance app installed?")
    _writer(
        AuditEntry(
            customer_id=customer_id,
            action_type=action_type,
            action_field=action_field,
            old_value=_text(old_value),
            new_value=_text(new_value),
            action_reason=reason,
            actor=actor or current_actor(),
        )
    )
