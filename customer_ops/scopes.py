"""The service API's scopes: what a calling system's token may do.

One list, read by the services (``@requires(..., scope=...)`` refuses a name not in it),
by the API's token checks and by the admin form of an API client.
"""

from __future__ import annotations

TICKETS_WRITE = "tickets:write"  # the customer app: open tickets, add messages, rate
TICKETS_READ = "tickets:read"  # the customer app: a ticket's status and customer-visible thread
FRAUD_WRITE = "fraud:write"  # the ML pipeline: fraud alerts and suspicious activity
LOGS_WRITE = "logs:write"  # auth and app systems: login, verification and activity history
DECISIONS_READ = "decisions:read"  # order approval: may this customer order now
PRIVACY_WRITE = "privacy:write"  # the privacy portal: deletion and access requests
WEBHOOKS_MANAGE = "webhooks:manage"  # any system: its own webhook subscriptions
ERASURE_CONFIRM = "erasure:confirm"  # a system holding customers: confirm it erased one

API_SCOPES: dict[str, str] = {
    TICKETS_WRITE: "Open tickets, add customer messages and ratings",
    TICKETS_READ: "Read a ticket's status and customer-visible thread",
    FRAUD_WRITE: "Create fraud alerts and suspicious activities",
    LOGS_WRITE: "Append login, verification and activity history",
    DECISIONS_READ: "Read the order-time decision for a customer",
    PRIVACY_WRITE: "File deletion and access requests",
    WEBHOOKS_MANAGE: "Subscribe endpoints to events; list, pause and delete its subscriptions",
    ERASURE_CONFIRM: "Confirm that it erased a customer after a completed erasure",
}
