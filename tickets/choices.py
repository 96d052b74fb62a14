"""The spec's enums for tickets, messages, disputes and refund requests."""

from django.db import models


class IssueCategory(models.TextChoices):
    ORDER = "ORDER", "Order"
    PAYMENT = "PAYMENT", "Payment"
    DELIVERY = "DELIVERY", "Delivery"
    REFUND = "REFUND", "Refund"
    ACCOUNT = "ACCOUNT", "Account"
    TECHNICAL = "TECHNICAL", "Technical"


class Priority(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    URGENT = "URGENT", "Urgent"
    CRITICAL = "CRITICAL", "Critical"


class TicketStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    RESOLVED = "RESOLVED", "Resolved"
    CLOSED = "CLOSED", "Closed"


class MessageType(models.TextChoices):
    TEXT = "TEXT", "Text"
    IMAGE = "IMAGE", "Image"
    FILE = "FILE", "File"
    SYSTEM = "SYSTEM", "System"


class SenderType(models.TextChoices):
    CUSTOMER = "CUSTOMER", "Customer"
    AGENT = "AGENT", "Agent"
    SYSTEM = "SYSTEM", "System"


class DisputeType(models.TextChoices):
    REFUND = "REFUND", "Refund"
    QUALITY = "QUALITY", "Quality"
    NON_DELIVERY = "NON_DELIVERY", "Non-delivery"
    OVERCHARGE = "OVERCHARGE", "Overcharge"
    FRAUD = "FRAUD", "Fraud"


class DisputedAgainst(models.TextChoices):
    MERCHANT = "MERCHANT", "Merchant"
    RIDER = "RIDER", "Rider"
    PLATFORM = "PLATFORM", "Platform"


class DisputeStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    INVESTIGATING = "INVESTIGATING", "Investigating"
    RESOLVED = "RESOLVED", "Resolved"
    REJECTED = "REJECTED", "Rejected"
    ESCALATED = "ESCALATED", "Escalated"


# A dispute in one of these is decided: no longer "action required", no longer holding data.
CLOSED_DISPUTE_STATUSES = (DisputeStatus.RESOLVED, DisputeStatus.REJECTED)


class RefundType(models.TextChoices):
    FULL = "FULL", "Full"
    PARTIAL = "PARTIAL", "Partial"
    ITEM = "ITEM", "Item"
    DELIVERY_FEE = "DELIVERY_FEE", "Delivery fee"


class RefundStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"


# The statuses whose approved amount is owed to the customer (decided, being paid, or paid):
# together they never exceed what the order was paid (tickets.triggers.RefundsWithinPaid).
REFUND_APPROVED_STATUSES = (RefundStatus.APPROVED, RefundStatus.PROCESSING, RefundStatus.COMPLETED)


class RefundMode(models.TextChoices):
    ORIGINAL_PAYMENT = "ORIGINAL_PAYMENT", "Original payment"
    WALLET = "WALLET", "Wallet"
    COUPON = "COUPON", "Coupon"
