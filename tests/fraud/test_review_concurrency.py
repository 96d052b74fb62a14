"""Two analysts at once on the review queues: "take next" hands out distinct alerts and
suspicious activities, passes over a row another transaction holds, and a lapsed claim is
taken by the next analyst.

Every call that could wait on a row lock runs with a ``lock_timeout``: were ``SKIP LOCKED``
dropped from the take-next query, the call would wait on the held row; the timeout turns
that wait into a failure in seconds instead of a hung test run.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from customer_ops.errors import Conflict
from customer_ops.roles import Role
from fraud import services
from fraud.models import ActivityClaim, AlertReview
from tests.factories import FraudAlertFactory, SuspiciousActivityFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LOCK_TIMEOUT = "3s"  # far above a take-next's own time, far below a hung run's


def _bounded(call):
    """``call()`` in a transaction whose lock waits give up after :data:`LOCK_TIMEOUT`."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        return call()


def _together(*calls):
    """Run the calls at the same moment, one thread (and connection) each; a call that fails
    leaves None in its place."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = _bounded(call)
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
    for _ in range(4):
        FraudAlertFactory(alert_severity="HIGH")
    for _ in range(3):  # several rounds: each time both ask at the same moment
        got = _together(lambda: services.alert_take_next(actor=ana), lambda: services.alert_take_next(actor=ben))
        assert None not in got and got[0].pk != got[1].pk, got
        assert set(AlertReview.objects.filter(claimed_by__isnull=False).values_list("pk", "claimed_by")) == {
            (got[0].pk, ana.pk),
            (got[1].pk, ben.pk),
        }
        AlertReview.objects.update(claimed_by=None, claimed_until=None)


def test_two_analysts_taking_next_at_once_get_distinct_activities(make_staff):
    ana = make_staff(Role.FRAUD, username="ana-a")
    ben = make_staff(Role.FRAUD, username="ben-a")
    for _ in range(4):
        SuspiciousActivityFactory(requires_review=True, reviewed=False)
    for _ in range(3):
        got = _together(lambda: services.activity_take_next(actor=ana), lambda: services.activity_take_next(actor=ben))
        assert None not in got and got[0].pk != got[1].pk, got
        assert set(ActivityClaim.objects.filter(claimed_by__isnull=False).values_list("pk", "claimed_by")) == {
            (got[0].pk, ana.pk),
            (got[1].pk, ben.pk),
        }
        ActivityClaim.objects.update(claimed_by=None, claimed_until=None)


@pytest.mark.parametrize(
    ("table", "make", "take_next"),
    [
        (
            "customer_fraud_alerts",
            lambda severity: FraudAlertFactory(alert_severity=severity),
            services.alert_take_next,
        ),
        (
            "customer_suspicious_activity",
            lambda _: SuspiciousActivityFactory(requires_review=True, reviewed=False),
            services.activity_take_next,
        ),
    ],
    ids=["alerts", "activities"],
)
def test_take_next_skips_a_row_locked_by_another_connection(make_staff, table, make, take_next):
    """The mechanism: SKIP LOCKED passes over the row another transaction holds (without it
    the call waits on that row, and the lock timeout fails the test)."""
    ana = make_staff(Role.FRAUD, username="ana-l")
    first = make("CRITICAL")  # first in the queue: most severe, or oldest
    second = make("LOW")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [first.pk])
            assert _bounded(lambda: take_next(actor=ana)) == second
            cursor.execute("ROLLBACK")
    finally:
        other.close()


def test_a_lapsed_activity_claim_can_be_taken_by_another_analyst(make_staff):
    ana = make_staff(Role.FRAUD, username="ana-x", first_name="Ana", last_name="Alpha")
    ben = make_staff(Role.FRAUD, username="ben-x", first_name="Ben", last_name="Beta")
    activity = SuspiciousActivityFactory(requires_review=True, reviewed=False)
    services.activity_claim(activity=activity, actor=ana)
    assert services.activity_take_next(actor=ben) is None  # held: nothing for Ben
    ActivityClaim.objects.filter(pk=activity.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert _bounded(lambda: services.activity_take_next(actor=ben)) == activity
    claim = ActivityClaim.objects.get(pk=activity.pk)
    assert claim.claimed_by == ben and claim.claimed_until > timezone.now()
    with pytest.raises(Conflict, match="held by Ben Beta"):  # Ana's claim is over
        services.suspicious_review(activity=activity, notes="fine", actor=ana)
    services.suspicious_review(activity=activity, notes="fine", actor=ben)
    activity.refresh_from_db()
    assert activity.reviewed
