"""The administrator's section of the home page (customer_ops.home): webhook subscriptions
that keep failing. Superusers only (the API's admin pages are theirs alone)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from api.models import SubscriptionStatus, WebhookSubscription
from customer_ops.home import count_tile
from customer_ops.registry import Tile, register_home

FAILING_FOR = dt.timedelta(hours=1)


def failing(now: dt.datetime | None = None):
    """Live subscriptions whose deliveries have failed, without a success since, for an hour."""
    now = now or timezone.now()
    return WebhookSubscription.objects.exclude(status=SubscriptionStatus.DELETED).filter(
        failing_since__lte=now - FAILING_FOR
    )


def api_tiles(request) -> list[Tile] | None:
    url = reverse("admin:api_webhooksubscription_changelist") + "?failing=hour"
    return [count_tile("Webhook subscriptions failing for over an hour", url, failing(), state="breached")]


register_home(
    key="api_webhooks",
    title="Service API",
    roles=(),  # the superuser's alone
    tiles=api_tiles,
    order=90,
)
