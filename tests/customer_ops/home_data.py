"""Rows for every tile of the home page (shared by the page tests and the browser tests).

``populate(n, agent=..., lead=...)`` makes ``n`` rows that each tile counts, and rows next
to them that it must not count (another agent's, resolved, lifted, above the limit...).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from analytics.models import RewardHold
from compliance.choices import AccessKind
from compliance.models import AccessLog
from tests.factories import (
    BlockFactory,
    CustomerFactory,
    DataDeletionRequestFactory,
    DisputeFactory,
    FraudAlertFactory,
    OrderFactory,
    ReferralRewardFactory,
    RefundRequestFactory,
    SuspiciousActivityFactory,
    TicketFactory,
    TicketMessageFactory,
    UserFactory,
)
from tickets.models import RefundOrigin, SlaEscalation


def populate(n: int, *, agent, lead) -> None:
    now = timezone.now()
    other = UserFactory(username=f"other_agent_{n}")
    minutes = dt.timedelta(minutes=1)
    for _ in range(n):
        # The agent's own open tickets: within SLA, at risk (HIGH: first response in 60 min), breached.
        TicketFactory(assigned_to_agent=agent, status="IN_PROGRESS", priority="LOW", created_at=now)
        TicketFactory(assigned_to_agent=agent, status="IN_PROGRESS", priority="HIGH", created_at=now - 30 * minutes)
        TicketFactory(assigned_to_agent=agent, status="IN_PROGRESS", priority="LOW", created_at=now - 9 * 60 * minutes)
        TicketFactory(
            assigned_to_agent=agent,
            status="IN_PROGRESS",
            follow_up_required=True,
            follow_up_date=now - 5 * minutes,
        )
        # Someone else's, unassigned (one breached a minute ago: "today"), resolved.
        TicketFactory(assigned_to_agent=other, status="IN_PROGRESS", created_at=now)
        TicketFactory(assigned_to_agent=other, status="IN_PROGRESS", priority="HIGH", created_at=now - 30 * minutes)
        TicketFactory(assigned_to_agent=other, status="IN_PROGRESS", follow_up_required=True, follow_up_date=now)
        TicketFactory(created_at=now - 5 * 60 * minutes)
        TicketFactory(priority="MEDIUM", created_at=now - 4 * 60 * minutes - minutes)
        escalated = TicketFactory(priority="CRITICAL", created_at=now - 20 * minutes)
        SlaEscalation.objects.create(
            ticket=escalated, kind="FIRST_RESPONSE", due_at=now, from_priority="HIGH", to_priority="CRITICAL"
        )
        done = TicketFactory(status="RESOLVED", resolved_at=now)
        TicketMessageFactory(ticket=done, sender_type="AGENT")

        # Refunds: within the lead's limit, above it, raised by the lead (not theirs to approve), decided.
        RefundRequestFactory(requested_amount=Decimal("25.00"))
        RefundRequestFactory(requested_amount=Decimal("900.00"))
        own = RefundRequestFactory(requested_amount=Decimal("10.00"))
        RefundOrigin.objects.create(refund=own, raised_by=lead)
        RefundRequestFactory(refund_status="REJECTED", rejection_reason="No", processed_at=now)

        # Fraud: an open alert per severity and a resolved one; review queue; blocks.
        for severity in ["LOW", "MEDIUM", "HIGH", "CRITICAL"]:
            FraudAlertFactory(alert_severity=severity)
        FraudAlertFactory(is_resolved=True, resolved_at=now)
        SuspiciousActivityFactory(requires_review=True, reviewed=False)
        SuspiciousActivityFactory(requires_review=True, reviewed=True)
        BlockFactory(blocked_until=now + dt.timedelta(hours=12), auto_unblock=True)
        BlockFactory(blocked_until=now + dt.timedelta(hours=48), auto_unblock=True)
        RewardHold.objects.create(reward=ReferralRewardFactory(), shared_signals={"device_ids": ["d1"]})
        RewardHold.objects.create(reward=ReferralRewardFactory(), status="RELEASED")

        # Legal: open disputes (one overdue) and a resolved one.
        DisputeFactory(created_at=now - dt.timedelta(days=1))
        DisputeFactory(created_at=now - dt.timedelta(days=9))
        DisputeFactory(dispute_status="RESOLVED", resolution="Refunded", resolved_at=now, resolution_amount=1)

        # Compliance: overdue, due within 7 days, held by an open dispute, completed this week.
        DataDeletionRequestFactory(requested_at=now - dt.timedelta(days=31))
        DataDeletionRequestFactory(requested_at=now - dt.timedelta(days=25))
        held = CustomerFactory()
        DisputeFactory(customer=held, order=OrderFactory(customer=held), created_at=now)
        DataDeletionRequestFactory(customer=held, requested_at=now)
        DataDeletionRequestFactory(request_status="COMPLETED", processed_at=now, completed_at=now)
        AccessLog.objects.create(staff=lead, customer=held, kind=AccessKind.EXPORT)
        AccessLog.objects.create(staff=lead, customer=held, kind=AccessKind.VIEW)
