"""Bad input through the admin forms: a clear form error, nothing written, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, OrderFactory, TicketFactory


def _ticket_form(ticket, **overrides):
    data = {
        "customer": ticket.customer_id,
        "order": "",
        "service_type": "",
        "issue_category": ticket.issue_category,
        "issue_subcategory": "",
        "subject": ticket.subject,
        "description": ticket.description,
        "attachments": "",
        "priority": ticket.priority,
        "status": ticket.status,
        "assigned_to_agent_name": "",
        "resolution": "",
        "follow_up_required": "",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_satisfaction_rating", "6", "less than or equal to 5"),
        ("customer_satisfaction_rating", "0", "greater than or equal to 1"),
        ("priority", "SOMEDAY", "Select a valid choice"),
    ],
)
def test_bad_ticket_input_is_a_form_error(admin_client, field, value, message):
    ticket = TicketFactory()
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    response = admin_client.post(url, _ticket_form(ticket, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    before = ticket.updated_at
    ticket.refresh_from_db()
    assert ticket.updated_at == before


@pytest.mark.django_db
def test_negative_order_amount_is_a_form_error(admin_client):
    customer = CustomerFactory()
    response = admin_client.post(
        reverse("admin:customer_ops_order_add"),
        {
            "order_number": "ORD-NEG",
            "customer": customer.pk,
            "service_type": "FOOD",
            "status": "PLACED",
            "order_amount": "-5.00",
            "discount_amount": "0",
            "tip_amount": "0",
        },
    )
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert not customer.orders.exists()


@pytest.mark.django_db
def test_approved_above_requested_is_a_form_error(admin_client):
    order = OrderFactory()
    response = admin_client.post(
        reverse("admin:tickets_refundrequest_add"),
        {
            "customer": order.customer_id,
            "order": order.pk,
            "refund_type": "FULL",
            "refund_reason": "Missing",
            "requested_amount": "10.00",
            "approved_amount": "12.00",
            "refund_status": "PENDING",
        },
    )
    assert response.status_code == 200
    assert "approved_amount cannot exceed requested_amount" in response.content.decode()
    assert not order.refund_requests.exists()
