"""Refund request workflows: raise, approve, reject, process, complete.

::

    PENDING --approve--> APPROVED --process--> PROCESSING --complete--> COMPLETED
       |
       +--reject--> REJECTED

Agents raise (``add_refundrequest``); leads approve or reject (``approve_refundrequest``)
within their role's limit (``tickets.conf.REFUND_APPROVAL_LIMITS``) and never their own
request; processing and completion need ``process_refundrequest``. ``requested_amount``
is fixed at creation (a never-update column).

Per order, two rules on what is approved (approved, processing or completed requests):

* together never more than the order was paid (``order_amount``), as a payment processor
  refuses a refund above the charge; the database enforces it too, whoever writes
  (``tickets.triggers.RefundsWithinPaid``);
* the approval limit applies to the order's approved total, not to one request: an
  approval must keep everything approved for the order, whoever approved it, within the
  approving lead's limit. Counting only the lead's own approvals would let two leads pass
  twice the limit on one order, and one lead the same through requests split in pieces.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from customer_ops.choices import EventType
from customer_ops.context import audit_actor
from customer_ops.events import emit
from customer_ops.models import Order
from customer_ops.permissions import requires
from customer_ops.roles import group_names
from tickets import conf, selectors
from tickets.choices import MessageType, RefundMode, RefundStatus, RefundType, SenderType
from tickets.models import RefundOrigin, RefundRequest, Ticket, TicketMessage
from tickets.services.common import check_version, has_perm, record, save_with_history
from tickets.services.errors import NotAllowed, SupportError
from tickets.services.tickets import require_work

RAISE = "tickets.add_refundrequest"
APPROVE = "tickets.approve_refundrequest"
PROCESS = "tickets.process_refundrequest"
CENT = Decimal("0.01")
ITEMISED = {RefundType.PARTIAL, RefundType.ITEM}


def _money(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise SupportError("Enter an amount such as 12.50.", field=field) from None
    if not amount.is_finite():
        raise SupportError("Enter an amount such as 12.50.", field=field)
    if amount <= 0:
        raise SupportError("The amount must be more than zero.", field=field)
    if amount != amount.quantize(CENT):
        raise SupportError("Amounts have at most two decimals.", field=field)
    return amount


def clean_items(items, *, order: Order) -> list[dict]:
    """``[{"item": str, "quantity": int >= 1, "amount": "line total"}]``.

    The orders stand-in holds no item lines, so items are validated against what the
    order allows: every line well-formed, and their total within the order's amount.
    """
    if not isinstance(items, list) or not items:
        raise SupportError("List the items refunded: one per line, as 'name; quantity; amount'.", field="refund_items")
    cleaned = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SupportError(f"Item {n} is not an item.", field="refund_items")
        name = str(item.get("item", "")).strip()
        if not name:
            raise SupportError(f"Item {n} has no name.", field="refund_items")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise SupportError(
                f"Item {n} ({name}): the quantity must be a whole number of at least 1.", field="refund_items"
            )
        amount = _money(item.get("amount"), field="refund_items")
        cleaned.append({"item": name, "quantity": quantity, "amount": str(amount)})
    total = sum(Decimal(i["amount"]) for i in cleaned)
    if total > order.order_amount:
        raise SupportError(
            f"The items total {total} but order {order.order_number} was {order.order_amount}.", field="refund_items"
        )
    return cleaned


def _refund_message(ticket: Ticket, text: str) -> None:
    TicketMessage.objects.create(
        ticket=ticket,
        message_text=text,
        message_type=MessageType.SYSTEM,
        sender_type=SenderType.SYSTEM,
        sender_name="System",
        is_read=True,
    )


@requires(RAISE, error=NotAllowed, message="Your role may not raise refund requests.")
@transaction.atomic
def refund_raise(
    *,
    order: Order | int,
    refund_type: str,
    refund_reason: str,
    actor,
    requested_amount=None,
    refund_reason_code: str = "",
    refund_description: str = "",
    refund_items: list | None = None,
    ticket: Ticket | None = None,
) -> RefundRequest:
    """Raise a refund request for an order (from a ticket or from the order). From a ticket,
    only on one the actor may work (own or unassigned; leads any), like every ticket step."""
    if not has_perm(actor, RAISE):
        raise NotAllowed("Your role may not raise refund requests.")
    if ticket is not None:
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)  # its current assignee
        require_work(actor, ticket)
    # Lock the order: two requests raised at once cannot together exceed what it allows.
    order = Order.objects.select_for_update().get(pk=order.pk if isinstance(order, Order) else order)
    if order.status not in conf.REFUNDABLE_ORDER_STATUSES:
        raise SupportError(
            f"Order {order.order_number} is {order.get_status_display().lower()}: it cannot be refunded."
        )
    if ticket is not None and ticket.customer_id != order.customer_id:
        raise SupportError("The order belongs to another customer than the ticket.", field="order")
    if refund_type not in RefundType.values:
        raise SupportError(f"Unknown refund type {refund_type!r}.", field="refund_type")
    if refund_reason_code and refund_reason_code not in dict(conf.REFUND_REASON_CODES):
        raise SupportError(f"Unknown reason code {refund_reason_code!r}.", field="refund_reason_code")
    refund_reason = (refund_reason or "").strip()
    if not refund_reason:
        raise SupportError("Give the refund reason.", field="refund_reason")

    allowed = selectors.refundable_amount(order)
    if allowed <= 0:
        raise SupportError(f"Order {order.order_number} has nothing left to refund.", field="requested_amount")
    items = None
    if refund_type == RefundType.FULL:
        requested = allowed if requested_amount in (None, "") else _money(requested_amount, field="requested_amount")
        if requested != allowed:
            raise SupportError(
                f"A full refund is what the order still allows: {allowed}. Use a partial refund for less.",
                field="requested_amount",
            )
    else:
        if requested_amount in (None, ""):
            raise SupportError("Enter the amount requested.", field="requested_amount")
        requested = _money(requested_amount, field="requested_amount")
    if refund_type in ITEMISED:
        items = clean_items(refund_items, order=order)
        items_total = sum(Decimal(i["amount"]) for i in items)
        if refund_type == RefundType.ITEM and requested != items_total:
            raise SupportError(
                f"An item refund is the items' total ({items_total}), not {requested}.", field="requested_amount"
            )
        if requested > items_total:
            raise SupportError(
                f"The amount ({requested}) exceeds the items listed ({items_total}).", field="requested_amount"
            )
    elif refund_items:
        raise SupportError("Items are listed for partial and item refunds only.", field="refund_items")
    if refund_type == RefundType.DELIVERY_FEE and requested > conf.REFUND_DELIVERY_FEE_MAX:
        raise SupportError(
            f"A delivery fee refund is at most {conf.REFUND_DELIVERY_FEE_MAX}.", field="requested_amount"
        )
    if requested > allowed:
        raise SupportError(
            f"Order {order.order_number} allows at most {allowed} more to be refunded "
            f"(order {order.order_amount}, already claimed {order.order_amount - allowed}).",
            field="requested_amount",
        )

    refund = RefundRequest(
        customer_id=order.customer_id,
        order=order,
        refund_type=refund_type,
        refund_reason=refund_reason,
        refund_reason_code=refund_reason_code,
        refund_description=(refund_description or "").strip(),
        requested_amount=requested,
        refund_items=items,
    )
    refund._history_user = actor
    refund._change_reason = "Raised"
    refund.save()
    refund.refresh_from_db(fields=["refund_request_id", "updated_at"])
    RefundOrigin.objects.create(refund=refund, raised_by=actor, ticket=ticket)
    record(
        customer_id=order.customer_id,
        actor=audit_actor(actor),
        action_type="CREATE",
        field="customer_refund_requests",
        old=None,
        new=f"{refund.refund_request_id} {refund_type} {requested}",
        reason=refund_reason,
    )
    if ticket is not None:
        _refund_message(ticket, f"Refund request {refund.refund_request_id} for {requested} raised (pending approval).")
    return refund


def _lock(refund: RefundRequest | int, expected_version: dt.datetime | None) -> RefundRequest:
    pk = refund.pk if isinstance(refund, RefundRequest) else refund
    locked = RefundRequest.objects.select_for_update(of=("self",)).get(pk=pk)
    check_version(locked, expected_version, label=f"Refund request {locked.refund_request_id}")
    return locked


def _article(status: str) -> str:
    return "an" if status[0] in "AEIOU" else "a"


def _require_status(refund: RefundRequest, expected: str, verb: str) -> None:
    if refund.refund_status != expected:
        raise SupportError(
            f"{refund.refund_request_id} is {refund.get_refund_status_display().lower()}: "
            f"only {_article(expected)} {RefundStatus(expected).label.lower()} request can be {verb}."
        )


def _status(refund: RefundRequest, to: str, *, actor, reason: str = "") -> None:
    old = refund.refund_status
    refund.refund_status = to
    record(
        customer_id=refund.customer_id,
        actor=audit_actor(actor),
        action_type="STATUS_CHANGE",
        field="customer_refund_requests.refund_status",
        old=old,
        new=to,
        reason=reason or f"Refund request {refund.refund_request_id}",
    )


def _refund_event(event_type: EventType, refund: RefundRequest, **data) -> None:
    """What the refund processing system hears: ids, amounts and the decision's time."""
    emit(
        event_type,
        customer_id=refund.customer_id,
        refund_request_id=refund.refund_request_id,
        order_id=refund.order_id,
        refund_type=refund.refund_type,
        requested_amount=refund.requested_amount,
        processed_at=refund.processed_at,
        **data,
    )


def approval_limit(user) -> Decimal | None:
    """The most ``user`` may bring an order's approved refunds to (None: no limit; 0: may
    not approve)."""
    if user.is_superuser:
        return None
    names = group_names(user)
    limits = [limit for role, limit in conf.REFUND_APPROVAL_LIMITS.items() if role in names]
    return max(limits, default=Decimal("0"))


def raised_by_id(refund: RefundRequest) -> int | None:
    return RefundOrigin.objects.filter(refund=refund).values_list("raised_by_id", flat=True).first()


@requires(APPROVE, error=NotAllowed, message="Only a lead may approve refund requests.")
@transaction.atomic
def refund_approve(
    *, refund: RefundRequest | int, approved_amount, actor, expected_version: dt.datetime | None = None
) -> RefundRequest:
    if not has_perm(actor, APPROVE):
        raise NotAllowed("Only a lead may approve refund requests.")
    refund = _lock(refund, expected_version)
    _require_status(refund, RefundStatus.PENDING, "approved")
    if raised_by_id(refund) == actor.pk:
        raise NotAllowed(f"{refund.refund_request_id} was raised by you: another lead must approve it.")
    amount = _money(approved_amount, field="approved_amount")
    if amount > refund.requested_amount:
        raise SupportError(
            f"The approved amount ({amount}) cannot exceed the requested amount ({refund.requested_amount}).",
            field="approved_amount",
        )
    # The order's row lock, as the database's trigger takes it: approvals on one order go
    # one after the other, so the total read here is still the total when this one commits.
    order = Order.objects.select_for_update().get(pk=refund.order_id)
    already = selectors.approved_refunds(order.pk)
    if already + amount > order.order_amount:
        left = max(order.order_amount - already, Decimal("0.00"))
        raise SupportError(
            f"Order {order.order_number} was paid {order.order_amount} and {already} of it is already approved "
            f"for refunds: at most {left} more can be approved.",
            field="approved_amount",
        )
    limit = approval_limit(actor)
    if limit is not None and already + amount > limit:
        if already:
            message = (
                f"{already} is already approved for order {order.order_number}: with {amount} more its refunds "
                f"would total {already + amount}, above your approval limit ({limit}) for one order. "
                "Ask someone with a higher limit."
            )
        else:
            message = f"{amount} is above your approval limit ({limit}): ask someone with a higher limit."
        raise NotAllowed(message, field="approved_amount")
    refund.approved_amount = amount
    refund.processed_by = actor
    refund.processed_at = timezone.now()
    _status(refund, RefundStatus.APPROVED, actor=actor, reason=f"Approved {amount} of {refund.requested_amount}")
    save_with_history(
        refund,
        user=actor,
        fields=["refund_status", "approved_amount", "processed_by", "processed_at"],
        reason=f"Approved {amount}",
    )
    _refund_event(EventType.REFUND_APPROVED, refund, approved_amount=refund.approved_amount)
    return refund


@requires(APPROVE, error=NotAllowed, message="Only a lead may reject refund requests.")
@transaction.atomic
def refund_reject(
    *, refund: RefundRequest | int, reason: str, actor, expected_version: dt.datetime | None = None
) -> RefundRequest:
    if not has_perm(actor, APPROVE):
        raise NotAllowed("Only a lead may reject refund requests.")
    refund = _lock(refund, expected_version)
    _require_status(refund, RefundStatus.PENDING, "rejected")
    reason = (reason or "").strip()
    if not reason:
        raise SupportError("A rejection reason is required.", field="rejection_reason")
    refund.rejection_reason = reason
    refund.processed_by = actor
    refund.processed_at = timezone.now()
    _status(refund, RefundStatus.REJECTED, actor=actor, reason=reason)
    save_with_history(
        refund, user=actor, fields=["refund_status", "rejection_reason", "processed_by", "processed_at"], reason=reason
    )
    _refund_event(EventType.REFUND_REJECTED, refund)
    return refund


@requires(PROCESS, error=NotAllowed, message="Your role may not process refunds.")
@transaction.atomic
def refund_start_processing(
    *, refund: RefundRequest | int, refund_mode: str, actor, expected_version: dt.datetime | None = None
) -> RefundRequest:
    """APPROVED -> PROCESSING, paid back through ``refund_mode``."""
    if not has_perm(actor, PROCESS):
        raise NotAllowed("Your role may not process refunds.")
    refund = _lock(refund, expected_version)
    _require_status(refund, RefundStatus.APPROVED, "processed")
    if refund_mode not in RefundMode.values:
        raise SupportError("Choose how the refund is paid back.", field="refund_mode")
    refund.refund_mode = refund_mode
    refund.processed_by = actor
    refund.processed_at = timezone.now()
    _status(refund, RefundStatus.PROCESSING, actor=actor)
    save_with_history(
        refund,
        user=actor,
        fields=["refund_status", "refund_mode", "processed_by", "processed_at"],
        reason=f"Processing ({refund_mode})",
    )
    return refund


@requires(PROCESS, error=NotAllowed, message="Your role may not process refunds.")
@transaction.atomic
def refund_complete(
    *, refund: RefundRequest | int, actor, expected_version: dt.datetime | None = None
) -> RefundRequest:
    """PROCESSING -> COMPLETED."""
    if not has_perm(actor, PROCESS):
        raise NotAllowed("Your role may not process refunds.")
    refund = _lock(refund, expected_version)
    _require_status(refund, RefundStatus.PROCESSING, "completed")
    refund.completed_at = timezone.now()
    _status(refund, RefundStatus.COMPLETED, actor=actor)
    save_with_history(refund, user=actor, fields=["refund_status", "completed_at"], reason="Completed")
    return refund
