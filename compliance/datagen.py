"""Compliance's scale data for ``manage.py generate_data`` (the COPY engine: ``customer_ops.datagen``):
the consent log and the audit log, chained."""

from __future__ import annotations

from customer_ops.datagen import Generator, connection
from customer_ops.registry import register_scale_data


def generate_compliance(gen: Generator) -> None:
    rng = gen.rng
    target = gen.target("customer_consent_log")

    def consents():
        kinds = ["DATA_PROCESSING", "MARKETING", "COOKIES", "DATA_SHARING"]
        for _ in range(target):
            day, sec, ts = gen.rand_ts()
            yield (
                str(gen.random_customer()),
                kinds[int(rng.random() * 4)],
                "GRANTED" if rng.random() < 0.8 else "REVOKED",
                "APP",
                "10.0.0.1",
                "App/5.2",
                "Consent text",
                ts,
            )

    cols = [
        "customer_id",
        "consent_type",
        "consent_status",
        "consent_method",
        "ip_address",
        "user_agent",
        "consent_text",
        "created_at",
    ]
    gen.copy("customer_consent_log", cols, consents(), target)

    target = gen.target("customer_audit_log")

    def audit():
        for _ in range(target):
            day, sec, ts = gen.rand_ts()
            yield (
                str(gen.random_customer()),
                "STATUS_CHANGE",
                "ticket.status",
                "OPEN",
                "RESOLVED",
                "AGENT",
                "1",
                "Agent",
                ts,
            )

    cols = [
        "customer_id",
        "action_type",
        "action_field",
        "old_value",
        "new_value",
        "actor_type",
        "actor_id",
        "actor_name",
        "created_at",
    ]
    gen.copy("customer_audit_log", cols, audit(), target)
    with connection.cursor() as cursor:
        # The audit hash chain (compliance/chain.py) gets its entries from a trigger, which a
        # superuser's load skips: chain what it loaded (nothing to do when the trigger ran).
        cursor.execute("SELECT to_regprocedure('backoffice_audit_chain_backfill()') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT backoffice_audit_chain_backfill()")


register_scale_data(
    key="compliance",
    generate=generate_compliance,
    order=50,
    per_customer={"customer_consent_log": 2.5, "customer_audit_log": 5},
)
