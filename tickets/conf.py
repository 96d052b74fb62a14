"""Settings of the support console, read as ``getattr(settings, NAME, default)``.

SLA targets are not here: they are ``settings.SUPPORT_SLA``, read through
``customer_ops.deadlines``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from customer_ops.roles import Role

# The most a role may approve for one order: everything approved on the order's refund
# requests, by anyone, with the approval at hand (so a large refund cannot pass as several
# small requests). Superusers have no limit; a role not listed may not approve at all (it
# also needs tickets.approve_refundrequest).
REFUND_APPROVAL_LIMITS: dict[str, Decimal] = getattr(
    settings,
    "REFUND_APPROVAL_LIMITS",
    {Role.LEAD.value: Decimal("150.00")},
)

# Reason codes offered when raising a refund request.
REFUND_REASON_CODES: list[tuple[str, str]] = getattr(
    settings,
    "REFUND_REASON_CODES",
    [
        ("MISSING_ITEM", "Missing item"),
        ("WRONG_ITEM", "Wrong item"),
        ("NOT_DELIVERED", "Not delivered"),
        ("LATE_DELIVERY", "Late delivery"),
        ("QUALITY", "Quality problem"),
        ("DUPLICATE_CHARGE", "Charged twice"),
        ("OTHER", "Other"),
    ],
)

# The delivery fee is not a column of the orders stand-in: a DELIVERY_FEE refund is capped here.
REFUND_DELIVERY_FEE_MAX: Decimal = getattr(settings, "REFUND_DELIVERY_FEE_MAX", Decimal("4.99"))

# Orders that may be refunded.
REFUNDABLE_ORDER_STATUSES: tuple[str, ...] = getattr(settings, "REFUNDABLE_ORDER_STATUSES", ("COMPLETED",))

# The window of the "refunds in the last N days" figure on the refunds panel.
REFUND_RECENT_DAYS: int = getattr(settings, "REFUND_RECENT_DAYS", 30)

# Customer panels (keys of customer_ops.registry) beside the ticket thread and on the
# refund approval screen; None shows every panel the user may see. Panels of apps that
# are not installed simply do not appear.
TICKET_SIDEBAR_PANELS: list[str] | None = getattr(
    settings,
    "TICKET_SIDEBAR_PANELS",
    ["fraud_trust", "fraud_blocks", "recent_orders", "tickets", "refunds", "disputes"],
)
# The trust panel carries open fraud alerts by severity; refunds the last 30 days' total.
REFUND_APPROVAL_PANELS: list[str] | None = getattr(
    settings, "REFUND_APPROVAL_PANELS", ["fraud_trust", "refunds", "disputes", "tickets", "recent_orders"]
)

# Rows of the "other tickets" and "refunds" panels.
PANEL_ROWS: int = getattr(settings, "TICKETS_PANEL_ROWS", 8)

# What the customer app may send (tickets.services.intake): bounded so that one ticket or
# message cannot fill the queue page or the database; long enough for what people write.
CUSTOMER_SUBJECT_MAX: int = getattr(settings, "TICKETS_CUSTOMER_SUBJECT_MAX", 200)
CUSTOMER_SUBCATEGORY_MAX: int = getattr(settings, "TICKETS_CUSTOMER_SUBCATEGORY_MAX", 100)
CUSTOMER_TEXT_MAX: int = getattr(settings, "TICKETS_CUSTOMER_TEXT_MAX", 10_000)  # a description or a message
CUSTOMER_ATTACHMENTS_MAX: int = getattr(settings, "TICKETS_CUSTOMER_ATTACHMENTS_MAX", 10)  # links per ticket/message
CUSTOMER_ATTACHMENT_URL_MAX: int = getattr(settings, "TICKETS_CUSTOMER_ATTACHMENT_URL_MAX", 2_000)

# The customer-visible thread (tickets.selectors.customer_thread): messages per page.
CUSTOMER_THREAD_PAGE_MAX: int = getattr(settings, "TICKETS_CUSTOMER_THREAD_PAGE_MAX", 100)


# --- The ticket page's presence and live thread (read at call time: tests shorten them) ---


def presence_poll_seconds() -> float:
    """How often the ticket page sends its heartbeat and asks for new entries."""
    return float(getattr(settings, "TICKETS_PRESENCE_POLL_SECONDS", 5))


def presence_ttl_seconds() -> float:
    """A heartbeat older than this no longer counts as "has the ticket open" (a few polls:
    one lost request does not make a colleague vanish)."""
    return float(getattr(settings, "TICKETS_PRESENCE_TTL_SECONDS", max(3 * presence_poll_seconds(), 15)))


# Saved queue views an agent may keep (their home tiles are counted in one query).
SAVED_VIEWS_MAX: int = getattr(settings, "TICKETS_SAVED_VIEWS_MAX", 12)

# Tickets one bulk action may take (the result page lists each).
BULK_MAX: int = getattr(settings, "TICKETS_BULK_MAX", 200)
