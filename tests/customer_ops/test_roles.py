"""Every role against every table's admin list and change page (ARCHITECTURE.md's matrix).

The expected matrix is transcribed here from ARCHITECTURE.md, independently of the
migrations that grant it, so a wrong grant fails a test.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from customer_ops.roles import Role
from tests.factories import FACTORIES

A, L, F, G, C, N = Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.COMPLIANCE, Role.ANALYST
ALL = {A, L, F, G, C, N}

EXPECTED_VIEW = {
    "customers": ALL,
    "orders": ALL,
    "customer_sessions": {F, C},  # not in the matrix: fraud evidence and data export
    "customer_tickets": {A, L, F, G, C},
    "customer_ticket_messages": {A, L, F, G},
    "customer_refund_requests": {A, L, F, G},
    "customer_disputes": {A, L, F, G, C},
    "customer_trust_score": {A, L, F, N},
    "customer_fraud_alerts": {F},
    "customer_blocks": {A, L, F, G},
    "customer_suspicious_activity": {F},
    "customer_verification_history": {A, L, F, C},
    "customer_login_history": {F, C},
    "customer_activity_log": {A, L, F, C, N},
    "customer_daily_analytics": {A, L, F, N},
    "customer_service_analytics": {A, L, F, N},
    "customer_orders_summary": {A, L, F, N},
    "customer_referrals": {A, L, F, N},
    "customer_referral_rewards": {A, L, F, N},
    "customer_consent_log": {A, L, G, C},
    "customer_data_deletion_requests": {C},
    "customer_audit_log": {L, F, G, C},
}
# The fraud lead (issue 25, not in ARCHITECTURE.md's matrix) sees what a fraud analyst sees.
EXPECTED_VIEW = {table: roles | ({Role.FRAUD_LEAD} if F in roles else set()) for table, roles in EXPECTED_VIEW.items()}

TABLE_MODELS = sorted(
    (m for m in admin.site._registry if m._meta.db_table in EXPECTED_VIEW and not m._meta.proxy),
    key=lambda m: m._meta.db_table,
)


def _urls(model, pk):
    opts = model._meta
    return [
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]),
    ]


def test_every_table_is_registered_and_expected():
    registered = {m._meta.db_table for m in admin.site._registry if m in FACTORIES}
    assert registered == set(EXPECTED_VIEW)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.key)
@pytest.mark.parametrize("model", TABLE_MODELS, ids=lambda m: m._meta.db_table)
def test_role_sees_exactly_its_tables(client, make_staff, role, model):
    row = FACTORIES[model]()
    client.force_login(make_staff(role))
    expected = 200 if role in EXPECTED_VIEW[model._meta.db_table] else 403
    for url in _urls(model, row.pk):
        assert client.get(url).status_code == expected, url


@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLE_MODELS, ids=lambda m: m._meta.db_table)
def test_staff_without_a_role_sees_nothing(client, make_staff, model):
    row = FACTORIES[model]()
    client.force_login(make_staff(None))
    for url in _urls(model, row.pk):
        assert client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("admin:customer_ops_customer_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
