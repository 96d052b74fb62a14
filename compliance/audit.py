"""Writes ``customer_audit_log`` rows for :func:`customer_ops.audit.audit` (one entry) and
:func:`customer_ops.audit.audit_many` (many, in one INSERT): both build the row here."""

from __future__ import annotations

from compliance.models import AuditLog
from customer_ops.audit import AuditEntry


def _columns(entry: AuditEntry) -> dict:
    actor = entry.actor
    return dict(
        customer_id=entry.customer_id,
        action_type=entry.action_type,
        action_field=entry.action_field,
        old_value=entry.old_value,
        new_value=entry.new_value,
        action_reason=entry.action_reason,
        actor_type=actor.actor_type,
        actor_id=actor.actor_id,
        actor_name=actor.actor_name,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
    )


def write_entry(entry: AuditEntry) -> AuditLog:
    return AuditLog.objects.create(**_columns(entry))


def write_entries(entries: list[AuditEntry]) -> list[AuditLog]:
    return AuditLog.objects.bulk_create([AuditLog(**_columns(entry)) for entry in entries])
