"""The customer app's endpoints: open a ticket, write to it, read it, rate it (issue 22)."""

from __future__ import annotations

import json

import pytest

from api.models import ApiCall
from compliance.models import AuditLog
from customer_ops.scopes import TICKETS_READ, TICKETS_WRITE
from tests.api.conftest import assert_problem, bearer
from tests.assertions import unchanged
from tests.factories import CustomerFactory, OrderFactory, TicketMessageFactory, UserFactory
from tests.tickets.factories import InternalNoteFactory
from tickets.choices import SenderType, TicketStatus
from tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db

TABLES = (Ticket, TicketMessage, AuditLog)


@pytest.fixture
def app(make_token):
    """The customer app's token (tickets:read and tickets:write)."""
    return bearer(make_token([TICKETS_WRITE, TICKETS_READ], name="customer-app")[1])


@pytest.fixture
def customer():
    return CustomerFactory(full_name="Rosa Customer")


def post(client, path, body, headers, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **headers, **extra)


def ticket_body(customer, **overrides):
    return {
        "customer_id": customer.pk,
        "service_type": "FOOD",
        "category": "DELIVERY",
        "subject": "Late order",
        "description": "Ordered an hour ago.",
        **overrides,
    }


def opened(client, app, customer, **overrides) -> dict:
    response = post(client, "/api/v1/tickets", ticket_body(customer, **overrides), app)
    assert response.status_code == 201, response.content
    return response.json()


def test_open_ticket_writes_ticket_first_message_and_audit_as_the_customer(client, app, customer):
    order = OrderFactory(customer=customer, service_type="FOOD")
    body = opened(client, app, customer, order_id=order.pk, attachments=["https://files.example/a.png"])

    assert body["status"] == "OPEN" and body["may_write"] and not body["may_rate"]
    ticket = Ticket.objects.get(ticket_id=body["ticket_id"])
    assert ticket.customer_id == customer.pk and ticket.order_id == order.pk
    first = ticket.messages.get()
    assert first.sender_type == SenderType.CUSTOMER and first.message_text == "Ordered an hour ago."
    entry = AuditLog.objects.get(customer_id=customer.pk, action_field="customer_tickets")
    assert entry.actor_type == "CUSTOMER" and entry.actor_id == customer.pk
    call = ApiCall.objects.get(operation="open_ticket")
    assert call.status == 201 and call.affected_ids == [body["ticket_id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service_type": "BOAT"}, "service_type"),
        ({"category": "NOPE"}, "category"),
        ({"subject": ""}, "subject"),
        ({"attachments": ["javascript:alert(1)"]}, "attachments"),
        ({"attachments": ["ftp://files.example/a"]}, "attachments"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(client, app, customer, overrides, field):
    with unchanged(*TABLES):
        response = post(client, "/api/v1/tickets", ticket_body(customer, **overrides), app)
    body = assert_problem(response, 422)
    assert any(field in (e.get("field") or "") for e in body["errors"]), body


def test_unknown_customer_and_someone_elses_order_are_refused(client, app, customer):
    with unchanged(*TABLES):
        assert_problem(post(client, "/api/v1/tickets", ticket_body(customer, customer_id=10**12), app), 404)
        other_order = OrderFactory(customer=CustomerFactory(), service_type="FOOD")
        body = assert_problem(post(client, "/api/v1/tickets", ticket_body(customer, order_id=other_order.pk), app), 422)
    assert body["errors"][0]["field"] == "order"


def test_scopes_are_enforced_per_operation(client, make_token, customer):
    read_only = bearer(make_token([TICKETS_READ])[1])
    with unchanged(*TABLES):
        assert_problem(post(client, "/api/v1/tickets", ticket_body(customer), read_only), 403, detail="tickets:write")
    assert_problem(client.post("/api/v1/tickets", "{}", content_type="application/json"), 401)


def test_message_to_an_open_ticket_then_refused_on_a_closed_one(client, app, customer):
    ticket_id = opened(client, app, customer)["ticket_id"]
    response = post(
        client, f"/api/v1/tickets/{ticket_id}/messages", {"customer_id": customer.pk, "text": "Any news?"}, app
    )
    assert response.status_code == 201, response.content
    assert response.json()["text"] == "Any news?"

    Ticket.objects.filter(ticket_id=ticket_id).update(status=TicketStatus.CLOSED)
    with unchanged(*TABLES):
        response = post(
            client, f"/api/v1/tickets/{ticket_id}/messages", {"customer_id": customer.pk, "text": "Hi"}, app
        )
    assert_problem(response, 409, detail="closed")


def test_another_customers_ticket_is_a_404_for_every_operation(client, app, customer):
    ticket_id = opened(client, app, customer)["ticket_id"]
    stranger = CustomerFactory()
    with unchanged(*TABLES):
        assert_problem(client.get(f"/api/v1/tickets/{ticket_id}", {"customer_id": stranger.pk}, **app), 404)
        assert_problem(client.get(f"/api/v1/tickets/{ticket_id}/messages", {"customer_id": stranger.pk}, **app), 404)
        body = {"customer_id": stranger.pk, "text": "mine now"}
        assert_problem(post(client, f"/api/v1/tickets/{ticket_id}/messages", body, app), 404)
        assert_problem(
            post(client, f"/api/v1/tickets/{ticket_id}/rating", {"customer_id": stranger.pk, "rating": 1}, app), 404
        )


def test_thread_pages_by_cursor_and_never_shows_notes_or_staff_ids(client, app, customer):
    ticket_id = opened(client, app, customer)["ticket_id"]
    ticket = Ticket.objects.get(ticket_id=ticket_id)
    agent = UserFactory(username="agent-x", first_name="Agatha", last_name="Agent")
    secret = "INTERNAL-NOTE-SECRET-5e1f"
    InternalNoteFactory(ticket=ticket, body=secret, author=agent)
    staff_id = 987_654_321
    for i in range(4):
        TicketMessageFactory(ticket=ticket, sender_type=SenderType.AGENT, sender_id=staff_id, message_text=f"reply {i}")

    seen, after = [], None
    while True:
        query = {"customer_id": customer.pk, "limit": 2, **({"after": after} if after is not None else {})}
        response = client.get(f"/api/v1/tickets/{ticket_id}/messages", query, **app)
        assert response.status_code == 200, response.content
        raw = response.content.decode()
        assert secret not in raw and str(staff_id) not in raw and f'"{agent.pk}"' not in raw
        body = response.json()
        seen += [m["text"] for m in body["items"]]
        after = body["next_cursor"]
        if after is None:
            break
    assert seen == ["Ordered an hour ago.", "reply 0", "reply 1", "reply 2", "reply 3"]
    status = client.get(f"/api/v1/tickets/{ticket_id}", {"customer_id": customer.pk}, **app)
    assert secret not in status.content.decode() and str(staff_id) not in status.content.decode()


def test_rating_once_after_resolution(client, app, customer):
    ticket_id = opened(client, app, customer)["ticket_id"]
    rate = {"customer_id": customer.pk, "rating": 4}
    with unchanged(*TABLES):
        assert_problem(post(client, f"/api/v1/tickets/{ticket_id}/rating", rate, app), 422, detail="resolved")
        assert_problem(post(client, f"/api/v1/tickets/{ticket_id}/rating", {**rate, "rating": 6}, app), 422)

    Ticket.objects.filter(ticket_id=ticket_id).update(status=TicketStatus.RESOLVED)
    response = post(client, f"/api/v1/tickets/{ticket_id}/rating", rate, app)
    assert response.status_code == 201 and response.json()["rating"] == 4
    with unchanged(*TABLES):
        assert_problem(post(client, f"/api/v1/tickets/{ticket_id}/rating", {**rate, "rating": 1}, app), 422)
    assert Ticket.objects.get(ticket_id=ticket_id).customer_satisfaction_rating == 4


def test_a_retried_open_with_one_key_opens_one_ticket(client, app, customer):
    key = {"HTTP_IDEMPOTENCY_KEY": "open-1"}
    first = post(client, "/api/v1/tickets", ticket_body(customer), app, **key)
    again = post(client, "/api/v1/tickets", ticket_body(customer), app, **key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.filter(customer=customer).count() == 1
    assert_problem(post(client, "/api/v1/tickets", ticket_body(customer, subject="Other"), app, **key), 422)
