"""One row of every admin-registered table, all about one customer whose personal values
are distinctive enough to be searched for in any page (the analysts' masking check)."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from analytics.models import Dashboard, RewardHold
from api.models import ApiCall, ApiClient, ApiToken
from compliance.models import AccessRequest
from customer_ops.roles import Role
from tests import factories as f
from tests.compliance.factories import AccessLogFactory
from tests.tickets.factories import InternalNoteFactory, MacroFactory
from tickets.models import SlaEscalation

# What an analyst must never read, anywhere (ARCHITECTURE.md: personal fields masked).
SECRET_NAME = "Zebulon Quaxworth"
SECRET_EMAIL = "zebulon.quaxworth@leak.test"
SECRET_PHONE = "+447999000123"
SECRET_ADDRESS = "17 Quaxworth Mews"
PERSONAL_VALUES = [SECRET_NAME, "Zebulon", "Quaxworth", SECRET_EMAIL, SECRET_PHONE]

# The personas of the walk: the six groups, a staff member without a role, a superuser.
PERSONAS = [role.key for role in Role] + ["norole", "superuser"]


def persona_user(key: str):
    if key == "superuser":
        return f.UserFactory(username="walk-root", is_superuser=True)
    user = f.UserFactory(username=f"walk-{key}")
    if key != "norole":
        user.groups.add(Group.objects.get(name=Role[key.upper()].value))
    return user


@pytest.fixture
def walk_objects(db) -> dict:
    """model class -> one instance (the URL walk fills ``<object_id>`` from it)."""
    customer = f.CustomerFactory(full_name=SECRET_NAME, email=SECRET_EMAIL, phone=SECRET_PHONE)
    friend = f.CustomerFactory(full_name="Other Person")
    order = f.OrderFactory(customer=customer, delivery_address=SECRET_ADDRESS)
    ticket = f.TicketFactory(customer=customer, order=order, subject="Where is my order")
    referral = f.ReferralFactory(referrer_customer=customer, referred_customer=friend)
    reward = f.ReferralRewardFactory(referral=referral, customer=customer)
    staff = f.UserFactory(username="walk-colleague")
    rows = [
        customer,
        order,
        f.CustomerSessionFactory(customer=customer),
        ticket,
        f.TicketMessageFactory(ticket=ticket),
        InternalNoteFactory(ticket=ticket, author=staff),
        MacroFactory(),
        SlaEscalation.objects.create(
            ticket=ticket, kind="FIRST_RESPONSE", due_at=timezone.now(), from_priority="MEDIUM", to_priority="HIGH"
        ),
        f.DisputeFactory(customer=customer, order=order),
        f.RefundRequestFactory(customer=customer, order=order),
        f.TrustScoreFactory(customer=customer),
        f.FraudAlertFactory(customer=customer),
        f.BlockFactory(customer=customer),
        f.SuspiciousActivityFactory(customer=customer),
        f.ListEntryFactory(),
        f.VerificationHistoryFactory(customer=customer),
        f.ActivityLogFactory(customer=customer, order=order),
        f.LoginHistoryFactory(customer=customer),
        f.DailyAnalyticsFactory(customer=customer),
        f.ServiceAnalyticsFactory(customer=customer),
        f.OrdersSummaryFactory(customer=customer),
        referral,
        reward,
        RewardHold.objects.create(reward=reward, shared_signals={"device_id": ["device-x"]}),
        f.ConsentLogFactory(customer=customer),
        f.DataDeletionRequestFactory(customer=customer, requested_at=timezone.now() - dt.timedelta(days=1)),
        f.AuditLogFactory(customer=customer),
        AccessLogFactory(customer=customer, staff=staff),
        staff,
        Group.objects.get(name=Role.AGENT.value),
        AccessAttempt.objects.create(username="x", ip_address="10.1.1.1", user_agent="ua", failures_since_start=1),
        AccessLog.objects.create(username="x", ip_address="10.1.1.1", user_agent="ua"),
        AccessFailureLog.objects.create(username="x", ip_address="10.1.1.1", user_agent="ua"),
        TOTPDevice.objects.create(user=staff, name="phone"),
        StaticDevice.objects.create(user=staff, name="backup"),
        AccessRequest.objects.create(customer=customer, request_reason="by post"),
    ]
    api_client = ApiClient.objects.create(name="walk-system", scopes=["tickets:read"])
    rows += [
        api_client,
        ApiToken.objects.create(client=api_client, prefix="bo_walkwalk", token_hash="0" * 64),
        ApiCall.objects.create(client=api_client, operation="open_ticket", method="POST", status=201),
        f.WebhookDeliveryFactory(subscription=f.WebhookSubscriptionFactory(client=api_client)),
        f.WebhookSubscriptionFactory(client=api_client),
        f.ErasureRecipientFactory(),
    ]
    objects = {type(row): row for row in rows}
    # The requests' identity is verified, so the walk's approvals go through (compliance.dsr).
    officer = f.UserFactory(username="walk-verifier", is_superuser=True)
    for model in (f.DataDeletionRequestFactory._meta.model, AccessRequest):
        f.identity_verified(objects[model], officer)
    # The dashboard is a proxy of the daily analytics table: its row is the one made above.
    objects[Dashboard] = Dashboard.objects.get(pk=objects[f.DailyAnalyticsFactory._meta.model].pk)
    return objects
