"""Enums shared by every app (the platform's, and the spec's ``service_type``)."""

from django.db import models


class ServiceType(models.TextChoices):
    FOOD = "FOOD", "Food"
    PARCEL = "PARCEL", "Parcel"
    RIDE = "RIDE", "Ride"


class CustomerStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    SUSPENDED = "SUSPENDED", "Suspended"
    CLOSED = "CLOSED", "Closed"
    ANONYMISED = "ANONYMISED", "Anonymised"


class OrderStatus(models.TextChoices):
    PLACED = "PLACED", "Placed"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    COMPLETED = "COMPLETED", "Completed"
    CANCELLED = "CANCELLED", "Cancelled"


class EventType(models.TextChoices):
    """The events other systems of the platform hear (``customer_ops.events``; README "Events")."""

    TICKET_MESSAGE_CREATED = "ticket.message_created", "A message the customer sees was added to a ticket"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "A ticket's status changed"
    REFUND_APPROVED = "refund.approved", "A refund request was approved"
    REFUND_REJECTED = "refund.rejected", "A refund request was rejected"
    BLOCK_CREATED = "block.created", "A customer was blocked"
    BLOCK_LIFTED = "block.lifted", "A block was lifted (by staff or on expiry)"
    CUSTOMER_RISK_LEVEL_CHANGED = "customer.risk_level_changed", "The trust engine moved a customer's risk level"
    DISPUTE_RESOLVED = "dispute.resolved", "A dispute was resolved"
    DATA_SUBJECT_REQUEST_COMPLETED = "data_subject_request.completed", "An erasure completed: erase the customer too"
