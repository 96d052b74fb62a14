"""factory_boy factories for every table. ``FACTORIES`` maps each model to its factory,
so that tests generated from the write-rule declarations can make a row of any table."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from analytics import models as analytics
from api import models as api_models
from compliance import models as compliance
from customer_ops import models as ops
from fraud import models as fraud
from tickets import models as tickets


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_staff = True
    password = factory.django.Password("pw")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ops.Customer

    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    phone = factory.Sequence(lambda n: f"+4470000{n:05d}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ops.Order

    order_number = factory.Sequence(lambda n: f"ORD-{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    service_type = "FOOD"
    merchant_id = 101
    status = "COMPLETED"
    order_amount = Decimal("25.00")
    delivery_address = factory.Faker("address")


class CustomerSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ops.CustomerSession

    customer = factory.SubFactory(CustomerFactory)
    device_id = factory.Sequence(lambda n: f"device-{n}")
    device_type = "ANDROID"
    ip_address = factory.Faker("ipv4")
    user_agent = "App/1.0"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tickets.Ticket

    customer = factory.SubFactory(CustomerFactory)
    issue_category = "ORDER"
    subject = factory.Faker("sentence")
    description = factory.Faker("paragraph")


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tickets.TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    message_text = factory.Faker("sentence")
    sender_type = "CUSTOMER"


class DisputeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tickets.Dispute

    customer = factory.SubFactory(CustomerFactory)
    order = factory.SubFactory(OrderFactory, customer=factory.SelfAttribute("..customer"))
    dispute_type = "QUALITY"
    dispute_reason = "Cold food"
    disputed_against = "MERCHANT"
    disputed_amount = Decimal("20.00")


class RefundRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tickets.RefundRequest

    customer = factory.SubFactory(CustomerFactory)
    order = factory.SubFactory(OrderFactory, customer=factory.SelfAttribute("..customer"))
    refund_type = "FULL"
    refund_reason = "Missing order"
    # 25.00, or the whole order when it was paid less: an approved or completed request made
    # here stays within what the order was paid (the database refuses more, tickets.triggers).
    requested_amount = factory.LazyAttribute(lambda r: min(Decimal("25.00"), r.order.order_amount))


class TrustScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fraud.TrustScore

    customer = factory.SubFactory(CustomerFactory)


class FraudAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fraud.FraudAlert

    customer = factory.SubFactory(CustomerFactory)
    alert_type = "PAYMENT_FRAUD"
    alert_severity = "HIGH"
    evidence = factory.LazyFunction(lambda: {"failed_payments": 4})


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fraud.Block

    customer = factory.SubFactory(CustomerFactory)
    block_type = "SERVICE_BLOCK"
    service_type = "FOOD"
    block_reason = "Repeated chargebacks"


class SuspiciousActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fraud.SuspiciousActivity

    customer = factory.SubFactory(CustomerFactory)
    activity_type = "LOCATION_JUMP"
    detected_by = "ML_MODEL"
    detection_confidence = Decimal("87.50")


class VerificationHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fraud.VerificationHistory

    customer = factory.SubFactory(CustomerFactory)
    verification_type = "MOBILE"
    verification_method = "OTP"
    verification_status = "SUCCESS"


class ActivityLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.ActivityLog

    customer = factory.SubFactory(CustomerFactory)
    activity_type = "APP_OPEN"
    device_id = "device-x"
    ip_address = "10.0.0.1"


class LoginHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.LoginHistory

    customer = factory.SubFactory(CustomerFactory)
    login_method = "OTP"
    login_success = True
    device_id = "device-x"
    ip_address = "10.0.0.1"


class DailyAnalyticsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.DailyAnalytics

    customer = factory.SubFactory(CustomerFactory)
    analytics_date = factory.LazyFunction(lambda: timezone.now().date())


class ServiceAnalyticsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.ServiceAnalytics

    customer = factory.SubFactory(CustomerFactory)
    service_type = "FOOD"


class OrdersSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.OrdersSummary

    customer = factory.SubFactory(CustomerFactory)
    service_type = "FOOD"


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.Referral

    referrer_customer = factory.SubFactory(CustomerFactory)
    referred_customer = factory.SubFactory(CustomerFactory)
    referral_code = factory.Sequence(lambda n: f"REF{n:05d}")
    required_orders = 3
    completion_deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class ReferralRewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = analytics.ReferralReward

    referral = factory.SubFactory(ReferralFactory)
    customer = factory.SelfAttribute("referral.referrer_customer")
    reward_type = "CASH"
    reward_amount = Decimal("5.00")


class ConsentLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = compliance.ConsentLog

    customer = factory.SubFactory(CustomerFactory)
    consent_type = "MARKETING"
    consent_status = "GRANTED"
    consent_method = "APP"
    ip_address = "10.0.0.1"


class DataDeletionRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = compliance.DataDeletionRequest

    customer = factory.SubFactory(CustomerFactory)
    request_reason = "Leaving the platform"
    deletion_scope = factory.LazyFunction(lambda: ["ALL"])


class AccessRequestFactory(factory.django.DjangoModelFactory):
    """Not a spec table (no write rules): not in FACTORIES below, but in ADMIN_FACTORIES."""

    class Meta:
        model = compliance.AccessRequest

    customer = factory.SubFactory(CustomerFactory)
    request_reason = "Wants a copy of their data"
    recorded_by = factory.SubFactory(UserFactory)  # the list names the recorder: a join, not a query per row


class AuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = compliance.AuditLog

    customer = factory.SubFactory(CustomerFactory)
    action_type = "UPDATE"
    action_field = "status"
    old_value = "OPEN"
    new_value = "RESOLVED"
    actor_type = "SYSTEM"


FACTORIES = {
    f._meta.model: f
    for f in [
        CustomerFactory,
        OrderFactory,
        CustomerSessionFactory,
        TicketFactory,
        TicketMessageFactory,
        DisputeFactory,
        RefundRequestFactory,
        TrustScoreFactory,
        FraudAlertFactory,
        BlockFactory,
        SuspiciousActivityFactory,
        VerificationHistoryFactory,
        ActivityLogFactory,
        LoginHistoryFactory,
        DailyAnalyticsFactory,
        ServiceAnalyticsFactory,
        OrdersSummaryFactory,
        ReferralFactory,
        ReferralRewardFactory,
        ConsentLogFactory,
        DataDeletionRequestFactory,
        AuditLogFactory,
    ]
}


class ApiClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = api_models.ApiClient

    name = factory.Sequence(lambda n: f"system-{n}")
    scopes = ["tickets:read"]


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = api_models.ApiToken

    client = factory.SubFactory(ApiClientFactory)
    prefix = factory.Sequence(lambda n: f"bo_{n:08d}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")


class ApiCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = api_models.ApiCall

    client = factory.SubFactory(ApiClientFactory)
    operation = "open_ticket"
    method = "POST"
    status = 201


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ops.OutboxEvent

    event_id = factory.LazyFunction(uuid.uuid4)
    event_type = "block.created"
    customer = factory.SubFactory(CustomerFactory)
    api_version = "1"
    data = factory.LazyAttribute(lambda e: {"customer_id": e.customer.pk, "block_id": 1})


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = api_models.WebhookSubscription

    client = factory.SubFactory(ApiClientFactory)
    url = "https://orders.example.com/hooks"
    event_types = ["block.created"]
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = api_models.WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = factory.SubFactory(OutboxEventFactory)
    customer_id = factory.LazyAttribute(lambda d: d.event.customer_id)
    status = "FAILED"
    attempts = 13
    last_status_code = 500


class ErasureRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = compliance.ErasureRecipient

    request = factory.SubFactory(DataDeletionRequestFactory)
    system = factory.Sequence(lambda n: f"system-{n}")


# Every admin-registered model the admin tests walk: the spec tables and the project's own.
ADMIN_FACTORIES = {
    **FACTORIES,
    **{
        f._meta.model: f
        for f in [
            AccessRequestFactory,
            ApiClientFactory,
            ApiTokenFactory,
            ApiCallFactory,
            WebhookSubscriptionFactory,
            WebhookDeliveryFactory,
            ErasureRecipientFactory,
        ]
    },
}


class ListEntryFactory(factory.django.DjangoModelFactory):
    """Not a spec table: in ADMIN_FACTORIES only."""

    class Meta:
        model = fraud.ListEntry

    kind = "DEVICE_ID"
    value = factory.Sequence(lambda n: f"dev-listed-{n}")
    reason = "Used by a card-testing ring"


ADMIN_FACTORIES[fraud.ListEntry] = ListEntryFactory


def identity_verified(request, actor):
    """The requester's identity recorded as verified by ``actor`` (a compliance officer):
    what a deletion or access request needs before it can be approved (compliance.dsr)."""
    from compliance import dsr

    dsr.verify_identity(request=request, method="ID_DOCUMENT", reference="passport checked", actor=actor)
    return request
