"""Demo activity and login logs, the pre-aggregated tables, referrals and rewards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from analytics import jobs
from analytics.models import ActivityLog, LoginHistory, Referral, ReferralReward
from customer_ops.partitions import ensure_months_for
from customer_ops.registry import register_seeder


def seed_analytics(ctx: dict) -> None:
    rng = ctx["rng"]
    customers, orders, sessions = ctx["customers"], ctx["orders"], ctx["sessions"]

    logins, activities = [], []
    for session in sessions:
        for _ in range(rng.choice([0, 0, 0, 1])):  # failed attempts before the success
            logins.append(_login(session, success=False, at=session.started_at - dt.timedelta(minutes=1)))
        logins.append(_login(session, success=True, at=session.started_at))
        activities.append(
            ActivityLog(
                customer_id=session.customer_id,
                activity_type="APP_OPEN",
                activity_description="App opened",
                device_id=session.device_id,
                ip_address=session.ip_address,
                location_lat=Decimal("51.5") + Decimal(rng.randint(-500, 500)) / 10000,
                location_lon=Decimal("-0.12") + Decimal(rng.randint(-500, 500)) / 10000,
                activity_metadata={"app_version": "5.2.0"},
                created_at=session.started_at,
            )
        )
    for order in orders:
        activities.append(_order_activity(order, "ORDER_PLACED", order.created_at))
        if order.status == "COMPLETED":
            activities.append(_order_activity(order, "ORDER_COMPLETED", order.completed_at))
        elif order.status == "CANCELLED":
            activities.append(_order_activity(order, "ORDER_CANCELLED", order.cancelled_at))
        if rng.random() < 0.04:
            activities.append(_order_activity(order, "PAYMENT_FAILED", order.created_at - dt.timedelta(minutes=1)))
    # The months these rows need, before the rows: none lands in a default partition.
    ensure_months_for(LoginHistory, logins)
    ensure_months_for(ActivityLog, activities)
    LoginHistory.objects.bulk_create(logins)
    ActivityLog.objects.bulk_create(activities)

    _aggregate([customer.pk for customer in customers])

    referrals, rewards = [], []
    referred = rng.sample(customers[10:], 40)
    for k, customer in enumerate(referred):
        referrer = customers[k % 10]
        status = rng.choice(["PENDING", "PENDING", "COMPLETED", "COMPLETED", "EXPIRED"])
        created = customer.created_at
        referrals.append(
            Referral(
                referrer_customer=referrer,
                referred_customer=customer,
                referral_code=f"FRIEND-{referrer.pk:05d}",
                referral_status=status,
                referrer_reward_amount=Decimal("10.00"),
                referrer_reward_type="CASH",
                referrer_reward_given=status == "COMPLETED",
                referrer_reward_given_at=created + dt.timedelta(days=10) if status == "COMPLETED" else None,
                referred_reward_amount=Decimal("5.00"),
                referred_reward_type="COUPON",
                referred_reward_given=status == "COMPLETED",
                referred_reward_given_at=created + dt.timedelta(days=10) if status == "COMPLETED" else None,
                required_orders=3,
                completed_orders=3 if status == "COMPLETED" else rng.randint(0, 2),
                completion_deadline=created + dt.timedelta(days=30),
                completed_at=created + dt.timedelta(days=9) if status == "COMPLETED" else None,
                created_at=created,
            )
        )
    referrals = Referral.objects.bulk_create(referrals)
    for referral in referrals:
        if referral.referral_status != "COMPLETED":
            continue
        for who, kind, amount in [
            (referral.referrer_customer, "CASH", referral.referrer_reward_amount),
            (referral.referred_customer, "COUPON", referral.referred_reward_amount),
        ]:
            rewards.append(
                ReferralReward(
                    referral=referral,
                    customer=who,
                    reward_type=kind,
                    reward_amount=amount,
                    reward_status="COMPLETED",
                    coupon_code=f"WELCOME-{referral.pk:05d}" if kind == "COUPON" else "",
                    wallet_transaction_id=900000 + referral.pk if kind == "CASH" else None,
                    processed_at=referral.completed_at,
                    created_at=referral.completed_at,
                )
            )
    ReferralReward.objects.bulk_create(rewards)

    # Two customers of the demo's device ring, one referring the other: the referral job
    # completes it and holds both rewards for the fraud team (shared device and IP).
    ring = ctx.get("ring_customers") or []
    if len(ring) >= 2 and not Referral.objects.filter(referred_customer=ring[1]).exists():
        Referral.objects.create(
            referrer_customer=ring[0],
            referred_customer=ring[1],
            referral_code=f"FRIEND-{ring[0].pk:05d}",
            referrer_reward_amount=Decimal("10.00"),
            referrer_reward_type="CASH",
            referred_reward_amount=Decimal("5.00"),
            referred_reward_type="COUPON",
            required_orders=1,
            completion_deadline=ctx["now"] + dt.timedelta(days=30),
            created_at=ring[1].created_at,
        )
    jobs.run_referrals(as_of=ctx["now"])


def _login(session, *, success: bool, at):
    return LoginHistory(
        customer_id=session.customer_id,
        login_method="OTP" if session.device_type != "WEB" else "PASSWORD",
        login_success=success,
        device_id=session.device_id,
        device_type=session.device_type,
        device_model={"ANDROID": "Pixel 9", "IOS": "iPhone 16", "WEB": ""}[session.device_type],
        ip_address=session.ip_address,
        ip_location="London, GB",
        user_agent=session.user_agent,
        failure_reason="" if success else "Wrong OTP",
        session=session if success else None,
        created_at=at,
    )


def _order_activity(order, activity_type, at):
    return ActivityLog(
        customer_id=order.customer_id,
        activity_type=activity_type,
        activity_description=f"{activity_type.replace('_', ' ').capitalize()}: {order.order_number}",
        service_type=order.service_type,
        order=order,
        activity_metadata={"order_number": order.order_number},
        created_at=at,
    )


def _aggregate(customers: list[int]) -> None:
    """Fill the pre-aggregated tables from the demo orders, logs and sessions with the jobs.

    The per-customer tables are computed for the demo's customers only: seed_demo on a
    database that generate_data filled (100,000 customers) must not recompute everyone's
    90 days (minutes). The platform-wide tables are recomputed over the demo's days."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (least((SELECT min(created_at) FROM orders WHERE customer_id = ANY(%(ids)s)),
                          (SELECT min(started_at) FROM customer_sessions WHERE customer_id = ANY(%(ids)s)),
                          (SELECT min(created_at) FROM customer_activity_log WHERE customer_id = ANY(%(ids)s)))
                    AT TIME ZONE 'UTC')::date,
                   (greatest((SELECT max(created_at) FROM orders WHERE customer_id = ANY(%(ids)s)),
                             (SELECT max(started_at) FROM customer_sessions WHERE customer_id = ANY(%(ids)s)),
                             (SELECT max(created_at) FROM customer_activity_log WHERE customer_id = ANY(%(ids)s)))
                    AT TIME ZONE 'UTC')::date
            """,
            {"ids": customers},
        )
        first, last = cursor.fetchone()
    if first is None:
        return
    days = jobs.day_range(first, last)
    jobs.run_daily_analytics(days, customers=customers)
    jobs.run_platform_daily(days)
    jobs.run_ordering_customers(days)
    jobs.run_service_analytics(customers=customers)
    jobs.run_orders_summary(customers=customers)
    jobs.run_cohorts(days)


register_seeder(key="analytics", seed=seed_analytics, order=30)
