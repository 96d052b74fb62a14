"""Demo consent history, audit trail and deletion requests."""

from __future__ import annotations

import datetime as dt

from compliance.models import AuditLog, ConsentLog, DataDeletionRequest
from customer_ops.partitions import ensure_months_for
from customer_ops.registry import register_seeder

CONSENT_TEXT = {
    "DATA_PROCESSING": "I agree to the processing of my data to provide the service (Privacy Policy v4).",
    "MARKETING": "Send me offers and news by email and push notification.",
    "DATA_SHARING": "Share my data with partner merchants to personalise offers.",
    "COOKIES": "Allow analytics cookies on the website.",
}


def seed_compliance(ctx: dict) -> None:
    rng, now, users = ctx["rng"], ctx["now"], ctx["users"]
    customers = ctx["customers"]
    consents, audit = [], []
    for customer in customers:
        at = customer.created_at
        ip = f"198.51.{customer.pk % 250}.{rng.randint(1, 254)}"
        consents.append(_consent(customer, "DATA_PROCESSING", "GRANTED", "APP", ip, at))
        if rng.random() < 0.7:
            consents.append(_consent(customer, "MARKETING", "GRANTED", "APP", ip, at + dt.timedelta(minutes=1)))
            if rng.random() < 0.3:
                consents.append(
                    _consent(customer, "MARKETING", "REVOKED", "EMAIL", ip, at + dt.timedelta(days=rng.randint(5, 90)))
                )
        if rng.random() < 0.4:
            consents.append(_consent(customer, "COOKIES", "GRANTED", "WEB", ip, at + dt.timedelta(days=1)))
        audit.append(
            AuditLog(
                customer=customer,
                action_type="CREATE",
                action_field="",
                new_value="account created",
                actor_type="CUSTOMER",
                actor_id=customer.pk,
                actor_name=customer.full_name,
                ip_address=ip,
                user_agent="App/5.2",
                created_at=at,
            )
        )
    for ticket in ctx.get("tickets", []):
        if ticket.assigned_to_agent_id:
            agent = ticket.assigned_to_agent
            audit.append(
                AuditLog(
                    customer_id=ticket.customer_id,
                    action_type="STATUS_CHANGE",
                    action_field="ticket.status",
                    old_value="OPEN",
                    new_value="IN_PROGRESS",
                    action_reason=f"{ticket.ticket_id} assigned",
                    actor_type="AGENT",
                    actor_id=agent.pk,
                    actor_name=agent.get_full_name(),
                    ip_address="10.20.0.15",
                    user_agent="Mozilla/5.0",
                    created_at=ticket.assigned_at,
                )
            )
    ConsentLog.objects.bulk_create(consents)
    ensure_months_for(AuditLog, audit)  # the months these rows need, before the rows
    AuditLog.objects.bulk_create(audit)

    pending = customers[-1]
    DataDeletionRequest.objects.create(
        customer=pending,
        request_reason="I no longer use the service. Please delete my data.",
        deletion_scope=["ALL"],
        requested_at=now - dt.timedelta(days=3),
    )
    DataDeletionRequest.objects.create(
        customer=customers[-2],
        request_reason="Remove my marketing profile.",
        deletion_scope=["MARKETING", "ACTIVITY_LOCATION"],
        requested_at=now - dt.timedelta(days=26),
    )
    DataDeletionRequest.objects.create(
        customer=customers[0],
        request_reason="Delete my account.",
        deletion_scope=["ALL"],
        request_status="REJECTED",
        requested_at=now - dt.timedelta(days=5),
        processed_at=now - dt.timedelta(days=4),
        processed_by=users["compliance"],
        rejection_reason="Account under fraud investigation: records held until the investigation closes.",
    )

    # One request carried out end to end (plan, report, certificate on its page): recorded
    # by the admin login, approved by the compliance login (four eyes), erased as the job would.
    from compliance import dsr, services
    from customer_ops.context import acting_as, actor_for_user

    officer, recorder = users["compliance"], users["admin"]
    with acting_as(actor_for_user(recorder, ip_address="10.20.0.31", user_agent="Mozilla/5.0")):
        erased = services.deletion_request_create(
            customer=customers[-3],
            scopes=["ALL"],
            reason="Please erase my account and everything about me.",
            requested_at=now - dt.timedelta(days=12),
            actor=recorder,
        )
    with acting_as(actor_for_user(officer, ip_address="10.20.0.30", user_agent="Mozilla/5.0")):
        dsr.verify_identity(request=erased, method="ACCOUNT_LOGIN", reference="Signed in to the app", actor=officer)
        services.deletion_request_approve(request=erased, actor=officer)
    services.deletion_request_run(request=erased)


def _consent(customer, consent_type, status, method, ip, at):
    return ConsentLog(
        customer=customer,
        consent_type=consent_type,
        consent_status=status,
        consent_method=method,
        ip_address=ip,
        user_agent="App/5.2 (Android 14)" if method == "APP" else "Mozilla/5.0",
        consent_text=CONSENT_TEXT[consent_type],
        created_at=at,
    )


register_seeder(key="compliance", seed=seed_compliance, order=40)
