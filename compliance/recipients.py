"""The erasure fan-out's record: which systems of the platform must erase the customer too
(GDPR art. 17(2) and 19: the controller tells the recipients), and which confirmed.

* :func:`erasure_recipients_expect` -- called by the webhook fan-out (``api.webhooks``) in
  the transaction that completes the erasure: one row per subscribed system;
* :func:`erasure_recipient_confirm` -- the system, through the API (``erasure:confirm``);
* :func:`erasure_recipient_waive` -- a compliance admin records why a system will not
  confirm (decommissioned, never held the customer, ...).

A completed request is *fully closed* when none of its recipients is still open
(:func:`fully_closed`); compliance's home page lists the completed requests with a
recipient open for more than ``ERASURE_CONFIRMATION_DAYS`` (:func:`unconfirmed_after`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from compliance.choices import RequestStatus
from compliance.errors import ComplianceConflict, ComplianceInvalid
from compliance.models import DataDeletionRequest, ErasureRecipient
from customer_ops.audit import audit
from customer_ops.context import CallingSystem, audit_actor
from customer_ops.errors import NotAllowed
from customer_ops.permissions import requires
from customer_ops.scopes import ERASURE_CONFIRM

PROCESS = "compliance.process_datadeletionrequest"
OPEN = Q(confirmed_at__isnull=True, waived_at__isnull=True)


def erasure_recipients_expect(*, request_id: str, systems: list[str]) -> int:
    """The systems ``request_id``'s completion was sent to (one row each; a second call adds
    only new systems). Part of the completing transaction: no actor, the system's own step."""
    request = DataDeletionRequest.objects.get(request_id=request_id)
    rows = [ErasureRecipient(request=request, system=name) for name in systems]
    return len(ErasureRecipient.objects.bulk_create(rows, ignore_conflicts=True))


@requires(scope=ERASURE_CONFIRM, what="confirm erasures")
@transaction.atomic
def erasure_recipient_confirm(*, request_id: str, actor: CallingSystem) -> ErasureRecipient:
    """The calling system erased the customer of ``request_id``. Confirming again answers
    the first confirmation (idempotent)."""
    if not isinstance(actor, CallingSystem):
        raise NotAllowed("Only the system that received the erasure may confirm it.")
    recipient = (
        ErasureRecipient.objects.select_for_update()
        .select_related("request")
        .filter(request__request_id=request_id, system=actor.name)
        .first()
    )
    if recipient is None:
        raise ComplianceInvalid(f"{request_id} was not sent to {actor.name}: nothing to confirm.", field="request_id")
    if recipient.confirmed_at is None:
        recipient.confirmed_at = timezone.now()
        recipient.save(update_fields=["confirmed_at"])
        audit(
            customer_id=recipient.request.customer_id,
            action_type="STATUS_CHANGE",
            action_field="erasure_recipient",
            old_value="unconfirmed",
            new_value="confirmed",
            reason=f"{recipient.request.request_id}: {actor.name} confirmed the erasure",
            actor=audit_actor(actor),
        )
    return recipient


@requires(PROCESS, what="record why a system will not confirm an erasure")
@transaction.atomic
def erasure_recipient_waive(*, recipient: ErasureRecipient | int, reason: str, actor) -> ErasureRecipient:
    """The compliance admin closes an unconfirmed recipient, saying why."""
    pk = recipient.pk if isinstance(recipient, ErasureRecipient) else recipient
    recipient = ErasureRecipient.objects.select_for_update().select_related("request").get(pk=pk)
    reason = (reason or "").strip()
    if not reason:
        raise ComplianceInvalid("Say why this system will not confirm.", field="waiver_reason")
    if recipient.confirmed_at or recipient.waived_at:
        raise ComplianceConflict(f"{recipient.system} is {recipient.state} already.")
    recipient.waived_at = timezone.now()
    recipient.waived_by = actor
    recipient.waiver_reason = reason
    recipient.save(update_fields=["waived_at", "waived_by", "waiver_reason"])
    audit(
        customer_id=recipient.request.customer_id,
        action_type="STATUS_CHANGE",
        action_field="erasure_recipient",
        old_value="unconfirmed",
        new_value="waived",
        reason=f"{recipient.request.request_id}: {recipient.system} will not confirm: {reason}",
        actor=audit_actor(actor),
    )
    return recipient


def fully_closed(request: DataDeletionRequest) -> bool:
    """Completed, and every system it was sent to confirmed (or was waived)."""
    return (
        request.request_status == RequestStatus.COMPLETED
        and not ErasureRecipient.objects.filter(OPEN, request=request).exists()
    )


def unconfirmed_after(requests: QuerySet, now: dt.datetime | None = None, days: int | None = None) -> QuerySet:
    """Completed requests with a recipient still open ``days`` (settings) after it was notified."""
    now = now or timezone.now()
    days = settings.ERASURE_CONFIRMATION_DAYS if days is None else days
    late = ErasureRecipient.objects.filter(OPEN, request=OuterRef("pk"), notified_at__lte=now - dt.timedelta(days=days))
    return requests.filter(Exists(late), request_status=RequestStatus.COMPLETED)


def certificate_section(request: DataDeletionRequest) -> list[dict]:
    """The certificate's list of systems: each with when it confirmed, or that it has not."""
    return [
        {
            "system": r.system,
            "notified_at": r.notified_at.isoformat(),
            "confirmed_at": r.confirmed_at.isoformat() if r.confirmed_at else None,
            "waived_at": r.waived_at.isoformat() if r.waived_at else None,
            "status": r.state,
        }
        for r in request.recipients.order_by("system")
    ]
