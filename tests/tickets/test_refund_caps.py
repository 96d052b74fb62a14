"""Per order: the approved refunds never exceed what was paid, and the approval limit
applies to the order's approved total (tickets.services.refunds, tickets.triggers).

Proven in the service (a clear error, nothing written), with raw SQL as the runtime role
(the database's trigger, whoever writes), and under concurrency (tests/tickets/
test_concurrency.py). Amounts are hand-computed from the orders made here.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from tests.assertions import unchanged
from tests.factories import OrderFactory, RefundRequestFactory, UserFactory
from tests.tickets.conftest import fresh
from tickets import selectors
from tickets.choices import REFUND_APPROVED_STATUSES
from tickets.models import RefundOrigin, RefundRequest, TicketMessage
from tickets.services import refunds as svc
from tickets.services.errors import NotAllowed, SupportError

pytestmark = pytest.mark.django_db

REFUND_TABLES = (RefundRequest, RefundRequest.history.model, RefundOrigin, TicketMessage)
OVER_PAID = "the approved refunds of order .* would total .*, more than the .* paid"


def _request(order, requested, status="PENDING", approved=None, **kwargs):
    """A request as another system (the customer app) writes it: not through refund_raise,
    whose own rule (claims within the order) would stop the over-claims these tests need."""
    return RefundRequestFactory(
        order=order,
        customer=order.customer,
        requested_amount=Decimal(requested),
        approved_amount=None if approved is None else Decimal(approved),
        refund_status=status,
        **kwargs,
    )


@pytest.fixture
def paid_40(db):
    return OrderFactory(order_amount=Decimal("40.00"))


# --- what was paid: the service ----------------------------------------------------------------


def test_approving_beyond_what_the_order_was_paid_is_refused(lead, paid_40):
    _request(paid_40, "25.00", "COMPLETED", approved="25.00")
    refund = _request(paid_40, "30.00")
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="at most 15.00 more can be approved") as err:
        svc.refund_approve(refund=refund, approved_amount="20.00", actor=lead)
    assert err.value.field == "approved_amount"
    assert fresh(refund).refund_status == "PENDING"
    svc.refund_approve(refund=refund, approved_amount="15.00", actor=lead)  # exactly up to what was paid
    assert selectors.approved_refunds(paid_40.pk) == Decimal("40.00")


@pytest.mark.parametrize("status", ["APPROVED", "PROCESSING", "COMPLETED"])
def test_every_approved_status_counts_and_rejected_and_pending_do_not(lead, paid_40, status):
    _request(paid_40, "30.00", status, approved="30.00")
    _request(paid_40, "40.00", "REJECTED")
    _request(paid_40, "40.00")  # pending: claimed, not approved
    refund = _request(paid_40, "20.00")
    with unchanged(*REFUND_TABLES), pytest.raises(SupportError, match="at most 10.00 more"):
        svc.refund_approve(refund=refund, approved_amount="11.00", actor=lead)
    svc.refund_approve(refund=refund, approved_amount="10.00", actor=lead)


def test_an_order_refunded_in_full_still_processes_and_completes(lead, lead2, paid_40):
    """At the cap, the steps after the approval (same amount) are not refused."""
    refund = _request(paid_40, "40.00")
    svc.refund_approve(refund=refund, approved_amount="40.00", actor=lead)
    svc.refund_start_processing(refund=refund, refund_mode="WALLET", actor=lead2)
    svc.refund_complete(refund=refund, actor=lead2)
    assert fresh(refund).refund_status == "COMPLETED"


def test_the_approval_screen_shows_what_is_approved_on_the_order(client, lead, paid_40):
    _request(paid_40, "12.50", "APPROVED", approved="12.50")
    refund = _request(paid_40, "20.00")
    client.force_login(lead)
    page = client.get(f"/admin/tickets/refundrequest/{refund.pk}/change/")
    assert page.status_code == 200
    assert '<span id="approved-on-order">12.50</span>' in page.content.decode()


# --- what was paid: the database, with raw SQL as the runtime role --------------------------


def _sql(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _approve_sql(refund, amount: str) -> str:
    return (
        f"UPDATE customer_refund_requests SET refund_status = 'APPROVED', approved_amount = {amount} "
        f"WHERE id = {refund.pk}"
    )


def test_the_database_refuses_an_update_that_approves_beyond_what_was_paid(paid_40):
    _request(paid_40, "25.00", "APPROVED", approved="25.00")
    refund = _request(paid_40, "30.00")
    with unchanged(*REFUND_TABLES), pytest.raises(DatabaseError, match=OVER_PAID), transaction.atomic():
        _sql(_approve_sql(refund, "20.00"))
    # the same UPDATE within what was paid goes through: the refusal is the rule, not the statement
    _sql(_approve_sql(refund, "15.00"))
    assert fresh(refund).approved_amount == Decimal("15.00")


def test_the_database_refuses_raising_an_approved_amount_beyond_what_was_paid(paid_40):
    _request(paid_40, "10.00", "COMPLETED", approved="10.00")
    approved = _request(paid_40, "40.00", "APPROVED", approved="30.00")
    with unchanged(*REFUND_TABLES), pytest.raises(DatabaseError, match=OVER_PAID), transaction.atomic():
        _sql(f"UPDATE customer_refund_requests SET approved_amount = 30.01 WHERE id = {approved.pk}")
    # an approved request without an amount counts at its requested amount
    with unchanged(*REFUND_TABLES), pytest.raises(DatabaseError, match=OVER_PAID), transaction.atomic():
        _sql(f"UPDATE customer_refund_requests SET approved_amount = NULL WHERE id = {approved.pk}")


def test_the_database_refuses_an_insert_already_approved_beyond_what_was_paid(paid_40):
    _request(paid_40, "25.00", "PROCESSING", approved="25.00")
    insert = (
        "INSERT INTO customer_refund_requests (customer_id, order_id, refund_type, refund_reason,"
        " requested_amount, approved_amount, refund_status) VALUES (%s, %s, 'PARTIAL', 'Missing items', %s, %s, %s)"
    )
    for status in REFUND_APPROVED_STATUSES:
        with unchanged(*REFUND_TABLES), pytest.raises(DatabaseError, match=OVER_PAID), transaction.atomic():
            _sql(insert, [paid_40.customer_id, paid_40.pk, "20.00", "15.01", status])
    _sql(insert, [paid_40.customer_id, paid_40.pk, "20.00", "15.00", "APPROVED"])  # up to the 40.00 paid
    _sql(insert, [paid_40.customer_id, paid_40.pk, "99.00", None, "PENDING"])  # a claim, not an approval
    assert selectors.approved_refunds(paid_40.pk) == Decimal("40.00")


def test_temporary_tables_cannot_stand_in_for_the_orders_the_trigger_reads(paid_40):
    """The runtime role may create TEMP tables, which come first in the search path; the
    trigger reads public.orders and public.customer_refund_requests all the same."""
    _request(paid_40, "25.00", "APPROVED", approved="25.00")
    refund = _request(paid_40, "30.00")
    with unchanged(*REFUND_TABLES), pytest.raises(DatabaseError, match=OVER_PAID), transaction.atomic():
        _sql("CREATE TEMP TABLE orders (id bigint, order_amount numeric) ON COMMIT DROP")
        _sql("INSERT INTO orders VALUES (%s, 1000000)", [paid_40.pk])
        _sql("CREATE TEMP TABLE customer_refund_requests (LIKE public.customer_refund_requests) ON COMMIT DROP")
        _sql(
            _approve_sql(refund, "20.00").replace(
                "UPDATE customer_refund_requests", "UPDATE public.customer_refund_requests"
            )
        )


def test_the_trigger_is_installed_with_schema_qualified_reads():
    """What the migration installed: the function names the public tables, and fires on
    both INSERT and UPDATE of customer_refund_requests."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.prosrc, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgrelid = 'public.customer_refund_requests'::regclass
              AND t.tgname LIKE 'pgtrigger_refunds_within_paid_%'
            """
        )
        ((source, definition),) = cursor.fetchall()
    assert "FROM public.orders" in source and "FROM public.customer_refund_requests" in source
    assert "FOR UPDATE" in source
    assert "BEFORE INSERT OR UPDATE" in definition


# --- the approval limit is per order ---------------------------------------------------------------


@pytest.fixture
def big_order(db):
    return OrderFactory(order_amount=Decimal("500.00"))


def _split(agent, order, parts: int, amount: str) -> list[RefundRequest]:
    return [
        svc.refund_raise(
            order=order,
            refund_type="PARTIAL",
            refund_reason="Missing items",
            requested_amount=amount,
            actor=agent,
            refund_items=[{"item": f"Item {n}", "quantity": 1, "amount": amount}],
        )
        for n in range(parts)
    ]


def test_a_large_refund_split_into_small_requests_is_held_to_the_limit(agent, lead, lead2, big_order):
    """Limit 150 (the lead role's): 300 asked as three requests of 100. The first approval
    fits; the second would bring the order to 200, for this lead and for any other lead."""
    first, second, third = _split(agent, big_order, 3, "100.00")
    svc.refund_approve(refund=first, approved_amount="100.00", actor=lead)
    for who in (lead, lead2):
        with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed, match="already approved for order") as err:
            svc.refund_approve(refund=second, approved_amount="100.00", actor=who)
        assert "would total 200.00, above your approval limit (150.00)" in err.value.message
        assert err.value.field == "approved_amount"
    svc.refund_approve(refund=second, approved_amount="50.00", actor=lead2)  # up to the limit for the order
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed, match="above your approval limit"):
        svc.refund_approve(refund=third, approved_amount="0.01", actor=lead)
    # someone with a higher limit (an administrator: none) decides the rest
    svc.refund_approve(refund=third, approved_amount="100.00", actor=UserFactory(is_superuser=True))
    assert selectors.approved_refunds(big_order.pk) == Decimal("250.00")


def test_the_limit_counts_approvals_made_elsewhere(lead, big_order):
    """Approved by the refund system or an administrator before: still the order's total."""
    _request(big_order, "140.00", "COMPLETED", approved="140.00")
    refund = _request(big_order, "20.00")
    with unchanged(*REFUND_TABLES), pytest.raises(NotAllowed, match="would total 160.00"):
        svc.refund_approve(refund=refund, approved_amount="20.00", actor=lead)
    svc.refund_approve(refund=refund, approved_amount="10.00", actor=lead)


def test_the_approval_queue_leaves_out_what_would_pass_the_limit_for_the_order(agent, lead, big_order):
    first, second = _split(agent, big_order, 2, "100.00")
    mine = {r.pk for r in selectors.awaiting_approval(RefundRequest.objects.all(), user=lead, limit=Decimal("150"))}
    assert mine == {first.pk, second.pk}
    svc.refund_approve(refund=first, approved_amount="100.00", actor=lead)
    mine = {r.pk for r in selectors.awaiting_approval(RefundRequest.objects.all(), user=lead, limit=Decimal("150"))}
    assert mine == set()
    anyone = selectors.awaiting_approval(RefundRequest.objects.all(), user=lead, limit=None)
    assert {r.pk for r in anyone} == {second.pk}
