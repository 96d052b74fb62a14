"""Factories for the compliance app's own tables (the spec tables' are in tests/factories.py)."""

from __future__ import annotations

import factory

from compliance import models as compliance
from customer_ops.models import OutboxEvent
from tests.factories import CustomerFactory, OutboxEventFactory, UserFactory


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = compliance.AccessLog

    staff = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)
    kind = "VIEW"
    detail = "customer page"
    ip_address = "10.9.8.7"


# Tables of this project (not of the spec) that declare write rules, with their factories:
# the generated write-rule tests cover them too.
OWN_FACTORIES = {compliance.AccessLog: AccessLogFactory}


# The event outbox (customer_ops.events) is append-only too: walked like the project's other logs.
OWN_FACTORIES[OutboxEvent] = OutboxEventFactory
