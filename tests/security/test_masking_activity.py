"""Analysts see the activity log's device ids and IP addresses masked (declared personal data)."""

import pytest
from django.urls import reverse

from customer_ops.masking import mask_value
from customer_ops.roles import Role
from tests.assertions import assert_page_shows
from tests.factories import ActivityLogFactory


@pytest.mark.django_db
def test_analyst_sees_activity_log_network_fields_masked(client, make_staff):
    row = ActivityLogFactory(device_id="dev-SECRET-42", ip_address="203.0.113.99")
    client.force_login(make_staff(Role.ANALYST))
    masked = [mask_value("dev-SECRET-42"), mask_value("203.0.113.99")]  # d••• and 2•••
    for url in (
        reverse("admin:analytics_activitylog_changelist"),
        reverse("admin:analytics_activitylog_change", args=[row.pk]),
    ):
        assert_page_shows(client.get(url), present=masked, absent=["dev-SECRET-42", "203.0.113.99"])


@pytest.mark.django_db
def test_fraud_analyst_sees_them_in_clear(client, make_staff):
    row = ActivityLogFactory(device_id="dev-SECRET-42", ip_address="203.0.113.99")
    client.force_login(make_staff(Role.FRAUD))
    page = client.get(reverse("admin:analytics_activitylog_change", args=[row.pk])).content.decode()
    assert "dev-SECRET-42" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "masked"), [(Role.ANALYST, True), (Role.FRAUD, False)])
def test_a_list_names_the_customer_as_the_viewer_may_see_it(client, make_staff, role, masked):
    """The customer column is the customer's str(), which asks the request's viewer (the
    user behind request.user's lazy wrappers, ActorMiddleware) whether to mask the name."""
    row = ActivityLogFactory(customer__full_name="Zelda Quartermain")
    client.force_login(make_staff(role))
    shown, hidden = [f"customer #{row.customer_id}"], [f"Zelda Quartermain (#{row.customer_id})"]
    present, absent = (shown, hidden) if masked else (hidden, shown)
    assert_page_shows(client.get(reverse("admin:analytics_activitylog_changelist")), present=present, absent=absent)
