"""Factories of the support console's own tables (the spec tables' are in tests/factories.py)."""

from __future__ import annotations

import factory

from tests.factories import TicketFactory, UserFactory
from tickets import models


class InternalNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.InternalNote

    ticket = factory.SubFactory(TicketFactory)
    author = factory.SubFactory(UserFactory)
    author_name = "A colleague"
    body = factory.Faker("sentence")


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Macro

    name = factory.Sequence(lambda n: f"Macro {n}")
    body = "Hi {{ customer_first_name }}, about order {{ order_number }}."
