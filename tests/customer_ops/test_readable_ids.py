"""Human-readable ids come from PostgreSQL sequences: concurrent creators never collide."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from tests.factories import (
    CustomerFactory,
    DataDeletionRequestFactory,
    DisputeFactory,
    RefundRequestFactory,
    TicketFactory,
)
from tickets.models import Ticket


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factory", "field", "prefix"),
    [
        (TicketFactory, "ticket_id", "TKT"),
        (DisputeFactory, "dispute_id", "DSP"),
        (RefundRequestFactory, "refund_request_id", "RFD"),
        (DataDeletionRequestFactory, "request_id", "DEL"),
    ],
)
def test_ids_are_readable_and_returned_on_create(factory, field, prefix):
    row = factory()
    assert re.fullmatch(rf"{prefix}-\d{{8}}", getattr(row, field))


@pytest.mark.django_db
def test_rows_inserted_with_raw_sql_get_an_id_too():
    customer = CustomerFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customer_tickets (customer_id, issue_category, subject) VALUES (%s, 'ORDER', 'x') "
            "RETURNING ticket_id",
            [customer.pk],
        )
        assert cursor.fetchone()[0].startswith("TKT-")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the migrations' roles
def test_eight_threads_creating_tickets_get_distinct_ids():
    customer = CustomerFactory()

    def create(n: int) -> list[str]:
        try:
            return [
                Ticket.objects.create(customer=customer, issue_category="ORDER", subject=f"t{n}-{i}").ticket_id
                for i in range(25)
            ]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [i for batch in pool.map(create, range(8)) for i in batch]
    assert len(ids) == 200
    assert len(set(ids)) == 200
    assert Ticket.objects.count() == 200
