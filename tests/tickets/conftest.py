import pytest

from customer_ops.roles import Role
from tests.factories import OrderFactory, TicketFactory


@pytest.fixture
def agent(make_staff):
    return make_staff(Role.AGENT, username="agent_a", first_name="Alex", last_name="Agent")


@pytest.fixture
def agent2(make_staff):
    return make_staff(Role.AGENT, username="agent_b", first_name="Sam", last_name="Okafor")


@pytest.fixture
def lead(make_staff):
    return make_staff(Role.LEAD, username="lead_a", first_name="Lee", last_name="Lead")


@pytest.fixture
def lead2(make_staff):
    return make_staff(Role.LEAD, username="lead_b", first_name="Lou", last_name="Lead")


@pytest.fixture
def fraud(make_staff):
    return make_staff(Role.FRAUD, username="fraud_a")


@pytest.fixture
def order(db):
    return OrderFactory(order_amount="40.00")


@pytest.fixture
def ticket(order):
    return TicketFactory(customer=order.customer, order=order, priority="MEDIUM")


def fresh(obj):
    obj.refresh_from_db()
    return obj
