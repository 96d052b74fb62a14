"""The fraud queues read their first page from an index in their own order: the cost of a
page does not grow with the number of open alerts (no sort of them all)."""

from __future__ import annotations

import pytest

from fraud import selectors
from tests.assertions import explain
from tests.factories import FraudAlertFactory

pytestmark = pytest.mark.django_db


def test_alert_queue_is_read_in_order_from_the_triage_index():
    for severity in ("LOW", "CRITICAL", "HIGH", "MEDIUM"):
        FraudAlertFactory(alert_severity=severity)
    FraudAlertFactory(alert_severity="HIGH", is_resolved=True)
    assert [a.alert_severity for a in selectors.alert_queue()] == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    plan = explain(selectors.alert_queue()[:100], in_order=True)
    assert "customer_fraud_alerts" not in plan.whole, plan.text
    assert plan.uses("customer_fraud_alerts") == {"fraud_alerts_triage_idx"}, plan.text
    assert "Sort" not in plan.text, plan.text  # the index gives the order: no sort of every open alert
