"""Demo tickets with threads in every status, disputes and refund requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from customer_ops.deadlines import (
    dispute_response_target,
    ticket_first_response_target,
    ticket_resolution_target,
)
from customer_ops.registry import register_seeder
from tickets.choices import CLOSED_DISPUTE_STATUSES
from tickets.models import Dispute, InternalNote, Macro, RefundOrigin, RefundRequest, Ticket, TicketMessage

SUBJECTS = {
    "ORDER": ["Wrong items in my order", "Order arrived incomplete", "Missing drink from my order"],
    "PAYMENT": ["Charged twice for one order", "Payment failed but money taken", "Card declined at checkout"],
    "DELIVERY": ["Courier never arrived", "Parcel marked delivered but not received", "Driver went to wrong address"],
    "REFUND": ["Refund not received yet", "Refund amount is wrong", "When will I get my refund?"],
    "ACCOUNT": ["Cannot log in to my account", "Please update my phone number", "Account locked after OTP"],
    "TECHNICAL": ["App crashes on checkout", "Tracking map not loading", "Promo code not applied"],
}
AGENT_REPLIES = [
    "Thanks for reaching out, I'm looking into this for you now.",
    "I'm sorry about this. Could you confirm the items that were missing?",
    "I've checked with the merchant and I can see what went wrong.",
    "I've escalated this to our payments team and will update you shortly.",
]
CUSTOMER_FOLLOW_UPS = [
    "It was the large fries and a cola.",
    "Any update on this please?",
    "Thank you, that would be great.",
    "I have attached a photo of what arrived.",
]


def seed_tickets(ctx: dict) -> None:
    rng, now, users = ctx["rng"], ctx["now"], ctx["users"]
    agents = [users["agent"], users["agent2"], users["agent3"]]
    orders = ctx["orders"]
    customers = ctx["customers"]
    statuses = ["OPEN"] * 30 + ["IN_PROGRESS"] * 40 + ["RESOLVED"] * 50 + ["CLOSED"] * 30
    tickets, threads = [], []
    for status in statuses:
        order = rng.choice(orders) if rng.random() < 0.75 else None
        customer = order.customer if order else rng.choice(customers)
        category = rng.choice(list(SUBJECTS))
        priority = rng.choices(["LOW", "MEDIUM", "HIGH", "URGENT", "CRITICAL"], weights=[3, 5, 3, 1, 0.5])[0]
        if status in {"OPEN", "IN_PROGRESS"}:
            created = _open_ticket_created(rng, now, priority, answered=status == "IN_PROGRESS")
        else:
            created = now - dt.timedelta(hours=rng.uniform(0.2, 24 * 21))
        agent = None if status == "OPEN" else rng.choice(agents)
        first_response = ticket_first_response_target(priority)
        resolved = status in {"RESOLVED", "CLOSED"}
        resolved_at = created + dt.timedelta(minutes=rng.randint(20, 60 * 30)) if resolved else None
        if resolved_at and resolved_at > now:
            resolved_at = now
        ticket = Ticket(
            customer=customer,
            order=order,
            service_type=order.service_type if order else None,
            issue_category=category,
            issue_subcategory=rng.choice(["", "first contact", "repeat contact"]),
            subject=rng.choice(SUBJECTS[category]),
            description=f"Hello, {rng.choice(SUBJECTS[category]).lower()}. Please help.",
            priority=priority,
            status=status,
            assigned_to_agent=agent,
            assigned_to_agent_name=agent.get_full_name() if agent else "",
            # Picked up and answered within the first-response target (the thread below).
            assigned_at=created + _minutes(rng, first_response / 3) if agent else None,
            resolution="Refunded the missing items and apologised." if resolved else "",
            resolved_at=resolved_at,
            resolved_by=agent if resolved else None,
            resolution_time_minutes=int((resolved_at - created).total_seconds() // 60) if resolved else None,
            customer_satisfaction_rating=rng.randint(1, 5) if resolved and rng.random() < 0.6 else None,
            follow_up_required=status == "IN_PROGRESS" and rng.random() < 0.3,
            created_at=created,
        )
        if ticket.follow_up_required:
            ticket.follow_up_date = now + dt.timedelta(hours=rng.randint(-12, 48))
        tickets.append(ticket)
    tickets = Ticket.objects.bulk_create(tickets)

    for ticket in tickets:
        at = ticket.created_at
        customer_name = ticket.customer.full_name
        threads.append(_msg(ticket, at, "CUSTOMER", ticket.customer_id, customer_name, ticket.description, now))
        if ticket.assigned_to_agent:
            agent = ticket.assigned_to_agent
            at = ticket.assigned_at
            threads.append(_msg(ticket, at, "SYSTEM", None, "System", f"Assigned to {agent.get_full_name()}.", now))
            first_response = ticket_first_response_target(ticket.priority)
            for k in range(rng.randint(1, 4)):
                at = at + (_minutes(rng, first_response / 2) if k == 0 else dt.timedelta(minutes=rng.randint(2, 120)))
                if at >= now:
                    break
                if k % 2 == 0:
                    threads.append(
                        _msg(ticket, at, "AGENT", agent.pk, agent.get_full_name(), rng.choice(AGENT_REPLIES), now)
                    )
                else:
                    threads.append(
                        _msg(
                            ticket,
                            at,
                            "CUSTOMER",
                            ticket.customer_id,
                            customer_name,
                            rng.choice(CUSTOMER_FOLLOW_UPS),
                            now,
                        )
                    )
        if ticket.resolved_at:
            threads.append(_msg(ticket, ticket.resolved_at, "SYSTEM", None, "System", "Ticket resolved.", now))
    TicketMessage.objects.bulk_create(threads)
    ctx["tickets"] = tickets

    completed = [o for o in orders if o.status == "COMPLETED"]
    _seed_refunds(ctx, completed)
    _seed_disputes(ctx, completed, tickets)
    _seed_console(ctx, tickets)


MACROS = [
    (
        "Greeting",
        "Hi {{ customer_first_name }},\n\nThanks for contacting us about order {{ order_number }}. ",
    ),
    (
        "Refund on its way",
        "Hi {{ customer_first_name }}, I've raised a refund for order {{ order_number }}. "
        "You'll see it within 3-5 working days.\n\n{{ agent_first_name }}",
    ),
    (
        "Need more details",
        "Hi {{ customer_first_name }}, could you send a photo of what arrived? Reply here and quote {{ ticket_id }}.",
    ),
    ("Closing", "Glad we could help, {{ customer_first_name }}. Is there anything else I can do?"),
]


def _seed_console(ctx, tickets):
    """Macros kept by the lead, a few internal notes, and who raised the pending refunds."""
    rng, users = ctx["rng"], ctx["users"]
    Macro.objects.bulk_create([Macro(name=n, body=b, created_by=users["lead"]) for n, b in MACROS])
    notes = []
    for ticket in tickets:
        if ticket.assigned_to_agent and rng.random() < 0.25:
            notes.append(
                InternalNote(
                    ticket=ticket,
                    author=users["lead"],
                    author_name=users["lead"].get_full_name(),
                    body=rng.choice(
                        [
                            "Customer has three refunds this month: check the fraud panel before refunding.",
                            "Merchant confirmed the missing item; OK to refund.",
                            "VIP customer: keep them updated.",
                        ]
                    ),
                    created_at=ticket.assigned_at + dt.timedelta(minutes=3),
                )
            )
    InternalNote.objects.bulk_create(notes)
    agents = [users["agent"], users["agent2"], users["agent3"]]
    by_customer = {}
    for ticket in tickets:
        by_customer.setdefault(ticket.customer_id, ticket)
    RefundOrigin.objects.bulk_create(
        [
            RefundOrigin(refund=r, raised_by=rng.choice(agents), ticket=by_customer.get(r.customer_id))
            for r in RefundRequest.objects.order_by("pk")
        ]
    )


def _msg(ticket, at, sender_type, sender_id, sender_name, text, now):
    old = now - at > dt.timedelta(hours=2)
    return TicketMessage(
        ticket=ticket,
        message_text=text,
        message_type="SYSTEM" if sender_type == "SYSTEM" else "TEXT",
        sender_type=sender_type,
        sender_id=sender_id,
        sender_name=sender_name,
        is_read=old or sender_type != "CUSTOMER",
        read_at=at + dt.timedelta(minutes=5) if old and sender_type == "CUSTOMER" else None,
        created_at=at,
    )


def _seed_refunds(ctx, completed):
    rng, now, users = ctx["rng"], ctx["now"], ctx["users"]
    refunds = []
    approved_on: dict[int, Decimal] = {}  # order -> approved so far: never more than it was paid
    plan = ["PENDING"] * 14 + ["APPROVED"] * 8 + ["REJECTED"] * 8 + ["PROCESSING"] * 6 + ["COMPLETED"] * 14
    for planned in plan:
        order = rng.choice(completed)
        refund_type = rng.choice(["FULL", "PARTIAL", "ITEM", "DELIVERY_FEE"])
        requested = {
            "FULL": order.order_amount,
            "PARTIAL": (order.order_amount / 2).quantize(Decimal("0.01")),
            "ITEM": min(order.order_amount, Decimal("6.50")),
            "DELIVERY_FEE": min(order.order_amount, Decimal("2.99")),
        }[refund_type]
        status = planned
        if planned in {"APPROVED", "PROCESSING", "COMPLETED"}:
            if approved_on.get(order.pk, Decimal("0")) + requested > order.order_amount:
                status = "REJECTED"  # the order was already refunded: the database refuses more
            else:
                approved_on[order.pk] = approved_on.get(order.pk, Decimal("0")) + requested
        created = max(order.created_at + dt.timedelta(hours=1), now - dt.timedelta(days=rng.uniform(0, 30)))
        decided = status != "PENDING"
        refunds.append(
            RefundRequest(
                customer_id=order.customer_id,
                order=order,
                refund_type=refund_type,
                refund_reason=rng.choice(["Missing items", "Order never arrived", "Charged twice", "Poor quality"]),
                refund_reason_code=rng.choice(["MISSING_ITEM", "NOT_DELIVERED", "DUPLICATE_CHARGE", "QUALITY"]),
                refund_description="Customer reported the problem through the app.",
                requested_amount=requested,
                approved_amount=requested if status in {"APPROVED", "PROCESSING", "COMPLETED"} else None,
                refund_items=[{"item": "Large fries", "quantity": 1, "amount": "3.50"}]
                if refund_type in {"PARTIAL", "ITEM"}
                else None,
                refund_status=status,
                processed_by=users["lead"] if decided else None,
                processed_at=created + dt.timedelta(hours=2) if decided else None,
                rejection_reason=(
                    ("Delivery confirmed by photo." if planned == "REJECTED" else "The order was already refunded.")
                    if status == "REJECTED"
                    else ""
                ),
                completed_at=created + dt.timedelta(days=1) if status == "COMPLETED" else None,
                refund_mode=rng.choice(["ORIGINAL_PAYMENT", "WALLET", "COUPON"])
                if status in {"PROCESSING", "COMPLETED"}
                else None,
                created_at=created,
            )
        )
    RefundRequest.objects.bulk_create(refunds)


# The open queue a new user should see: most tickets within their SLA, some at risk
# (due within the hour), a few breached, so that every SLA badge appears.
OPEN_SLA_MIX = {"ok": 70, "at_risk": 18, "breached": 12}


def _minutes(rng, most: dt.timedelta) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(1, max(1, int(most.total_seconds() // 60))))


def _open_ticket_created(rng, now: dt.datetime, priority: str, *, answered: bool) -> dt.datetime:
    """A creation time that puts the ticket's current SLA deadline (first response until an
    agent has answered, then resolution) in a state drawn from :data:`OPEN_SLA_MIX`."""
    target = ticket_resolution_target(priority) if answered else ticket_first_response_target(priority)
    state = rng.choices(list(OPEN_SLA_MIX), weights=list(OPEN_SLA_MIX.values()))[0]
    if state == "ok":
        remaining = target * rng.uniform(0.3, 0.9)
        if remaining <= dt.timedelta(hours=1) < target:  # not "at risk" when the target allows
            remaining = dt.timedelta(hours=1) + (target - dt.timedelta(hours=1)) * rng.uniform(0.1, 0.9)
    elif state == "at_risk":
        remaining = min(target, dt.timedelta(hours=1)) * rng.uniform(0.15, 0.95)
    else:
        remaining = -dt.timedelta(minutes=rng.randint(10, 36 * 60))
    created = now + remaining - target
    if answered:  # leave room for the first answer before now
        created = min(created, now - ticket_first_response_target(priority))
    return created


def _seed_disputes(ctx, completed, tickets):
    rng, now, users = ctx["rng"], ctx["now"], ctx["users"]
    disputes = []
    plan = ["OPEN"] * 5 + ["INVESTIGATING"] * 5 + ["RESOLVED"] * 5 + ["REJECTED"] * 3 + ["ESCALATED"] * 2
    for k, status in enumerate(plan):
        dispute_type = rng.choice(["REFUND", "QUALITY", "NON_DELIVERY", "OVERCHARGE", "FRAUD"])
        resolved = status in CLOSED_DISPUTE_STATUSES
        if resolved:
            order = rng.choice(completed)
            created = max(order.created_at + dt.timedelta(hours=3), now - dt.timedelta(days=rng.uniform(0, 20)))
        else:
            # Open disputes mostly within their response time; every sixth one overdue.
            share = rng.uniform(1.1, 1.6) if k % 6 == 5 else rng.uniform(0.1, 0.85)
            created = now - dispute_response_target(dispute_type) * share
            earlier = [o for o in completed if o.created_at <= created - dt.timedelta(hours=3)]
            order = rng.choice(earlier or completed)
            created = max(created, order.created_at + dt.timedelta(hours=3))
        ticket = next((t for t in tickets if t.order_id == order.pk), None)
        against = rng.choice(["MERCHANT", "RIDER", "PLATFORM"])
        disputes.append(
            Dispute(
                customer_id=order.customer_id,
                order=order,
                ticket=ticket,
                dispute_type=dispute_type,
                dispute_reason=rng.choice(["Order not as described", "Charged for undelivered order", "Overcharged"]),
                dispute_description="The customer disputes the charge after the support ticket did not settle it.",
                disputed_against=against,
                disputed_against_id=order.merchant_id if against == "MERCHANT" else rng.randint(5000, 5999),
                evidence_urls=[f"https://evidence.example/{order.order_number}/photo-1.jpg"],
                evidence_description="Photo of the delivered bag.",
                disputed_amount=order.order_amount,
                refund_amount=order.order_amount if status == "RESOLVED" else None,
                dispute_status=status,
                resolution="Refund granted after merchant review."
                if status == "RESOLVED"
                else ("Evidence does not support the claim." if status == "REJECTED" else ""),
                resolution_amount=order.order_amount if status == "RESOLVED" else None,
                resolved_at=created + dt.timedelta(days=2) if resolved else None,
                resolved_by=users["legal"] if resolved else None,
                legal_case_number=f"LC-2026-{100 + k}" if status in {"ESCALATED", "INVESTIGATING"} else "",
                legal_notes="Privileged: merchant has two prior complaints." if status != "OPEN" else "",
                created_at=created,
            )
        )
    Dispute.objects.bulk_create(disputes)


register_seeder(key="tickets", seed=seed_tickets, order=10)
