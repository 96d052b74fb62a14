"""Demo data for the platform tables and the demo logins (``manage.py seed_demo``).

Each app registers a seeder for its own tables (``<app>/demo.py``); they run in order
and share one context dict: the random generator, "now", the staff users by role key,
and what earlier seeders made (customers, orders, sessions, ...).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from faker import Faker

from customer_ops.models import Customer, CustomerSession, Order
from customer_ops.registry import register_seeder
from customer_ops.roles import Role

DEMO_EMAIL_DOMAIN = "demo.example"
CUSTOMERS = 300
FOOD_MERCHANTS = list(range(1001, 1041))
PARCEL_MERCHANTS = list(range(2001, 2011))
# Customers 1-4 of the demo share one phone: a small "multiple accounts" ring for the fraud team.
RING_DEVICE = "dev-ring-0001"
RING_IP = "203.0.113.77"

# Extra agents make assignment and workload views realistic; they log in like "agent".
STAFF = [
    ("agent", "Alex", "Agent", Role.AGENT),
    ("agent2", "Sam", "Okafor", Role.AGENT),
    ("agent3", "Priya", "Shah", Role.AGENT),
    ("lead", "Lee", "Lead", Role.LEAD),
    ("fraud", "Fran", "Fraud", Role.FRAUD),
    ("fraud_lead", "Farah", "Lead", Role.FRAUD_LEAD),
    ("legal", "Lucia", "Legal", Role.LEGAL),
    ("compliance", "Cora", "Compliance", Role.COMPLIANCE),
    ("analyst", "Ana", "Analyst", Role.ANALYST),
]


def ensure_staff(password: str) -> dict:
    """Create (or reset the password of) the demo logins. Safe to run again."""
    User = get_user_model()
    users = {}
    for username, first, last, role in STAFF:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": True}
        )
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        users[username] = user
    admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
    admin.is_staff = admin.is_superuser = True
    admin.set_password(password)
    admin.save()
    users["admin"] = admin
    return users


def demo_data_present() -> bool:
    return Customer.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2)))


def seed_platform(ctx: dict) -> None:
    rng: random.Random = ctx["rng"]
    now: dt.datetime = ctx["now"]
    fake = Faker("en_GB")
    fake.seed_instance(7)

    customers = []
    for i in range(CUSTOMERS):
        first, last = fake.first_name(), fake.last_name()
        customers.append(
            Customer(
                full_name=f"{first} {last}",
                email=f"{first}.{last}.{i}@{DEMO_EMAIL_DOMAIN}".lower().replace(" ", "").replace("'", ""),
                phone=f"+44 7700 9{i:05d}",
                status="SUSPENDED" if i % 97 == 13 else "ACTIVE",
                created_at=now - dt.timedelta(days=rng.randint(100, 900)),
            )
        )
    customers = Customer.objects.bulk_create(customers)

    orders, sessions = [], []
    n = 0
    for c_index, customer in enumerate(customers):
        devices = [f"dev-{customer.pk:05d}-{k}" for k in range(rng.choice([1, 1, 2]))]
        if c_index < 4:
            devices.append(RING_DEVICE)
        for _ in range(rng.randint(2, 7)):
            start = now - dt.timedelta(days=rng.uniform(0, 90), minutes=rng.randint(0, 600))
            ring = c_index < 4 and rng.random() < 0.5
            sessions.append(
                CustomerSession(
                    customer=customer,
                    device_id=RING_DEVICE if ring else rng.choice(devices),
                    device_type=rng.choice(["ANDROID", "IOS", "WEB"]),
                    ip_address=RING_IP if ring else f"198.51.{customer.pk % 250}.{rng.randint(1, 254)}",
                    user_agent=rng.choice(["App/5.2 (Android 14)", "App/5.2 (iOS 18.1)", "Mozilla/5.0 (X11; Linux)"]),
                    started_at=start,
                    ended_at=None if rng.random() < 0.05 else start + dt.timedelta(minutes=rng.randint(1, 45)),
                )
            )
        address = fake.address().replace("\n", ", ")
        for _ in range(rng.choice([0, 2, 5, 8, 10, 12, 15, 20])):
            n += 1
            service = rng.choices(["FOOD", "PARCEL", "RIDE"], weights=[6, 2, 3])[0]
            created = now - dt.timedelta(days=rng.uniform(0, 90))
            recent = now - created < dt.timedelta(hours=3)
            status = rng.choices(
                ["COMPLETED", "CANCELLED", "IN_PROGRESS", "PLACED"],
                weights=[85, 10, 3 if recent else 0, 2 if recent else 0],
            )[0]
            amount = _money(rng, 8, 60) if service != "PARCEL" else _money(rng, 4, 25)
            orders.append(
                Order(
                    order_number=f"ORD-{n:08d}",
                    customer=customer,
                    service_type=service,
                    merchant_id=None
                    if service == "RIDE"
                    else rng.choice(FOOD_MERCHANTS if service == "FOOD" else PARCEL_MERCHANTS),
                    status=status,
                    order_amount=amount,
                    discount_amount=_money(rng, 0, 5) if rng.random() < 0.3 else Decimal("0"),
                    tip_amount=_money(rng, 0, 4) if status == "COMPLETED" and rng.random() < 0.4 else Decimal("0"),
                    customer_rating=rng.randint(1, 5) if status == "COMPLETED" and rng.random() < 0.6 else None,
                    delivery_address="" if service == "RIDE" else address,
                    created_at=created,
                    completed_at=created + dt.timedelta(minutes=rng.randint(15, 70)) if status == "COMPLETED" else None,
                    cancelled_at=created + dt.timedelta(minutes=rng.randint(1, 10)) if status == "CANCELLED" else None,
                )
            )
    ctx["customers"] = customers
    ctx["orders"] = Order.objects.bulk_create(orders)
    ctx["sessions"] = CustomerSession.objects.bulk_create(sessions)
    ctx["ring_customers"] = customers[:4]


register_seeder(key="platform", seed=seed_platform, order=0)
