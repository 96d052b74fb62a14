"""Two people at once, with real separate database connections (one per thread)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from customer_ops.roles import Role
from tests.factories import TicketFactory
from tickets import selectors
from tickets.models import RefundRequest, Ticket
from tickets.services import refunds as refund_svc
from tickets.services import tickets as svc
from tickets.services.errors import Conflict, SupportError

# serialized_rollback: the roles (groups, permissions) made by migrations come back after the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _run_together(*calls):
    """Start each call in its own thread (own DB connection) at the same moment; collect results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = ("ok", call())
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[i] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_agents_at_once_second_gets_changed_since_message(make_staff):
    a = make_staff(Role.LEAD, username="lead_x", first_name="Lee", last_name="One")
    b = make_staff(Role.LEAD, username="lead_y", first_name="Lou", last_name="Two")
    ticket = TicketFactory(priority="MEDIUM")
    version = Ticket.objects.get(pk=ticket.pk).updated_at  # both forms were loaded with this version

    results = _run_together(
        lambda: svc.ticket_change_priority(ticket=ticket.pk, priority="HIGH", actor=a, expected_version=version),
        lambda: svc.ticket_change_priority(ticket=ticket.pk, priority="LOW", actor=b, expected_version=version),
    )
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, Conflict)
    winner = a if results[0][0] == "ok" else b
    assert f"changed by {winner.get_full_name()}" in error.message
    final = Ticket.objects.get(pk=ticket.pk)
    assert final.priority == ("HIGH" if winner == a else "LOW")
    # Exactly one change made it into the history (besides the creation).
    assert final.history.count() == 2


def test_several_agents_take_next_at_once_each_get_a_different_ticket(make_staff):
    agents = [make_staff(Role.AGENT, username=f"taker{i}") for i in range(4)]
    tickets = [TicketFactory(priority="HIGH") for _ in range(6)]

    results = _run_together(*[lambda a=a: svc.ticket_take_next(actor=a) for a in agents])
    assert all(kind == "ok" for kind, _ in results), results
    taken = [t.pk for _, t in results]
    assert None not in taken
    assert len(set(taken)) == len(agents)
    assigned = dict(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("pk", "assigned_to_agent_id"))
    for (_, ticket), agent in zip(results, agents, strict=True):
        assert assigned[ticket.pk] == agent.pk


# --- refunds of one order approved at once: never more than it was paid ---------------------------


def _two_pending_refunds_on_an_order_paid_40():
    from tests.factories import OrderFactory, RefundRequestFactory

    order = OrderFactory(order_amount=Decimal("40.00"))
    return order, [
        RefundRequestFactory(order=order, customer=order.customer, requested_amount=Decimal(amount))
        for amount in ("30.00", "20.00")
    ]


def test_two_leads_approving_refunds_of_one_order_at_once_cannot_pass_what_it_was_paid(make_staff):
    """Each approval alone fits the 40.00 paid, both together (50.00) do not: exactly one goes
    through, and the other lead gets the service's message (it waited for the order's lock,
    then read the first approval), not the database's refusal."""
    a, b = make_staff(Role.LEAD, username="lead_p"), make_staff(Role.LEAD, username="lead_q")
    order, (r30, r20) = _two_pending_refunds_on_an_order_paid_40()

    results = _run_together(
        lambda: refund_svc.refund_approve(refund=r30.pk, approved_amount="30.00", actor=a),
        lambda: refund_svc.refund_approve(refund=r20.pk, approved_amount="20.00", actor=b),
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, SupportError) and "more can be approved" in error.message, error
    statuses = dict(RefundRequest.objects.filter(order=order).values_list("refund_status", "approved_amount"))
    assert set(statuses) == {"APPROVED", "PENDING"} and statuses["PENDING"] is None
    assert selectors.approved_refunds(order.pk) <= Decimal("40.00")


def test_the_database_takes_two_approvals_of_one_order_one_after_the_other():
    """Raw SQL, two connections: the first UPDATE holds the order's row lock (the trigger's
    SELECT ... FOR UPDATE) until it commits; the second waits on that lock, then sees the
    first approval and is refused."""
    order, (r30, r20) = _two_pending_refunds_on_an_order_paid_40()
    approve = "UPDATE customer_refund_requests SET refund_status = 'APPROVED', approved_amount = %s WHERE id = %s"
    second: dict = {}

    def other_connection():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second["pid"] = cursor.fetchone()[0]
                cursor.execute(approve, ["20.00", r20.pk])
            second["result"] = "ok"
        except DatabaseError as error:
            second["result"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=other_connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(approve, ["30.00", r30.pk])  # holds the order's lock until the block ends
        thread.start()
        waited_on = None
        for _ in range(200):  # up to 10 s: the other UPDATE reaches the lock and waits there
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [second.get("pid")])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                waited_on = row[0]
                break
            time.sleep(0.05)
        assert waited_on == "Lock" and "result" not in second, second
    thread.join(timeout=30)
    assert isinstance(second["result"], DatabaseError), second
    assert "approved refunds of order" in str(second["result"])
    assert RefundRequest.objects.get(pk=r20.pk).refund_status == "PENDING"
    assert selectors.approved_refunds(order.pk) == Decimal("30.00")


def test_take_next_skips_a_ticket_locked_by_another_session(make_staff):
    """Take next passes over the most urgent ticket while another session holds its row lock
    (``SKIP LOCKED``) instead of queueing behind it: under a short ``lock_timeout``, waiting
    would fail; skipping returns the next ticket at once."""
    agent = make_staff(Role.AGENT, username="skipper")
    for _ in range(3):
        TicketFactory(priority="HIGH")
    most_urgent, second = selectors.next_unassigned().values_list("pk", flat=True)[:2]
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_lock():  # a second connection (its own thread), e.g. another agent's open transaction
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().filter(pk=most_urgent).exists()
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()
            done.set()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        try:
            taken = svc.ticket_take_next(actor=agent)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        holder.join(timeout=30)
    assert done.is_set()
    assert taken is not None and taken.pk == second
    assert Ticket.objects.get(pk=second).assigned_to_agent_id == agent.pk
    assert Ticket.objects.get(pk=most_urgent).assigned_to_agent_id is None
