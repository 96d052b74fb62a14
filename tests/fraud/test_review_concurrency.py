"""Two analysts at once on the alert queue: "take next" hands out distinct alerts."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from customer_ops.roles import Role
from fraud import services
from fraud.models import AlertReview
from tests.factories import FraudAlertFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_analysts_taking_next_at_once_get_distinct_alerts(make_staff):
    ana = make_staff(Role.FRAUD, username="ana-c")
    ben = make_staff(Role.FRAUD, username="ben-c")
    alerts = [FraudAlertFactory(alert_severity="HIGH") for _ in range(4)]
    for _ in range(3):  # several rounds: each time both ask at the same moment
        got = _together(lambda: services.alert_take_next(actor=ana), lambda: services.alert_take_next(actor=ben))
        assert None not in got and got[0].pk != got[1].pk, got
        AlertReview.objects.update(claimed_by=None, claimed_until=None)
    assert {a.pk for a in alerts}


def test_take_next_skips_an_alert_locked_by_another_connection(make_staff):
    """The mechanism: SKIP LOCKED passes over the row another transaction holds."""
    ana = make_staff(Role.FRAUD, username="ana-l")
    first = FraudAlertFactory(alert_severity="CRITICAL")
    second = FraudAlertFactory(alert_severity="LOW")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM customer_fraud_alerts WHERE id = %s FOR UPDATE", [first.pk])
            assert services.alert_take_next(actor=ana) == second
            cursor.execute("ROLLBACK")
    finally:
        other.close()
