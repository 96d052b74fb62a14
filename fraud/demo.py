"""Demo alerts, blocks, suspicious activity and verification history; trust scores from the engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from customer_ops.registry import register_seeder
from fraud.jobs import recalculate_trust_scores
from fraud.models import Block, FraudAlert, SuspiciousActivity, VerificationHistory


def seed_fraud(ctx: dict) -> None:
    rng, now, users = ctx["rng"], ctx["now"], ctx["users"]
    customers, orders = ctx["customers"], ctx["orders"]
    ring = {c.pk for c in ctx["ring_customers"]}

    verifications = []
    for customer in customers:
        for vtype, method in [("MOBILE", "OTP"), ("EMAIL", "EMAIL_LINK"), ("IDENTITY", "DOCUMENT")]:
            if vtype == "IDENTITY" and rng.random() < 0.6:
                continue
            attempts = rng.choice([1, 1, 1, 2, 3])
            for attempt in range(1, attempts + 1):
                last = attempt == attempts
                status = "SUCCESS" if last and rng.random() < 0.9 else rng.choice(["FAILED", "EXPIRED"])
                verifications.append(
                    VerificationHistory(
                        customer=customer,
                        verification_type=vtype,
                        verification_method=method,
                        verification_status=status,
                        attempt_number=attempt,
                        failure_reason=""
                        if status == "SUCCESS"
                        else rng.choice(["Wrong code", "Link expired", "Blurry document"]),
                        ip_address=f"198.51.{customer.pk % 250}.{rng.randint(1, 254)}",
                        device_id=f"dev-{customer.pk:05d}-0",
                        created_at=customer.created_at + dt.timedelta(minutes=attempt * 3),
                    )
                )
    VerificationHistory.objects.bulk_create(verifications)

    by_customer: dict[int, list] = {}
    for order in orders:
        by_customer.setdefault(order.customer_id, []).append(order)

    alert_plan = [("CRITICAL", 3), ("HIGH", 8), ("MEDIUM", 14), ("LOW", 15)]
    alerts = []
    for severity, count in alert_plan:
        for _ in range(count):
            customer = rng.choice(customers[:4] if severity == "CRITICAL" else customers)
            alert_type = (
                "MULTIPLE_ACCOUNTS"
                if customer.pk in ring
                else rng.choice(["PAYMENT_FRAUD", "FALSE_COMPLAINT", "LOCATION_MISMATCH", "DEVICE_MISMATCH"])
            )
            created = now - dt.timedelta(hours=rng.uniform(1, 24 * 30))
            resolved = rng.random() < 0.35
            evidence = {
                "signals": [alert_type.lower()],
                "model_version": "fraud-ml-3.2",
                "score": round(rng.uniform(55, 99), 1),
            }
            if alert_type == "MULTIPLE_ACCOUNTS":
                evidence |= {"shared_device_id": "dev-ring-0001", "linked_customer_ids": sorted(ring - {customer.pk})}
            if alert_type == "PAYMENT_FRAUD":
                evidence |= {"failed_payments_24h": rng.randint(3, 9), "cards_used": rng.randint(2, 5)}
            alerts.append(
                FraudAlert(
                    customer=customer,
                    order=rng.choice(by_customer[customer.pk]) if by_customer.get(customer.pk) else None,
                    alert_type=alert_type,
                    alert_severity=severity,
                    alert_description=f"{alert_type.replace('_', ' ').capitalize()} detected by the risk engine.",
                    evidence=evidence,
                    action_taken="Contacted customer" if resolved else "",
                    action_taken_at=created + dt.timedelta(hours=2) if resolved else None,
                    action_taken_by=users["fraud"] if resolved else None,
                    is_resolved=resolved,
                    resolved_at=created + dt.timedelta(hours=3) if resolved else None,
                    resolution_notes="False positive: verified with the customer." if resolved else "",
                    created_at=created,
                )
            )
    FraudAlert.objects.bulk_create(alerts)

    blocks = [
        Block(
            customer=customers[0],
            block_type="ACCOUNT_BLOCK",
            block_reason="Linked to a multiple-accounts ring",
            block_reason_code="MULTI_ACCOUNT",
            blocked_by="ADMIN",
            blocked_by_staff=users["fraud"],
            blocked_by_name=users["fraud"].get_full_name(),
            blocked_at=now - dt.timedelta(days=2),
            auto_unblock=False,
        ),
        Block(
            customer=customers[1],
            block_type="SERVICE_BLOCK",
            service_type="FOOD",
            block_reason="Repeated false missing-item claims",
            block_reason_code="FALSE_CLAIMS",
            blocked_by="FRAUD_DETECTION",
            blocked_at=now - dt.timedelta(days=1),
            blocked_until=now + dt.timedelta(days=13),
        ),
        Block(
            customer=customers[2],
            block_type="PAYMENT_BLOCK",
            block_reason="Chargebacks on three cards",
            block_reason_code="CHARGEBACK",
            blocked_by="SYSTEM",
            blocked_at=now - dt.timedelta(days=20),
            blocked_until=now - dt.timedelta(days=6),
        ),  # expired, auto_unblock: the job will lift it
        Block(
            customer=customers[5],
            block_type="SERVICE_BLOCK",
            service_type="RIDE",
            block_reason="Abusive behaviour towards a driver",
            block_reason_code="ABUSE",
            blocked_by="ADMIN",
            blocked_by_staff=users["fraud"],
            blocked_by_name=users["fraud"].get_full_name(),
            blocked_at=now - dt.timedelta(days=40),
            blocked_until=now - dt.timedelta(days=10),
            is_unblocked=True,
            unblocked_at=now - dt.timedelta(days=30),
            unblocked_by=users["fraud"],
            unblock_reason="Apology accepted after review",
        ),
    ]
    Block.objects.bulk_create(blocks)

    suspicious = []
    for _ in range(30):
        customer = rng.choice(customers)
        reviewed = rng.random() < 0.4
        created = now - dt.timedelta(hours=rng.uniform(1, 24 * 20))
        activity_type = rng.choice(
            ["UNUSUAL_ORDER_PATTERN", "LOCATION_JUMP", "PAYMENT_FAILURE_SPIKE", "MULTIPLE_CANCELLATIONS"]
        )
        suspicious.append(
            SuspiciousActivity(
                customer=customer,
                activity_type=activity_type,
                activity_description=f"{activity_type.replace('_', ' ').capitalize()} in the last 24 hours.",
                detected_by=rng.choice(["SYSTEM", "ML_MODEL"]),
                detection_confidence=Decimal(str(round(rng.uniform(50, 99), 2))),
                risk_score=Decimal(str(round(rng.uniform(20, 95), 2))),
                evidence={"window_hours": 24, "events": rng.randint(3, 12)},
                requires_review=True,
                reviewed=reviewed,
                reviewed_at=created + dt.timedelta(hours=5) if reviewed else None,
                reviewed_by=users["fraud"] if reviewed else None,
                review_notes="Legitimate: customer travelling." if reviewed else "",
                action_recommended=rng.choice(["Review", "Contact customer", "Temporary block"]),
                action_taken="No action" if reviewed else "",
                created_at=created,
            )
        )
    SuspiciousActivity.objects.bulk_create(suspicious)


def seed_trust_scores(ctx: dict) -> None:
    """Trust scores from a real run of the engine, once every input (orders, disputes,
    refunds, logs, verifications, alerts, blocks) has been seeded."""
    result = recalculate_trust_scores()
    ctx["stdout"].write(f"    {result.customers} trust scores calculated in {result.seconds:.2f}s")


register_seeder(key="fraud", seed=seed_fraud, order=20)
# After every other seeder: the engine reads what they wrote.
register_seeder(key="fraud_trust_scores", seed=seed_trust_scores, order=90)
