"""Helpers shared by the ticket, refund and dispute services: role check, version check, history.

Who is acting is resolved for the audit log by :func:`customer_ops.context.audit_actor`.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format

from customer_ops.audit import audit
from customer_ops.context import Actor
from customer_ops.permissions import checked_inside
from tickets.services.errors import Conflict


def staff_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "the system"


def has_perm(actor, perm: str) -> bool:
    """Whether ``actor`` holds ``perm``: only an active staff user can. The system, a calling
    system and a customer hold no staff permission, so every staff step refuses them."""
    check = getattr(actor, "has_perm", None)
    return bool(check and check(perm))


@checked_inside("a helper of the services above, which check first: it writes one audit entry")
def record(*, customer_id: int, actor: Actor, action_type: str, field: str, old, new, reason: str = "") -> None:
    """One audit entry (``customer_audit_log``) for one changed field."""
    audit(
        customer_id=customer_id,
        action_type=action_type,
        action_field=field,
        old_value=old,
        new_value=new,
        reason=reason,
        actor=actor,
    )


def check_version(obj: models.Model, expected: dt.datetime | None, *, label: str) -> None:
    """Refuse the step if the locked row changed since the form loaded ``expected`` (its updated_at)."""
    if expected is None or obj.updated_at == expected:
        return
    last = obj.history.order_by("-history_date", "-history_id").select_related("history_user").first()
    if last is None:
        who = "someone else"
    else:
        who = staff_name(last.history_user) if last.history_user_id else "the system"
        if last.history_change_reason:
            who += f" ({last.history_change_reason})"
    when = date_format(timezone.localtime(obj.updated_at), "DATETIME_FORMAT")
    raise Conflict(
        f"{label} was changed by {who} since you opened it (at {when}). "
        "Nothing was saved: check the current state below and try again."
    )


def save_with_history(obj: models.Model, *, user, fields: list[str], reason: str) -> None:
    """Save ``fields`` with the history row attributed to ``user``; reload the trigger-set updated_at."""
    obj._history_user = user
    obj._change_reason = reason
    obj.save(update_fields=[*fields, "updated_at"])
    obj.refresh_from_db(fields=["updated_at"])
