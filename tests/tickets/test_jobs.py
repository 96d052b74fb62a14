"""The SLA escalation job: each breach escalated once, set-based, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.models import AuditLog
from tests.factories import TicketFactory, TicketMessageFactory
from tests.tickets.conftest import fresh
from tickets.jobs import escalate_sla_breaches
from tickets.models import SlaEscalation, TicketMessage

pytestmark = pytest.mark.django_db


def test_first_response_breach_raises_priority_once_and_flags_the_lead():
    now = timezone.now()
    # MEDIUM: first response within 4 h, resolution within 48 h.
    late = TicketFactory(priority="MEDIUM", created_at=now - dt.timedelta(hours=5))
    answered = TicketFactory(priority="MEDIUM", created_at=now - dt.timedelta(hours=5))
    TicketMessageFactory(ticket=answered, sender_type="AGENT")
    fine = TicketFactory(priority="MEDIUM", created_at=now - dt.timedelta(hours=1))
    closed = TicketFactory(priority="MEDIUM", created_at=now - dt.timedelta(days=5), status="CLOSED")

    result = escalate_sla_breaches(now=now)
    assert (result.breaches, result.tickets, result.raised) == (1, 1, 1)
    assert fresh(late).priority == "HIGH"
    assert {t.priority for t in [fresh(answered), fresh(fine), fresh(closed)]} == {"MEDIUM"}
    escalation = SlaEscalation.objects.get()
    assert (escalation.ticket_id, escalation.kind, escalation.to_priority) == (late.pk, "FIRST_RESPONSE", "HIGH")
    assert TicketMessage.objects.filter(ticket=late, sender_type="SYSTEM", message_text__contains="SLA breached")
    assert AuditLog.objects.filter(action_field="customer_tickets.priority", actor_type="SYSTEM").count() == 1
    assert fresh(late).history.first().history_change_reason == "SLA escalation"

    again = escalate_sla_breaches(now=now)
    assert (again.breaches, again.tickets, again.raised) == (0, 0, 0)
    assert fresh(late).priority == "HIGH"


def test_resolution_breach_of_an_answered_ticket():
    now = timezone.now()
    ticket = TicketFactory(priority="HIGH", status="IN_PROGRESS", created_at=now - dt.timedelta(hours=30))
    TicketMessageFactory(ticket=ticket, sender_type="AGENT")
    escalate_sla_breaches(now=now)
    assert fresh(ticket).priority == "URGENT"
    assert list(SlaEscalation.objects.values_list("kind", flat=True)) == ["RESOLUTION"]


def test_a_raise_that_breaches_the_other_target_is_flagged_in_the_same_run():
    now = timezone.now()
    # LOW: 8 h first response, 72 h resolution. Raised to MEDIUM (48 h): resolution breached too.
    ticket = TicketFactory(priority="LOW", created_at=now - dt.timedelta(hours=60))
    escalate_sla_breaches(now=now)
    assert fresh(ticket).priority == "MEDIUM"  # raised once, not twice
    assert set(SlaEscalation.objects.values_list("kind", flat=True)) == {"FIRST_RESPONSE", "RESOLUTION"}
    assert escalate_sla_breaches(now=now).breaches == 0


def test_critical_stays_critical_but_is_flagged():
    now = timezone.now()
    ticket = TicketFactory(priority="CRITICAL", created_at=now - dt.timedelta(minutes=20))
    result = escalate_sla_breaches(now=now)
    assert (result.breaches, result.raised) == (1, 0)
    assert fresh(ticket).priority == "CRITICAL"


def test_command_reports_progress(capsys):
    TicketFactory(priority="URGENT", created_at=timezone.now() - dt.timedelta(hours=1))
    call_command("escalate_sla_breaches")
    out = capsys.readouterr().out
    assert "1 new breach(es) on 1 ticket(s)" in out
