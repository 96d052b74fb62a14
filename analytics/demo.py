"""Demo activity and login logs, the pre-aggregated tables, referrals and rewards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from analytics.models import ActivityLog, LoginHistory, Referral, ReferralReward
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
    LoginHistory.objects.bulk_create(logins)
    ActivityLog.objects.bulk_create(activities)

    _aggregate()

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


def _aggregate() -> None:
    """Fill the pre-aggregated tables from the demo orders, logs and sessions.

    A plain aggregation for the demo; the scheduled jobs (analytics.jobs) own these tables.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customer_orders_summary
                (customer_id, service_type, total_orders, total_spent, average_order_value, last_order_at,
                 favorite_merchant_id, created_at, updated_at)
            SELECT o.customer_id, o.service_type, count(*),
                   coalesce(sum(o.order_amount) FILTER (WHERE o.status = 'COMPLETED'), 0),
                   round(avg(o.order_amount) FILTER (WHERE o.status = 'COMPLETED'), 2),
                   max(o.created_at),
                   (SELECT o2.merchant_id FROM orders o2
                     WHERE o2.customer_id = o.customer_id AND o2.service_type = o.service_type
                       AND o2.status = 'COMPLETED' AND o2.merchant_id IS NOT NULL
                     GROUP BY o2.merchant_id ORDER BY count(*) DESC, o2.merchant_id LIMIT 1),
                   now(), now()
            FROM orders o GROUP BY o.customer_id, o.service_type
            """
        )
        cursor.execute(
            """
            INSERT INTO customer_service_analytics
                (customer_id, service_type, total_orders, completed_orders, cancelled_orders, cancellation_rate,
                 total_spent, average_order_value, first_order_at, last_order_at, avg_days_between_orders,
                 avg_rating_given, ratings_given_count, favorite_merchant_ids, created_at, last_updated_at)
            SELECT o.customer_id, o.service_type, count(*),
                   count(*) FILTER (WHERE o.status = 'COMPLETED'),
                   count(*) FILTER (WHERE o.status = 'CANCELLED'),
                   round(100.0 * count(*) FILTER (WHERE o.status = 'CANCELLED') / count(*), 2),
                   coalesce(sum(o.order_amount) FILTER (WHERE o.status = 'COMPLETED'), 0),
                   round(avg(o.order_amount) FILTER (WHERE o.status = 'COMPLETED'), 2),
                   min(o.created_at), max(o.created_at),
                   CASE WHEN count(*) > 1 THEN round((extract(epoch FROM max(o.created_at) - min(o.created_at))
                        / 86400 / (count(*) - 1))::numeric, 2) END,
                   round(avg(o.customer_rating), 2), count(o.customer_rating),
                   coalesce((SELECT array_agg(m.merchant_id ORDER BY m.n DESC, m.merchant_id) FROM (
                        SELECT o2.merchant_id, count(*) AS n FROM orders o2
                        WHERE o2.customer_id = o.customer_id AND o2.service_type = o.service_type
                          AND o2.status = 'COMPLETED' AND o2.merchant_id IS NOT NULL
                        GROUP BY o2.merchant_id ORDER BY n DESC, o2.merchant_id LIMIT 3) m), '{}'),
                   now(), now()
            FROM orders o GROUP BY o.customer_id, o.service_type
            """
        )
        cursor.execute(
            """
            WITH days AS (
                SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date AS d FROM orders
                UNION SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date FROM customer_activity_log
                UNION SELECT customer_id, (started_at AT TIME ZONE 'UTC')::date FROM customer_sessions
            )
            INSERT INTO customer_daily_analytics
                (customer_id, analytics_date, total_orders, completed_orders, cancelled_orders, food_orders,
                 parcel_orders, ride_orders, total_spent, total_saved, tips_given, avg_rating_given, ratings_count,
                 app_opens, time_spent_minutes, created_at, updated_at)
            SELECT d.customer_id, d.d,
                   coalesce(o.total, 0), coalesce(o.completed, 0), coalesce(o.cancelled, 0),
                   coalesce(o.food, 0), coalesce(o.parcel, 0), coalesce(o.ride, 0),
                   coalesce(o.spent, 0), coalesce(o.saved, 0), coalesce(o.tips, 0), o.avg_rating,
                   coalesce(o.ratings, 0), coalesce(a.opens, 0), coalesce(s.minutes, 0), now(), now()
            FROM days d
            LEFT JOIN (
                SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS total,
                       count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
                       count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
                       count(*) FILTER (WHERE service_type = 'FOOD') AS food,
                       count(*) FILTER (WHERE service_type = 'PARCEL') AS parcel,
                       count(*) FILTER (WHERE service_type = 'RIDE') AS ride,
                       sum(order_amount) FILTER (WHERE status = 'COMPLETED') AS spent,
                       sum(discount_amount) FILTER (WHERE status = 'COMPLETED') AS saved,
                       sum(tip_amount) FILTER (WHERE status = 'COMPLETED') AS tips,
                       round(avg(customer_rating), 2) AS avg_rating, count(customer_rating) AS ratings
                FROM orders GROUP BY 1, 2
            ) o ON o.customer_id = d.customer_id AND o.d = d.d
            LEFT JOIN (
                SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS opens
                FROM customer_activity_log WHERE activity_type = 'APP_OPEN' GROUP BY 1, 2
            ) a ON a.customer_id = d.customer_id AND a.d = d.d
            LEFT JOIN (
                SELECT customer_id, (started_at AT TIME ZONE 'UTC')::date AS d,
                       sum(floor(extract(epoch FROM ended_at - started_at) / 60))::int AS minutes
                FROM customer_sessions WHERE ended_at IS NOT NULL GROUP BY 1, 2
            ) s ON s.customer_id = d.customer_id AND s.d = d.d
            """
        )


register_seeder(key="analytics", seed=seed_analytics, order=30)
