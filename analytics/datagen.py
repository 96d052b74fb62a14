"""Analytics' scale data for ``manage.py generate_data`` (the COPY engine: ``customer_ops.datagen``):
the login history and activity log, after the platform's sessions, and the referrals, after
the fraud tables (the shared random stream keeps this order)."""

from __future__ import annotations

from analytics.platform_hourly import rebuild_platform_hourly
from customer_ops.datagen import CLOCK, NULL, Generator
from customer_ops.db_roles import OWNER
from customer_ops.registry import register_scale_data


def generate_logins(gen: Generator) -> None:
    """customer_login_history: a login per session the platform step made (``gen.logins``)."""
    rng, logins = gen.rng, gen.logins

    def login_rows():
        for customer, ts, device, ip, sid in logins:
            ok = rng.random() > 0.05
            yield (
                customer,
                "OTP",
                "t" if ok else "f",
                device,
                "ANDROID",
                "Pixel 9",
                ip,
                "London, GB",
                "App/5.2",
                "" if ok else "Wrong OTP",
                sid if ok else NULL,
                ts,
            )

    cols = [
        "customer_id",
        "login_method",
        "login_success",
        "device_id",
        "device_type",
        "device_model",
        "ip_address",
        "ip_location",
        "user_agent",
        "failure_reason",
        "session_id",
        "created_at",
    ]
    gen.copy("customer_login_history", cols, login_rows(), len(logins))
    logins.clear()


def generate_activity(gen: Generator) -> None:
    target = gen.target("customer_activity_log")
    rng = gen.rng
    types = ["APP_OPEN"] * 5 + ["ORDER_PLACED", "ORDER_COMPLETED", "LOGIN", "LOGOUT", "PAYMENT_FAILED"]

    def rows():
        # The biggest table: one preformatted line per row, with the helpers inlined
        # (the same random draws, in the same order, as random_customer() and rand_ts()).
        rand, first, n, days, prefix = rng.random, gen.first_customer, gen.n, gen.days, gen.day_prefix
        for _ in range(target):
            customer = first + int(rand() * n)
            ts = prefix[int(rand() * days)] + CLOCK[int(rand() * 86399)]
            kind = types[int(rand() * 10)]
            ip = f"10.{customer % 250}.{int(rand() * 250)}.{int(rand() * 250)}"
            yield f"{customer}\t{kind}\t\t{NULL}\tdev-{customer}-0\t{ip}\t{{}}\t{ts}"

    cols = [
        "customer_id",
        "activity_type",
        "activity_description",
        "service_type",
        "device_id",
        "ip_address",
        "activity_metadata",
        "created_at",
    ]
    gen.copy("customer_activity_log", cols, rows(), target)


def generate_referrals(gen: Generator) -> None:
    target = gen.target("customer_referrals")
    first = gen.first_customer
    step = max(gen.n // max(target, 1), 2)

    def rows():
        # Referred customers are distinct (one referral per customer), referrers are others.
        for k in range(target):
            referred = first + k * step + 1
            referrer = first + k * step
            day, sec, ts = gen.rand_ts()
            yield (
                str(referrer),
                str(referred),
                f"FRIEND-{referrer}",
                "PENDING",
                "3",
                str(int(gen.rng.random() * 3)),
                gen.ts(min(day + 30, gen.days - 1), sec),
                ts,
                ts,
            )

    cols = [
        "referrer_customer_id",
        "referred_customer_id",
        "referral_code",
        "referral_status",
        "required_orders",
        "completed_orders",
        "completion_deadline",
        "created_at",
        "updated_at",
    ]
    gen.copy("customer_referrals", cols, rows(), target)


def generate_logs(gen: Generator) -> None:
    generate_logins(gen)
    generate_activity(gen)


register_scale_data(
    key="analytics_logs",
    generate=generate_logs,
    order=10,
    per_customer={"customer_login_history": 10, "customer_activity_log": 100},
)
# After every step that writes orders (on the load's connection): the load skips the
# triggers that keep the hours. Rows derive from the orders: no share per customer (0).
register_scale_data(
    key="analytics_platform_hourly",
    generate=lambda gen: rebuild_platform_hourly(OWNER),
    order=90,
    per_customer={"analytics_platform_hourly": 0},
)
register_scale_data(
    key="analytics_referrals", generate=generate_referrals, order=40, per_customer={"customer_referrals": 0.05}
)
