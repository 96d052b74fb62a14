"""Straightforward plain-Python computations of the analytics tables, written from
ARCHITECTURE.md's "Metric definitions" independently of the SQL jobs, and a generator of
random data full of edge cases to compare the two on."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from analytics.models import ActivityLog, DailyAnalytics, Referral, ServiceAnalytics
from customer_ops.models import Customer, CustomerSession, Order
from fraud.models import FraudAlert
from tickets.models import RefundRequest

UTC = dt.UTC
CENT = Decimal("0.01")

# Days at month and year boundaries (2024 is a leap year).
EDGE_DAYS = [
    dt.date(2024, 12, 31),
    dt.date(2025, 1, 1),
    dt.date(2025, 1, 31),
    dt.date(2025, 2, 1),
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 1),
]
# Just before and just after UTC midnight, and anywhere in the day.
EDGE_TIMES = [dt.time(0, 0), dt.time(0, 0, 0, 1), dt.time(23, 59, 59, 999999), dt.time(23, 59, 59)]


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _moment(rng: random.Random, days: list[dt.date]) -> dt.datetime:
    day = rng.choice(days)
    time = rng.choice(EDGE_TIMES) if rng.random() < 0.4 else dt.time(rng.randrange(24), rng.randrange(60))
    return dt.datetime.combine(day, time, tzinfo=UTC) + dt.timedelta(microseconds=rng.randrange(2) * 500)


def make_random_data(seed: int, customers: int = 25) -> dict:
    """Customers with no orders, cancelled-only days, orders either side of UTC midnight and
    at month/year boundaries, open and finished sessions, app opens and other activity."""
    rng = random.Random(seed)
    people = Customer.objects.bulk_create(
        Customer(full_name=f"C {seed}-{i}", email=f"c{seed}-{i}@example.test") for i in range(customers)
    )
    orders, sessions, activity = [], [], []
    n = 0
    for index, customer in enumerate(people):
        if index % 5 == 0:  # no orders at all (but perhaps activity)
            count = 0
        else:
            count = rng.randint(1, 12)
        cancelled_only_day = rng.choice(EDGE_DAYS) if index % 4 == 1 else None
        for _ in range(count):
            n += 1
            service = rng.choice(["FOOD", "PARCEL", "RIDE"])
            created = _moment(rng, EDGE_DAYS)
            status = rng.choices(["COMPLETED", "CANCELLED", "PLACED", "IN_PROGRESS"], weights=[6, 3, 1, 1])[0]
            if cancelled_only_day is not None and created.date() == cancelled_only_day:
                status = "CANCELLED"
            orders.append(
                Order(
                    order_number=f"R{seed}-{n:06d}",
                    customer=customer,
                    service_type=service,
                    merchant_id=None if service == "RIDE" else rng.choice([7, 8, 9, 10]),
                    status=status,
                    order_amount=Decimal(rng.randint(100, 9000)) / 100,
                    discount_amount=Decimal(rng.choice([0, 0, 150, 299])) / 100,
                    tip_amount=Decimal(rng.choice([0, 0, 100, 250])) / 100,
                    customer_rating=rng.choice([None, None, 1, 2, 3, 4, 5]),
                    created_at=created,
                    completed_at=created + dt.timedelta(minutes=30) if status == "COMPLETED" else None,
                    cancelled_at=created + dt.timedelta(minutes=3) if status == "CANCELLED" else None,
                )
            )
        if cancelled_only_day is not None:  # make sure the day exists and is cancelled-only
            n += 1
            orders.append(
                Order(
                    order_number=f"R{seed}-{n:06d}",
                    customer=customer,
                    service_type="FOOD",
                    merchant_id=7,
                    status="CANCELLED",
                    order_amount=Decimal("12.50"),
                    customer_rating=None,
                    created_at=dt.datetime.combine(cancelled_only_day, dt.time(23, 59, 59, 999999), tzinfo=UTC),
                )
            )
        for _ in range(rng.randint(0, 4)):
            start = _moment(rng, EDGE_DAYS)
            ended = None if rng.random() < 0.25 else start + dt.timedelta(seconds=rng.randint(0, 5000))
            sessions.append(CustomerSession(customer=customer, device_id="d", started_at=start, ended_at=ended))
        for _ in range(rng.randint(0, 5)):
            activity.append(
                ActivityLog(
                    customer=customer,
                    activity_type=rng.choice(["APP_OPEN", "APP_OPEN", "LOGIN", "ADDRESS_ADDED"]),
                    created_at=_moment(rng, EDGE_DAYS),
                )
            )
    Order.objects.bulk_create(orders)
    CustomerSession.objects.bulk_create(sessions)
    ActivityLog.objects.bulk_create(activity)
    return {"customers": people}


def _utc_day(value: dt.datetime) -> dt.date:
    return value.astimezone(UTC).date()


def expected_daily(first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], dict]:
    def in_range(day):
        return first <= day <= last

    rows: dict[tuple[int, dt.date], dict] = defaultdict(
        lambda: {
            "total_orders": 0,
            "completed_orders": 0,
            "cancelled_orders": 0,
            "food_orders": 0,
            "parcel_orders": 0,
            "ride_orders": 0,
            "total_spent": Decimal("0"),
            "total_saved": Decimal("0"),
            "tips_given": Decimal("0"),
            "ratings": [],
            "app_opens": 0,
            "time_spent_minutes": 0,
        }
    )
    for o in Order.objects.all():
        day = _utc_day(o.created_at)
        if not in_range(day):
            continue
        row = rows[(o.customer_id, day)]
        row["total_orders"] += 1
        row[f"{o.service_type.lower()}_orders"] += 1
        if o.status == "COMPLETED":
            row["completed_orders"] += 1
            row["total_spent"] += o.order_amount
            row["total_saved"] += o.discount_amount
            row["tips_given"] += o.tip_amount
        if o.status == "CANCELLED":
            row["cancelled_orders"] += 1
        if o.customer_rating is not None:
            row["ratings"].append(o.customer_rating)
    for a in ActivityLog.objects.all():
        day = _utc_day(a.created_at)
        if in_range(day):
            rows[(a.customer_id, day)]["app_opens"] += a.activity_type == "APP_OPEN"
    for s in CustomerSession.objects.all():
        day = _utc_day(s.started_at)
        if in_range(day):
            row = rows[(s.customer_id, day)]
            if s.ended_at is not None:
                row["time_spent_minutes"] += (s.ended_at - s.started_at) // dt.timedelta(minutes=1)
    result = {}
    for key, row in rows.items():
        ratings = row.pop("ratings")
        row["ratings_count"] = len(ratings)
        row["avg_rating_given"] = q2(Decimal(sum(ratings)) / len(ratings)) if ratings else None
        result[key] = row
    return result


def _favourites(orders: list[Order]) -> list[int]:
    counts = Counter(o.merchant_id for o in orders if o.status == "COMPLETED" and o.merchant_id is not None)
    return [m for m, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]]


def expected_service(customer_ids: set[int] | None = None) -> dict[tuple[int, str], dict]:
    groups: dict[tuple[int, str], list[Order]] = defaultdict(list)
    for o in Order.objects.all():
        if customer_ids is None or o.customer_id in customer_ids:
            groups[(o.customer_id, o.service_type)].append(o)
    result = {}
    for key, orders in groups.items():
        total = len(orders)
        completed = [o for o in orders if o.status == "COMPLETED"]
        cancelled = sum(o.status == "CANCELLED" for o in orders)
        spent = sum((o.order_amount for o in completed), Decimal("0"))
        ratings = [o.customer_rating for o in orders if o.customer_rating is not None]
        first, last = min(o.created_at for o in orders), max(o.created_at for o in orders)
        gap = last - first
        gap_seconds = Decimal(gap.days * 86400 + gap.seconds) + Decimal(gap.microseconds) / 10**6
        result[key] = {
            "total_orders": total,
            "completed_orders": len(completed),
            "cancelled_orders": cancelled,
            "cancellation_rate": q2(Decimal(100 * cancelled) / total),
            "total_spent": spent,
            "average_order_value": q2(spent / len(completed)) if completed else None,
            "first_order_at": first,
            "last_order_at": last,
            "avg_days_between_orders": q2(gap_seconds / (86400 * (total - 1))) if total > 1 else None,
            "avg_rating_given": q2(Decimal(sum(ratings)) / len(ratings)) if ratings else None,
            "ratings_given_count": len(ratings),
            "favorite_merchant_ids": _favourites(orders),
        }
    return result


def expected_summary(customer_ids: set[int] | None = None) -> dict[tuple[int, str], dict]:
    return {
        key: {
            "total_orders": row["total_orders"],
            "total_spent": row["total_spent"],
            "average_order_value": row["average_order_value"],
            "last_order_at": row["last_order_at"],
            "favorite_merchant_id": (row["favorite_merchant_ids"] or [None])[0],
        }
        for key, row in expected_service(customer_ids).items()
    }


# --- the dashboard's cohorts -------------------------------------------------------------------

COHORT_WEEKS = 8
# Orders from a Wednesday in November to March: weeks across month and year ends.
COHORT_DAYS = [dt.date(2024, 11, 20) + dt.timedelta(days=i) for i in range(110)]


def make_cohort_data(seed: int, customers: int = 40) -> None:
    """Customers who first order on any day and come back weeks later (or never), in one
    service or several, some referred; refund requests and fraud alerts (several per
    customer, same-day pairs, some before the first order) around their orders."""
    rng = random.Random(seed)
    people = Customer.objects.bulk_create(
        Customer(full_name=f"K {seed}-{i}", email=f"k{seed}-{i}@example.test") for i in range(customers)
    )
    orders = []
    for index, customer in enumerate(people):
        if index % 10 == 0:
            continue  # never ordered
        start = rng.randrange(len(COHORT_DAYS) - 7)
        services = rng.sample(["FOOD", "PARCEL", "RIDE"], rng.randint(1, 3))
        for _ in range(rng.randint(1, 8)):
            offset = min(start + int(rng.expovariate(1 / 14)), len(COHORT_DAYS) - 1)
            time = rng.choice(EDGE_TIMES) if rng.random() < 0.3 else dt.time(rng.randrange(24), rng.randrange(60))
            orders.append(
                Order(
                    order_number=f"K{seed}-{len(orders):06d}",
                    customer=customer,
                    service_type=rng.choice(services),
                    merchant_id=7,
                    status=rng.choice(["COMPLETED", "COMPLETED", "CANCELLED"]),
                    order_amount=Decimal("20.00"),
                    created_at=dt.datetime.combine(COHORT_DAYS[offset], time, tzinfo=UTC),
                )
            )
    Order.objects.bulk_create(orders)
    referrers = people[:3]
    Referral.objects.bulk_create(
        Referral(referrer_customer=rng.choice(referrers), referred_customer=c, referral_code=f"K{seed}-{c.pk}")
        for c in people[3:]
        if rng.random() < 0.35
    )
    refunds, alerts = [], []
    for order in rng.sample(orders, len(orders) // 6):
        refunds.append(
            RefundRequest(
                customer_id=order.customer_id,
                order=order,
                refund_type="FULL",
                refund_reason="Missing item",
                requested_amount=Decimal("5.00"),
                created_at=order.created_at + dt.timedelta(hours=rng.choice([1, 30, 200])),
            )
        )
    for customer in rng.sample(people, customers // 2):
        for _ in range(rng.randint(1, 3)):
            at = dt.datetime.combine(rng.choice(COHORT_DAYS), rng.choice(EDGE_TIMES), tzinfo=UTC)
            for _ in range(2 if rng.random() < 0.3 else 1):  # sometimes two alerts the same day
                alerts.append(
                    FraudAlert(customer=customer, alert_type="PAYMENT_FRAUD", alert_severity="LOW", created_at=at)
                )
    RefundRequest.objects.bulk_create(refunds)
    FraudAlert.objects.bulk_create(alerts)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def cohort_members(first: dt.date, last: dt.date, service: str) -> dict[int, dt.date]:
    """Customer -> first-order day, for the customers whose first order (of ``service``, or
    of any service for ``""``) is in ``first .. last``."""
    firsts: dict[int, dt.datetime] = {}
    for row in ServiceAnalytics.objects.all():
        if row.first_order_at is not None and service in ("", row.service_type):
            firsts[row.customer_id] = min(firsts.get(row.customer_id, row.first_order_at), row.first_order_at)
    return {c: _utc_day(at) for c, at in firsts.items() if first <= _utc_day(at) <= last}


def _order_days(service: str) -> dict[int, list[dt.date]]:
    column = f"{service.lower()}_orders" if service else "total_orders"
    days = defaultdict(list)
    for row in DailyAnalytics.objects.all():
        if getattr(row, column) > 0:
            days[row.customer_id].append(row.analytics_date)
    return days


def expected_cohort_retention(first: dt.date, last: dt.date, service: str) -> dict:
    """The dashboard's retention matrix, from its definition (analytics/dashboard.py)."""
    members = cohort_members(first, last, service)
    ordered_weeks = {c: {_monday(d) for d in days} for c, days in _order_days(service).items()}
    weeks = list(range(1, COHORT_WEEKS + 1))
    rows = []
    for cohort in sorted({_monday(day) for day in members.values()}):
        customers = [c for c, day in members.items() if _monday(day) == cohort]
        cells = []
        for k in weeks:
            week = cohort + dt.timedelta(days=7 * k)
            if week + dt.timedelta(days=6) > last:
                cells.append(None)
            else:
                came_back = sum(week in ordered_weeks.get(c, ()) for c in customers)
                cells.append(round(100 * came_back / len(customers), 1))
        rows.append({"cohort": cohort, "size": len(customers), "cells": cells})
    return {"weeks": weeks, "rows": rows}


def expected_referred_vs_organic(first: dt.date, last: dt.date, service: str) -> list[dict]:
    """The dashboard's referred-versus-organic comparison, from the live query it replaced:
    returned = ordered (the service) in a week after the first order's week, by ``last``;
    orders (every service), refund requests and fraud alerts within the range."""
    members = cohort_members(first, last, service)
    referred = set(Referral.objects.values_list("referred_customer_id", flat=True))
    order_days = _order_days(service)
    orders, refunds, alerted = Counter(), Counter(), set()
    for row in DailyAnalytics.objects.filter(analytics_date__range=(first, last)):
        orders[row.customer_id] += row.total_orders
    for refund in RefundRequest.objects.all():
        refunds[refund.customer_id] += first <= _utc_day(refund.created_at) <= last
    for alert in FraudAlert.objects.all():
        if first <= _utc_day(alert.created_at) <= last:
            alerted.add(alert.customer_id)
    result = []
    for group, label in [(True, "Referred"), (False, "Organic")]:
        group_members = [c for c in members if (c in referred) == group]
        returned = sum(
            any(_monday(members[c]) < _monday(d) and d <= last for d in order_days.get(c, ())) for c in group_members
        )
        n = len(group_members)
        placed = sum(orders[c] for c in group_members)
        result.append(
            {
                "label": label,
                "customers": n,
                "retention": round(100 * returned / n, 1) if n else None,
                # Decimal, as the database's sums are
                "refund_rate": round(Decimal(100 * sum(refunds[c] for c in group_members)) / placed, 1)
                if placed
                else None,
                "fraud_alert_rate": round(100 * len(alerted.intersection(group_members)) / n, 1) if n else None,
            }
        )
    return result
