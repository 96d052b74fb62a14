"""The fraud queues read their first page from an index in their own order: the cost of a
page does not grow with the number of open alerts (no sort of them all)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from fraud import selectors
from tests.factories import FraudAlertFactory

pytestmark = pytest.mark.django_db


def _plan_without_sorting(qs) -> str:
    """EXPLAIN with sorts, bitmap and sequential scans priced out: the plan keeps a Sort only
    when no index can give the query's order (a tiny test table would be sorted anyway)."""
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_sort = on; SET LOCAL enable_bitmapscan = on; SET LOCAL enable_seqscan = on")
    return text


def test_alert_queue_is_read_in_order_from_the_triage_index():
    for severity in ("LOW", "CRITICAL", "HIGH", "MEDIUM"):
        FraudAlertFactory(alert_severity=severity)
    FraudAlertFactory(alert_severity="HIGH", is_resolved=True)
    assert [a.alert_severity for a in selectors.alert_queue()] == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    plan = _plan_without_sorting(selectors.alert_queue()[:100])
    assert "Index Scan using fraud_alerts_triage_idx" in plan, plan
    assert "Sort" not in plan, plan  # the index gives the order: no sort of every open alert
