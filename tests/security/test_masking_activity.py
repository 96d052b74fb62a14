"""Analysts see the activity log's device ids and IP addresses masked (declared personal data)."""

import pytest
from django.urls import reverse

from customer_ops.roles import Role
from tests.factories import ActivityLogFactory


@pytest.mark.django_db
def test_analyst_sees_activity_log_network_fields_masked(client, make_staff):
    row = ActivityLogFactory(device_id="dev-SECRET-42", ip_address="203.0.113.99")
    client.force_login(make_staff(Role.ANALYST))
    for url in (
        reverse("admin:analytics_activitylog_changelist"),
        reverse("admin:analytics_activitylog_change", args=[row.pk]),
    ):
        page = client.get(url).content.decode()
        assert "dev-SECRET-42" not in page and "203.0.113.99" not in page, url


@pytest.mark.django_db
def test_fraud_analyst_sees_them_in_clear(client, make_staff):
    row = ActivityLogFactory(device_id="dev-SECRET-42", ip_address="203.0.113.99")
    client.force_login(make_staff(Role.FRAUD))
    page = client.get(reverse("admin:analytics_activitylog_change", args=[row.pk])).content.decode()
    assert "dev-SECRET-42" in page
