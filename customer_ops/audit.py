"""One function for every audit entry: :func:`audit` (and :func:`audit_many` for a job's
many entries at once, written by one INSERT).

Services call it in the same transaction as the change they record. The entry is written
to ``customer_audit_log`` by the writer that the ``compliance`` app registers (this app
imports no other app); the actor comes from :mod:`customer_ops.context`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

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
_bulk_writer: Callable[[list[AuditEntry]], None] | None = None


def register_writer(writer: Callable[[AuditEntry], None], bulk_writer: Callable[[list[AuditEntry]], None]) -> None:
    """``writer`` writes one entry; ``bulk_writer`` a list of them in one statement."""
    global _writer, _bulk_writer
    _writer, _bulk_writer = writer, bulk_writer


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


def audit_many(entries: Iterable[AuditEntry]) -> int:
    """Write these entries in one INSERT: the same rows as :func:`audit` would, one by one.
    An entry without an actor gets the current one. Returns how many were written."""
    if _bulk_writer is None:
        raise RuntimeError("No audit writer registered: is the compliance app installed?")
    actor = current_actor()
    rows = [
        replace(
            entry,
            old_value=_text(entry.old_value),
            new_value=_text(entry.new_value),
            actor=entry.actor or actor,
        )
        for entry in entries
    ]
    if rows:
        _bulk_writer(rows)
    return len(rows)
