"""Webhook subscriptions of the calling system (``webhooks:manage``), and the erasure
fan-out's confirmations (``erasure:confirm``). README "Events" documents the events, the
signature and the retry schedule."""

from __future__ import annotations

import datetime as dt
import typing

from django.http import Http404
from ninja import Field, Router, Schema, Status

from api.auth import Scoped
from api.calls import affected
from api.endpoints.common import choice
from api.idempotency import idempotent
from api.models import ApiClient, SubscriptionStatus, WebhookSubscription
from api.webhooks.services import (
    subscription_create,
    subscription_delete,
    subscription_pause,
    subscription_resume,
)
from compliance.recipients import erasure_recipient_confirm
from customer_ops.choices import EventType
from customer_ops.scopes import ERASURE_CONFIRM, WEBHOOKS_MANAGE

router = Router(tags=["webhooks"])

SubscriptionId = typing.Annotated[int, Field(ge=1, le=2**63 - 1)]


class SubscriptionIn(Schema):
    url: str = Field(max_length=2000, description="The endpoint; https in production.")
    event_types: list[choice(EventType)] = Field(min_length=1, max_length=len(EventType.values))


class SubscriptionOut(Schema):
    id: int
    url: str
    event_types: list[choice(EventType)]
    status: choice(SubscriptionStatus)
    created_at: dt.datetime


class CreatedOut(SubscriptionOut):
    secret: str = Field(description="The signing secret: shown in this answer only.")


class ConfirmationOut(Schema):
    request_id: str
    system: str
    confirmed_at: dt.datetime


def _out(subscription: WebhookSubscription) -> dict:
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "event_types": subscription.event_types,
        "status": subscription.status,
        "created_at": subscription.created_at,
    }


def _own(request, subscription_id: int) -> WebhookSubscription:
    """The caller's own live subscription; 404 for anyone else's (no hint that it exists)."""
    found = (
        WebhookSubscription.objects.filter(pk=subscription_id, client_id=request.auth.client_id)
        .exclude(status=SubscriptionStatus.DELETED)
        .first()
    )
    if found is None:
        raise Http404(f"No subscription {subscription_id}.")
    return found


@router.post("/webhooks", auth=Scoped(WEBHOOKS_MANAGE), response={201: CreatedOut}, summary="Subscribe an endpoint")
@idempotent
def create_subscription(request, payload: SubscriptionIn):
    """Subscribes the URL to the event types; answers the signing secret, once."""
    client = ApiClient.objects.get(pk=request.auth.client_id)
    subscription, secret = subscription_create(
        client=client, url=payload.url, event_types=payload.event_types, actor=request.auth
    )
    affected(request, [subscription.pk])
    return Status(201, {**_out(subscription), "secret": secret})


@router.get("/webhooks", auth=Scoped(WEBHOOKS_MANAGE), response=list[SubscriptionOut], summary="Its subscriptions")
def list_subscriptions(request):
    """The caller's subscriptions (not the deleted ones), oldest first; never a secret."""
    rows = (
        WebhookSubscription.objects.filter(client_id=request.auth.client_id)
        .exclude(status=SubscriptionStatus.DELETED)
        .order_by("id")
    )
    return [_out(s) for s in rows]


@router.post(
    "/webhooks/{subscription_id}/pause", auth=Scoped(WEBHOOKS_MANAGE), response={200: SubscriptionOut}, summary="Pause"
)
@idempotent
def pause_subscription(request, subscription_id: SubscriptionId):
    """Events are kept while paused and delivered, in order, on resume."""
    subscription = subscription_pause(subscription=_own(request, subscription_id), actor=request.auth)
    affected(request, [subscription.pk])
    return Status(200, _out(subscription))


@router.post(
    "/webhooks/{subscription_id}/resume",
    auth=Scoped(WEBHOOKS_MANAGE),
    response={200: SubscriptionOut},
    summary="Resume",
)
@idempotent
def resume_subscription(request, subscription_id: SubscriptionId):
    subscription = subscription_resume(subscription=_own(request, subscription_id), actor=request.auth)
    affected(request, [subscription.pk])
    return Status(200, _out(subscription))


@router.delete(
    "/webhooks/{subscription_id}", auth=Scoped(WEBHOOKS_MANAGE), response={204: None}, summary="Delete a subscription"
)
def delete_subscription(request, subscription_id: SubscriptionId):
    """Nothing more is delivered to it; undelivered events are cancelled."""
    subscription = subscription_delete(subscription=_own(request, subscription_id), actor=request.auth)
    affected(request, [subscription.pk])
    return Status(204, None)


@router.post(
    "/privacy/deletion-requests/{deletion_request}/erasure-confirmation",
    auth=Scoped(ERASURE_CONFIRM),
    response={201: ConfirmationOut},
    summary="Confirm an erasure",
)
@idempotent
def confirm_erasure(request, deletion_request: typing.Annotated[str, Field(max_length=40)]):
    """The calling system has erased the customer of a completed deletion request it received
    (`data_subject_request.completed`). Confirming again answers the first confirmation."""
    # The path names it `deletion_request`, like `{ticket}`: a `*_id` URL parameter is taken
    # for a bigint row id (customer_ops.bad_input) and a request id is a string (DEL-…).
    recipient = erasure_recipient_confirm(request_id=deletion_request, actor=request.auth)
    affected(request, [recipient.request.request_id])
    return Status(
        201,
        {
            "request_id": recipient.request.request_id,
            "system": recipient.system,
            "confirmed_at": recipient.confirmed_at,
        },
    )
