"""Refund workflows: raise (validation against the order), approve, reject, process, complete."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from compliance.models import AuditLog
from tests.assertions import unchanged
from tests.factories import OrderFactory, RefundRequestFactory
from tests.tickets.conftest import fresh
from tickets.models import RefundOrigin, RefundRequest, TicketMessage
from tickets.services import refunds as svc
from tickets.services.errors import Conflict, NotAllowed, SupportError

pytestmark = pytest.mark.django_db

# What a refused call could have written: each refusal re-reads it (tests/README.md).
REFUND_TABLES = (RefundRequest, RefundRequest.history.model, RefundOrigin, TicketMessage)

ITEMS = [{"item": "Large fries", "quantity": 1, "amount": "3.50"}, {"item": "Cola", "quantity": 2, "amount": "4.00"}]


def _raise(agent, order, **kwargs):
    args = {"refund_type": "PARTIAL", "refund_reason": "Missing items", "requested_amount": "7.50"}
    args["refund_items"] = ITEMS
    args.update(kwargs)
    return svc.refund_raise(order=order, actor=agent, **args)


def test_raise_from_a_ticket_someone_else_works_is_refused(agent, agent2, lead, order, ticket):
    from tickets.services import tickets as ticket_svc

    ticket_svc.ticket_assign(ticket=ticket, agent=agent2, actor=agent2)
    with pytest.raises(NotAllowed, match="assigned to"):
        _raise(agent, order, ticket=ticket)
    assert not RefundRequest.objects.filter(order=order).exists()  # re-read: nothing written
    assert not RefundOrigin.objects.filter(ticket=ticket).exists()
    assert _raise(lead, order, ticket=ticket).refund_status == "PENDING"  # leads work any ticket


def test_raise_partial_from_a_ticket(agent, order, ticket):
    refund = _raise(agent, order, ticket=ticket, refund_reason_code="MISSING_ITEM")
    assert refund.refund_status == "PENDING"
    assert refund.requested_amount == Decimal("7.50")
    assert refund.refund_request_id.startswith("RFD-")
    assert refund.refund_items[0] == {"item": "Large fries", "quantity": 1, "amount": "3.50"}
    origin = RefundOrigin.objects.get(refund=refund)
    assert origin.raised_by == agent and origin.ticket == ticket
    assert TicketMessage.objects.filter(ticket=ticket, message_text__contains=refund.refund_request_id).exists()
    assert AuditLog.objects.filter(action_type="CREATE", action_field="customer_refund_requests").exists()
    assert refund.history.first().history_user == agent


def test_full_refund_defaults_to_what_the_order_allows(agent, order):
    RefundRequestFactory(order=order, customer=order.customer, requested_amount="10.00", refund_status="PENDING")
    refund = svc.refund_raise(order=order, refund_type="FULL", refund_reason="Never arrived", actor=agent)
    assert refund.requested_amount == Decimal("30.00")


def test_rejected_refunds_free_the_amount_again(agent, order):
    RefundRequestFactory(order=order, customer=order.customer, requested_amount="40.00", refund_status="REJECTED")
    refund = svc.refund_raise(order=order, refund_type="FULL", refund_reason="Never arrived", actor=agent)
    assert refund.requested_amount == Decimal("40.00")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"requested_amount": "-5"}, "requested_amount", "more than zero"),
        ({"requested_amount": "0"}, "requested_amount", "more than zero"),
        ({"requested_amount": "abc"}, "requested_amount", "amount such as"),
        ({"requested_amount": "1.234"}, "requested_amount", "two decimals"),
        ({"requested_amount": "8.00"}, "requested_amount", "exceeds the items"),
        ({"refund_type": "ITEM", "requested_amount": "5.00"}, "requested_amount", "items' total"),
        ({"refund_items": []}, "refund_items", "List the items"),
        ({"refund_items": [{"item": "", "quantity": 1, "amount": "1"}]}, "refund_items", "no name"),
        ({"refund_items": [{"item": "Fries", "quantity": 0, "amount": "1"}]}, "refund_items", "quantity"),
        ({"refund_items": [{"item": "Fries", "quantity": 1, "amount": "-1"}]}, "refund_items", "more than zero"),
        ({"refund_items": [{"item": "Caviar", "quantity": 1, "amount": "99.00"}]}, "refund_items", "order"),
        ({"refund_type": "FULL", "requested_amount": "41.00", "refund_items": None}, "requested_amount", "full"),
        ({"refund_type": "DELIVERY_FEE", "requested_amount": "9.00", "refund_items": None}, "requested_amount", "fee"),
        ({"refund_type": "DELIVERY_FEE", "requested_amount": "2.00"}, "refund_items", "partial and item"),
        ({"refund_type": "BOGUS"}, "refund_type", "Unknown refund type"),
        ({"refund_reason": " "}, "refund_reason", "reason"),
        ({"refund_reason_code": "NOPE"}, "refund_reason_code", "reason code"),
    ],
)
def test_raise_bad_input_is_refused_and_nothing_written(agent, order, kwargs, field, message):
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match=message) as err:
        _raise(agent, order, **kwargs)
    assert err.value.field == field
    assert not RefundRequest.objects.exists()
    assert not RefundOrigin.objects.exists()


def test_raise_over_what_the_order_still_allows(agent, order):
    RefundRequestFactory(order=order, customer=order.customer, requested_amount="38.00")
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="allows at most 2.00 more"):
        _raise(agent, order)
    assert RefundRequest.objects.count() == 1


def test_raise_on_an_uncompleted_order_is_refused(agent):
    order = OrderFactory(status="CANCELLED")
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="cannot be refunded"):
        _raise(agent, order)


def test_raise_from_another_customers_ticket_is_refused(agent, order):
    from tests.factories import TicketFactory

    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="another customer"):
        _raise(agent, order, ticket=TicketFactory())


def test_analyst_roles_cannot_raise(fraud, order):
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed):
        _raise(fraud, order)


def test_requested_amount_never_changes_after_creation(agent, order):
    refund = _raise(agent, order)
    with unchanged(*REFUND_TABLES), pytest.raises(Exception, match="never"):
        RefundRequest.objects.filter(pk=refund.pk).update(requested_amount=Decimal("1.00"))
    from django.db import connection

    with unchanged(*REFUND_TABLES), pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customer_refund_requests SET requested_amount = 1 WHERE id = %s", [refund.pk])


# --- approve / reject -------------------------------------------------------------------------


def test_lead_approves_within_limit(agent, lead, order):
    refund = _raise(agent, order)
    svc.refund_approve(refund=refund, approved_amount="5.00", actor=lead)
    r = fresh(refund)
    assert r.refund_status == "APPROVED" and r.approved_amount == Decimal("5.00")
    assert r.processed_by == lead and r.processed_at is not None
    assert AuditLog.objects.filter(action_field="customer_refund_requests.refund_status", new_value="APPROVED")


def test_approved_above_requested_is_refused(agent, lead, order):
    refund = _raise(agent, order)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="cannot exceed the requested") as err:
        svc.refund_approve(refund=refund, approved_amount="7.51", actor=lead)
    assert err.value.field == "approved_amount"
    assert fresh(refund).refund_status == "PENDING"


@pytest.mark.parametrize("amount", ["0", "-1", "x"])
def test_approved_amount_must_be_positive(agent, lead, order, amount):
    refund = _raise(agent, order)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError):
        svc.refund_approve(refund=refund, approved_amount=amount, actor=lead)
    assert fresh(refund).approved_amount is None


def test_lead_cannot_approve_own_request(lead, order):
    refund = _raise(lead, order)
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed, match="raised by you"):
        svc.refund_approve(refund=refund, approved_amount="7.50", actor=lead)
    assert fresh(refund).refund_status == "PENDING"


def test_lead_cannot_approve_above_role_limit(agent, lead, settings):
    order = OrderFactory(order_amount="500.00")
    refund = svc.refund_raise(order=order, refund_type="FULL", refund_reason="Never arrived", actor=agent)
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed, match="above your approval limit") as err:
        svc.refund_approve(refund=refund, approved_amount="500.00", actor=lead)
    assert err.value.field == "approved_amount"
    assert fresh(refund).refund_status == "PENDING"
    svc.refund_approve(refund=refund, approved_amount="150.00", actor=lead)  # at the limit
    assert fresh(refund).approved_amount == Decimal("150.00")


def test_agent_cannot_approve(agent, agent2, order):
    refund = _raise(agent2, order)
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed):
        svc.refund_approve(refund=refund, approved_amount="1.00", actor=agent)


def test_reject_needs_a_reason(agent, lead, order):
    refund = _raise(agent, order)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="rejection reason") as err:
        svc.refund_reject(refund=refund, reason="  ", actor=lead)
    assert err.value.field == "rejection_reason"
    svc.refund_reject(refund=refund, reason="Delivery confirmed by photo", actor=lead)
    r = fresh(refund)
    assert r.refund_status == "REJECTED" and r.rejection_reason == "Delivery confirmed by photo"


def test_decided_request_cannot_be_decided_again(agent, lead, order):
    refund = _raise(agent, order)
    svc.refund_reject(refund=refund, reason="No", actor=lead)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="only a pending request"):
        svc.refund_approve(refund=refund, approved_amount="1.00", actor=lead)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="only a pending request"):
        svc.refund_reject(refund=refund, reason="No", actor=lead)


# --- process / complete -----------------------------------------------------------------------


def test_process_then_complete(agent, lead, lead2, order):
    refund = _raise(agent, order)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="only an approved request"):
        svc.refund_start_processing(refund=refund, refund_mode="WALLET", actor=lead)
    svc.refund_approve(refund=refund, approved_amount="7.50", actor=lead)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="only a processing"):
        svc.refund_complete(refund=refund, actor=lead)
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="how the refund is paid"):
        svc.refund_start_processing(refund=refund, refund_mode="CASH", actor=lead)
    svc.refund_start_processing(refund=refund, refund_mode="WALLET", actor=lead2)
    r = fresh(refund)
    assert r.refund_status == "PROCESSING" and r.refund_mode == "WALLET" and r.processed_by == lead2
    svc.refund_complete(refund=refund, actor=lead2)
    r = fresh(refund)
    assert r.refund_status == "COMPLETED" and r.completed_at is not None
    assert r.history.count() == 4


def test_agent_cannot_process(agent, lead, order):
    refund = _raise(agent, order)
    svc.refund_approve(refund=refund, approved_amount="7.50", actor=lead)
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed):
        svc.refund_start_processing(refund=refund, refund_mode="WALLET", actor=agent)


def test_refund_version_conflict(agent, lead, lead2, order):
    refund = _raise(agent, order)
    version = fresh(refund).updated_at
    svc.refund_reject(refund=refund, reason="No", actor=lead2, expected_version=version)
    with unchanged(*REFUND_TABLES), pytest.raises(Conflict, match="changed by Lou Lead"):
        svc.refund_approve(refund=refund, approved_amount="7.50", actor=lead, expected_version=version)
