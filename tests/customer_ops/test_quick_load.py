"""``customer_ops.db.QuickLoad`` makes a row read from the database into the same instance
as Django's ``Model.from_db``: for every model that has it, whole rows, rows with deferred
columns and rows joined by ``select_related``, compared attribute by attribute with what
Django makes of the same query (Django's path taken by connecting an init receiver)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models.signals import pre_init
from django.utils import timezone

from customer_ops.db import QuickLoad
from fraud.models_review import ActivityClaim, AlertReview
from tests.compliance.factories import OWN_FACTORIES
from tests.factories import FACTORIES, UserFactory
from tickets.models import InternalNote, Macro

QUICK = sorted((m for m in apps.get_models() if issubclass(m, QuickLoad)), key=lambda m: m._meta.label)

# The models no factory makes: rows of their own, or of the model they are kept from.
MAKERS = {
    InternalNote: lambda: InternalNote.objects.create(
        ticket=FACTORIES[InternalNote.ticket.field.related_model](), body="A note"
    ),
    Macro: lambda: Macro.objects.create(name="Refund sent", body="Hello {{ customer.first_name }}"),
    AlertReview: lambda: AlertReview.objects.create(
        alert=FACTORIES[AlertReview.alert.field.related_model](), claimed_by=UserFactory(), claimed_until=timezone.now()
    ),
    ActivityClaim: lambda: ActivityClaim.objects.create(
        activity=FACTORIES[ActivityClaim.activity.field.related_model](),
        claimed_by=UserFactory(),
        claimed_until=timezone.now(),
    ),
}


def _a_row(model):
    for maker in (MAKERS.get(model), FACTORIES.get(model), OWN_FACTORIES.get(model)):
        if maker is not None:
            maker()
            break
    else:
        # A proxy shares its model's rows; a kept table (the queue's slots) is filled by
        # triggers when its source rows are made, which the factories of other tables do.
        source = model._meta.concrete_model
        for make in (FACTORIES.get(source), OWN_FACTORIES.get(source)):
            if make is not None:
                make()
        if not model._base_manager.exists():
            for make in FACTORIES.values():
                make()
    assert model._base_manager.exists(), f"{model._meta.label}: no row to load; give it a maker here"


def _shown(instance, seen=()) -> dict:
    """The instance's attributes and state, and those of the related rows cached on it (a
    one-to-one's cache points back: each instance once)."""
    state, seen = instance._state, (*seen, id(instance))
    related = {k: v if v is None or id(v) in seen else _shown(v, seen) for k, v in state.fields_cache.items()}
    return {**{k: v for k, v in vars(instance).items() if k != "_state"}, "_state": (state.adding, state.db, related)}


def _both(queryset) -> tuple[list[dict], list[dict]]:
    quick = [_shown(o) for o in queryset.all()]

    def receiver(sender, **kwargs):
        pass

    pre_init.connect(receiver, weak=False)
    try:
        djangos = [_shown(o) for o in queryset.all()]
    finally:
        pre_init.disconnect(receiver)
    return quick, djangos


@pytest.mark.django_db
@pytest.mark.parametrize("model", QUICK, ids=lambda m: m._meta.label)
def test_quick_rows_are_djangos(model):
    _a_row(model)
    queryset = model._base_manager.order_by("pk")[:3]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    relations = [f.name for f in fields if f.is_relation]
    for shape in (
        queryset,
        queryset.defer(fields[0].name),  # fewer values than columns
        queryset.only(fields[-1].name),
        queryset.select_related(*relations),  # joined rows made by RelatedPopulator
    ):
        quick, djangos = _both(shape)
        assert quick and quick == djangos, shape.query


def test_the_hot_pages_models_load_quickly():
    """The models the queue, the ticket page and the alert queue read by the hundred."""
    labels = {m._meta.label for m in QUICK}
    assert {"customer_ops.Customer", "tickets.TicketQueueSlot", "fraud.AlertReview", "tickets.Ticket"} <= labels
