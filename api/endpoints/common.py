"""What the endpoint modules share: finding the customer a call names, and enum fields
whose values the schema lists (so a client, and schemathesis, see the spec's enums)."""

from __future__ import annotations

import typing

from django.db import models
from ninja.errors import HttpError

from customer_ops.models import Customer


def choice(choices: type[models.TextChoices]):
    """A ``Literal`` of a TextChoices' values, for a request or response schema."""
    return typing.Literal.__getitem__(tuple(choices.values))


def customer_or_404(customer_id: int) -> Customer:
    """The customer the call names; 404 (never a hint whether the id was ever used)."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise HttpError(404, f"No customer {customer_id}.")
    return customer
