"""Two people at once, with real separate database connections (one per thread)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from customer_ops.roles import Role
from tests.factories import TicketFactory
from tickets.models import Ticket
from tickets.services import tickets as svc
from tickets.services.errors import Conflict

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
