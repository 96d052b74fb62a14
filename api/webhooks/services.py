"""Webhook subscriptions and replays: the one write path for the admin and the API.

Who may: the administrator (a superuser) or the system for any subscription; a calling
system for its own subscriptions only, with the ``webhooks:manage`` scope (the API
checks the scope before the call, :func:`_may_manage` again here).

A subscription's URL is https in production; plain http only where the settings allow it
(``WEBHOOKS_ALLOW_HTTP``: development and tests, whose receivers run on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from api.models import ApiClient, DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from api.webhooks import signing
from api.webhooks.fanout import defer_deliveries
from customer_ops.choices import EventType
from customer_ops.context import SYSTEM, CallingSystem
from customer_ops.errors import Conflict, Invalid, NotAllowed
from customer_ops.permissions import checked_inside
from customer_ops.scopes import WEBHOOKS_MANAGE

RULE = "the administrator or the system; a calling system for its own subscriptions with webhooks:manage"


def _may_manage(actor, client_id: int | None) -> None:
    if actor is SYSTEM:
        return
    if getattr(actor, "is_superuser", False) and getattr(actor, "is_active", False):
        return
    if (
        isinstance(actor, CallingSystem)
        and WEBHOOKS_MANAGE in actor.scopes
        and client_id is not None
        and actor.client_id == client_id
    ):
        return
    raise NotAllowed("Only the administrator, or the subscribing system itself, may manage its webhooks.")


def clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise Invalid("Enter the endpoint's full URL, such as https://orders.example.com/hooks.", field="url") from None
    if urlsplit(url).scheme != "https" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise Invalid("The endpoint must use https.", field="url")
    return url


def clean_event_types(event_types) -> list[str]:
    chosen = list(dict.fromkeys(event_types or []))
    if not chosen:
        raise Invalid("Choose at least one event type.", field="event_types")
    unknown = sorted(set(chosen) - set(EventType.values))
    if unknown:
        raise Invalid(
            f"Unknown event types {', '.join(unknown)}; known: {', '.join(EventType.values)}.", field="event_types"
        )
    return sorted(chosen)


@checked_inside(RULE)
def subscription_create(*, client: ApiClient, url: str, event_types, actor) -> tuple[WebhookSubscription, str]:
    """A new active subscription: ``(row, signing secret)``; show the secret once."""
    _may_manage(actor, client.pk)
    secret = signing.new_secret()
    subscription = WebhookSubscription.objects.create(
        client=client, url=clean_url(url), event_types=clean_event_types(event_types), secret=secret
    )
    return subscription, secret


def _locked(subscription: WebhookSubscription | int, actor) -> WebhookSubscription:
    pk = subscription.pk if isinstance(subscription, WebhookSubscription) else subscription
    locked = WebhookSubscription.objects.select_for_update().get(pk=pk)
    _may_manage(actor, locked.client_id)
    if locked.status == SubscriptionStatus.DELETED:
        raise Conflict(f"Subscription {locked.pk} is deleted.")
    return locked


@checked_inside(RULE)
@transaction.atomic
def subscription_pause(*, subscription: WebhookSubscription | int, actor) -> WebhookSubscription:
    """Paused: new events are kept (``HELD``) and the pending ones are held at their next
    attempt; nothing is lost, all is delivered in order on resume."""
    subscription = _locked(subscription, actor)
    subscription.status = SubscriptionStatus.PAUSED
    subscription.save(update_fields=["status"])
    return subscription


@checked_inside(RULE)
@transaction.atomic
def subscription_resume(*, subscription: WebhookSubscription | int, actor) -> WebhookSubscription:
    """Active again: the held deliveries get their jobs, oldest first."""
    subscription = _locked(subscription, actor)
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.failing_since = None
    subscription.save(update_fields=["status", "failing_since"])
    held = list(
        WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.HELD)
        .order_by("id")
        .values_list("id", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=held).update(status=DeliveryStatus.PENDING, next_attempt_at=None)
    defer_deliveries(held)
    return subscription


@checked_inside(RULE)
@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription | int, actor) -> WebhookSubscription:
    """Nothing more is delivered; the row and its deliveries stay for the record."""
    subscription = _locked(subscription, actor)
    subscription.status = SubscriptionStatus.DELETED
    subscription.save(update_fields=["status"])
    WebhookDelivery.objects.filter(
        subscription=subscription, status__in=[DeliveryStatus.HELD, DeliveryStatus.PENDING]
    ).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None)
    return subscription


@checked_inside(RULE)
@transaction.atomic
def deliveries_replay(*, deliveries, actor) -> int:
    """Deliver failed deliveries again, with a fresh retry schedule, in their order."""
    rows = list(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=[d.pk if isinstance(d, WebhookDelivery) else d for d in deliveries])
        .select_related("subscription")
        .order_by("id")
    )
    for row in rows:
        _may_manage(actor, row.subscription.client_id)
    ids = [
        row.pk
        for row in rows
        if row.status == DeliveryStatus.FAILED and row.subscription.status != SubscriptionStatus.DELETED
    ]
    WebhookDelivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None)
    defer_deliveries(ids)
    return len(ids)


@checked_inside(RULE)
def deliveries_replay_failed_since(*, subscription: WebhookSubscription, since: dt.datetime, actor) -> int:
    """Replay every failed delivery of ``subscription`` whose last attempt is at or after ``since``."""
    _may_manage(actor, subscription.client_id)
    failed = WebhookDelivery.objects.filter(
        subscription=subscription, status=DeliveryStatus.FAILED, last_attempt_at__gte=since
    ).values_list("id", flat=True)
    return deliveries_replay(deliveries=list(failed), actor=actor)
