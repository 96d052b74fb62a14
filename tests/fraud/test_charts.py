"""The dashboard's fraud-alert chart, with and without a service filter."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.utils import timezone

from analytics.filters import dashboard_filters
from fraud.charts import alerts_per_day
from tests.factories import FraudAlertFactory, OrderFactory


@pytest.mark.django_db
@pytest.mark.parametrize("service, expected", [("", 3), ("FOOD", 1), ("RIDE", 1), ("PARCEL", 0)])
def test_alerts_per_day_counts_the_alerts_of_the_services_orders(service, expected):
    FraudAlertFactory(order=OrderFactory(service_type="FOOD"), alert_severity="HIGH")
    FraudAlertFactory(order=OrderFactory(service_type="RIDE"), alert_severity="LOW")
    FraudAlertFactory(order=None, alert_severity="HIGH")  # no order: counted under "all services" only
    query = QueryDict(mutable=True)
    query["service_type"] = service
    _, f = dashboard_filters(query)
    today = timezone.now().date().isoformat()
    chart = alerts_per_day(f)
    column = chart["labels"].index(today)
    assert sum(dataset["data"][column] for dataset in chart["datasets"]) == expected
