"""Bad input through a stock admin form: a clear form error, nothing written, never a 500.

The workflow screens (ticket, refund, dispute, block, erasure) have their own bad-input
tests in their apps; this covers the generic admin forms every table falls back to."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from tests.assertions import unchanged
from tests.factories import CustomerFactory

# What a refused form could have written: each refusal re-reads it (tests/README.md).
CUSTOMER_TABLES = tuple(apps.get_app_config("customer_ops").get_models())


def _order_form(customer, **overrides):
    data = {
        "order_number": "ORD-FORM",
        "customer": customer.pk,
        "service_type": "FOOD",
        "status": "COMPLETED",
        "order_amount": "20.00",
        "discount_amount": "0",
        "tip_amount": "0",
        "customer_rating": "",
        "delivery_address": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_rating", "6", "less than or equal to 5"),
        ("customer_rating", "0", "greater than or equal to 1"),
        ("order_amount", "-5.00", "greater than or equal to 0"),
        ("service_type", "BOAT", "Select a valid choice"),
        ("status", "LOST", "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(admin_client, field, value, message):
    customer = CustomerFactory()
    with unchanged(*CUSTOMER_TABLES):
        response = admin_client.post(reverse("admin:customer_ops_order_add"), _order_form(customer, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not customer.orders.exists()


@pytest.mark.django_db
def test_good_input_is_saved(admin_client):
    customer = CustomerFactory()
    response = admin_client.post(reverse("admin:customer_ops_order_add"), _order_form(customer, customer_rating="5"))
    assert response.status_code == 302
    assert customer.orders.get().customer_rating == 5
