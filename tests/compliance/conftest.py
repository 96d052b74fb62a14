"""A customer with personal data in every table, for the erasure and export tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from customer_ops.models import Customer
from tests import factories as f
from tests.compliance.factories import AccessLogFactory


@dataclass
class Rich:
    customer: Customer
    identifiers: list[str]
    orders: list = field(default_factory=list)
    dispute: object = None
    ticket: object = None


NAME = "Zebulon Quixotefield"
EMAIL = "zebulon.quixote@unique-erasure.test"
PHONE = "+44 7999 424242"
IPS = ["203.0.113.201", "198.18.77.9"]
DEVICES = ["dev-zebulon-001", "dev-zebulon-002"]


@pytest.fixture
def rich_customer(db, make_staff) -> Rich:
    """Every declared table holds some of the customer's identifiers, in its declared columns."""
    customer = f.CustomerFactory(full_name=NAME, email=EMAIL, phone=PHONE)
    ip, ip2 = IPS
    dev, dev2 = DEVICES
    orders = [
        f.OrderFactory(customer=customer, order_amount=Decimal("30.00"), delivery_address=f"{NAME}, 1 High St"),
        f.OrderFactory(customer=customer, order_amount=Decimal("12.50"), delivery_address=f"c/o {PHONE}"),
    ]
    session = f.CustomerSessionFactory(customer=customer, device_id=dev, ip_address=ip, user_agent="ZebPhone/1")
    ticket = f.TicketFactory(customer=customer, order=orders[0], subject=f"{NAME} order", description=f"Call {PHONE}")
    f.TicketMessageFactory(ticket=ticket, sender_name=NAME, message_text=f"my email is {EMAIL}")
    f.TicketMessageFactory(ticket=ticket, sender_type="AGENT", sender_name="Agent Alex", message_text="On it")
    dispute = f.DisputeFactory(
        customer=customer,
        order=orders[0],
        ticket=ticket,
        dispute_status="RESOLVED",
        dispute_description=f"{NAME} says the food was cold",
        evidence_urls=[f"https://evidence.test/{EMAIL}.jpg"],
        evidence_description=f"photo by {NAME}",
    )
    dispute.evidence_description = f"photo from {ip}"
    dispute.save()  # a second history row
    f.RefundRequestFactory(
        customer=customer, order=orders[1], refund_status="COMPLETED", refund_description=f"refund to {NAME}"
    )
    f.FraudAlertFactory(customer=customer, is_resolved=True, evidence={"ip": ip, "device": dev})
    f.SuspiciousActivityFactory(customer=customer, evidence={"ips": [ip, ip2]})
    f.VerificationHistoryFactory(customer=customer, ip_address=ip2, device_id=dev2)
    f.ActivityLogFactory(
        customer=customer,
        device_id=dev,
        ip_address=ip,
        location_lat=Decimal("51.5"),
        location_lon=Decimal("-0.12"),
        activity_description=f"login from {ip}",
        activity_metadata={"device": dev2},
    )
    f.LoginHistoryFactory(
        customer=customer,
        device_id=dev2,
        ip_address=ip2,
        user_agent="ZebPhone/1",
        ip_location="Zeb town",
        session=session,
    )
    f.TrustScoreFactory(customer=customer)
    f.BlockFactory(customer=customer, is_unblocked=True)
    f.DailyAnalyticsFactory(customer=customer)
    f.ServiceAnalyticsFactory(customer=customer)
    f.OrdersSummaryFactory(customer=customer)
    referral = f.ReferralFactory(referred_customer=customer)
    f.ReferralRewardFactory(referral=referral, customer=customer)
    f.ConsentLogFactory(customer=customer, ip_address=ip, user_agent="ZebPhone/1")
    f.AuditLogFactory(
        customer=customer,
        action_type="UPDATE",
        action_field="email",
        old_value="old@unique-erasure.test",
        new_value=EMAIL,
        actor_type="CUSTOMER",
        actor_id=customer.pk,
        actor_name=NAME,
        ip_address=ip2,
        user_agent="ZebPhone/1",
    )
    staff = make_staff()
    AccessLogFactory(customer=customer, staff=staff)
    LogEntry.objects.create(
        user_id=staff.pk,
        content_type_id=ContentType.objects.get_for_model(Customer).pk,
        object_id=str(customer.pk),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message="Changed phone.",
    )
    return Rich(
        customer=customer,
        identifiers=[NAME, EMAIL, PHONE, "old@unique-erasure.test", *IPS, *DEVICES],
        orders=orders,
        dispute=dispute,
        ticket=ticket,
    )


def find_everywhere(values: list[str]) -> list[str]:
    """``table.column: value`` for every text-like column of every table holding one of ``values``."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'ARRAY')
            """
        )
        columns = cursor.fetchall()
        hits = []
        for table, column in columns:
            cursor.execute(
                f"SELECT v FROM unnest(%s::text[]) AS v WHERE EXISTS "
                f"(SELECT 1 FROM \"{table}\" WHERE \"{column}\"::text ILIKE '%%' || v || '%%')",
                [values],
            )
            hits += [f"{table}.{column}: {value}" for (value,) in cursor.fetchall()]
    return hits


def approve_and_run(customer, scopes, staff, **kwargs):
    """Recorded by ``staff``, approved by another compliance officer (four eyes), then run."""
    from compliance import services
    from customer_ops.roles import Role
    from tests.factories import identity_verified

    request = services.deletion_request_create(customer=customer, scopes=scopes, reason="test", actor=staff)
    identity_verified(request, staff)
    services.deletion_request_approve(request=request, actor=second_officer(Role.COMPLIANCE))
    run = services.deletion_request_run(request=request, **kwargs)
    request.refresh_from_db()
    return request, run


def yesterday():
    from django.utils import timezone

    return timezone.now() - dt.timedelta(days=1)


def second_officer(role):
    """Another staff member of ``role``: the approver of a request someone else recorded."""
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    user = UserFactory()
    user.groups.add(Group.objects.get(name=role.value))
    return user
