"""Writes ``customer_audit_log`` rows for :func:`customer_ops.audit.audit`."""

from __future__ import annotations

from compliance.models import AuditLog
from customer_ops.audit import AuditEntry


def write_entry(entry: AuditEntry) -> AuditLog:
    actor = entry.actor
    return AuditLog.objects.create(
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
