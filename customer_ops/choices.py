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
