"""Fraud's scale data for ``manage.py generate_data`` (the COPY engine: ``customer_ops.datagen``):
trust scores, alerts, blocks, suspicious activity and verification history."""

from __future__ import annotations

from customer_ops.datagen import NULL, Generator
from customer_ops.db_roles import OWNER
from customer_ops.registry import register_scale_data
from fraud.models_daily import rebuild_alert_daily


def generate_fraud(gen: Generator) -> None:
    rng, first = gen.rng, gen.first_customer

    def scores():
        for k in range(gen.n):
            trust = 40 + rng.random() * 60
            risk = "LOW" if trust > 80 else "MEDIUM" if trust > 60 else "HIGH"
            yield (
                str(first + k),
                f"{trust:.2f}",
                f"{100 - trust:.2f}",
                risk,
                f"{trust:.2f}",
                f"{trust:.2f}",
                "100.00",
                "66.67",
                "f",
                "t" if risk == "HIGH" else "f",
                "f",
                gen.end.isoformat(),
            )

    cols = [
        "customer_id",
        "trust_score",
        "fraud_score",
        "risk_level",
        "payment_reliability_score",
        "order_completion_score",
        "false_complaint_score",
        "verification_score",
        "is_fraudulent",
        "is_suspicious",
        "requires_review",
        "last_calculated_at",
    ]
    gen.copy("customer_trust_score", cols, scores(), gen.n)

    target = gen.target("customer_fraud_alerts")
    types = ["PAYMENT_FRAUD", "FALSE_COMPLAINT", "LOCATION_MISMATCH", "DEVICE_MISMATCH", "MULTIPLE_ACCOUNTS"]
    severities = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]

    def alerts():
        for _ in range(target):
            day, sec, ts = gen.rand_ts()
            yield (
                str(gen.random_customer()),
                types[int(rng.random() * 5)],
                severities[int(rng.random() * 4)],
                "Detected by the risk engine.",
                '{"score": 80}',
                "t" if rng.random() < 0.6 else "f",
                ts,
            )

    cols = [
        "customer_id",
        "alert_type",
        "alert_severity",
        "alert_description",
        "evidence",
        "is_resolved",
        "created_at",
    ]
    gen.copy("customer_fraud_alerts", cols, alerts(), target)

    target = gen.target("customer_blocks")

    def blocks():
        for _ in range(target):
            day, sec, ts = gen.rand_ts()
            yield (
                str(gen.random_customer()),
                "SERVICE_BLOCK",
                "FOOD",
                "False claims",
                "SYSTEM",
                ts,
                gen.ts(min(day + 7, gen.days - 1), sec) if day + 7 < gen.days else NULL,
                ts,
                ts,
            )

    cols = [
        "customer_id",
        "block_type",
        "service_type",
        "block_reason",
        "blocked_by",
        "blocked_at",
        "blocked_until",
        "created_at",
        "updated_at",
    ]
    gen.copy("customer_blocks", cols, blocks(), target)

    target = gen.target("customer_suspicious_activity")

    def suspicious():
        kinds = ["UNUSUAL_ORDER_PATTERN", "LOCATION_JUMP", "PAYMENT_FAILURE_SPIKE", "MULTIPLE_CANCELLATIONS"]
        for _ in range(target):
            day, sec, ts = gen.rand_ts()
            yield (
                str(gen.random_customer()),
                kinds[int(rng.random() * 4)],
                "ML_MODEL",
                f"{50 + rng.random() * 49:.2f}",
                "{}",
                "t" if rng.random() < 0.5 else "f",
                ts,
            )

    cols = [
        "customer_id",
        "activity_type",
        "detected_by",
        "detection_confidence",
        "evidence",
        "reviewed",
        "created_at",
    ]
    gen.copy("customer_suspicious_activity", cols, suspicious(), target)

    target = gen.target("customer_verification_history")

    def verifications():
        vtypes = [("MOBILE", "OTP"), ("EMAIL", "EMAIL_LINK"), ("IDENTITY", "DOCUMENT")]
        for _ in range(target):
            customer = gen.random_customer()
            vtype, method = vtypes[int(rng.random() * 3)]
            day, sec, ts = gen.rand_ts()
            yield (
                str(customer),
                vtype,
                method,
                "SUCCESS" if rng.random() < 0.85 else "FAILED",
                "1",
                f"10.{customer % 250}.0.1",
                f"dev-{customer}-0",
                ts,
            )

    cols = [
        "customer_id",
        "verification_type",
        "verification_method",
        "verification_status",
        "attempt_number",
        "ip_address",
        "device_id",
        "created_at",
    ]
    gen.copy("customer_verification_history", cols, verifications(), target)


register_scale_data(
    key="fraud",
    generate=generate_fraud,
    order=30,
    per_customer={
        "customer_fraud_alerts": 0.2,
        "customer_blocks": 0.02,
        "customer_suspicious_activity": 0.1,
        "customer_verification_history": 3,
    },
)
# After the alerts' load (on the load's connection): it skips the triggers that keep the
# dashboard's daily alert figures. Rows derive from the alerts: no share per customer (0).
register_scale_data(
    key="fraud_alert_daily",
    generate=lambda gen: rebuild_alert_daily(OWNER),
    order=91,
    per_customer={"fraud_alert_daily": 0},
)
