"""One delivery attempt: POST the signed event, record the outcome, decide what comes next.

Retry schedule (README "Events"): after a failed attempt (a connection error, a timeout,
or an answer other than 2xx) the next one waits 1 minute, then 2, 4, 8, ... doubling to
2,048 minutes (34 h 8 min): 13 attempts over 68 h 15 min (under three days), after which
the delivery is ``FAILED`` and stays so until the administrator replays it. The waits are
:data:`RETRY_DELAYS`; the worker's retry strategy (``api.tasks``) schedules the job at the
``next_attempt_at`` this module records, so the schedule lives here only.

At least once: a delivery is marked ``DELIVERED`` after the receiver's 2xx, so a worker
killed between the two makes the attempt again (the receiver de-duplicates on the
``Webhook-Id``, the event id).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request

from django.db import transaction
from django.utils import timezone

from api.models import DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from api.webhooks import signing
from customer_ops.events import envelope

RETRY_DELAYS = tuple(dt.timedelta(minutes=2**n) for n in range(12))  # 1 min ... 2,048 min
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT_SECONDS = 10
USER_AGENT = "backoffice-webhooks/1"


class DeliveryFailed(Exception):
    """An attempt failed and another is due at ``retry_at`` (the worker's retry strategy reads it)."""

    def __init__(self, message: str, retry_at: dt.datetime):
        super().__init__(message)
        self.retry_at = retry_at


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(envelope(delivery.event), separators=(",", ":"), sort_keys=True).encode()


def post(subscription: WebhookSubscription, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """``(status code or None, error)`` of one signed POST; never raises for the receiver's faults."""
    body = body_of(delivery)
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Webhook-Id": str(delivery.event.event_id),
            "Webhook-Delivery": str(delivery.pk),
            signing.HEADER: signing.sign(subscription.secret, body, int(time.time())),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (https or dev http)
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"[:200]


def attempt(delivery_id: int) -> str:
    """Make the delivery's next attempt; returns its status afterwards. Raises
    :class:`DeliveryFailed` when another attempt is due (the job is retried then)."""
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    subscription = delivery.subscription
    if delivery.status != DeliveryStatus.PENDING:
        return delivery.status  # delivered, failed or held since the job was deferred
    if subscription.status == SubscriptionStatus.DELETED:
        return _set(delivery, status=DeliveryStatus.CANCELLED)
    if subscription.status == SubscriptionStatus.PAUSED:
        return _set(delivery, status=DeliveryStatus.HELD)  # deferred again, in order, on resume

    code, error = post(subscription, delivery)
    now = timezone.now()
    attempts = delivery.attempts + 1
    if code is not None and 200 <= code < 300:
        with transaction.atomic():
            _set(
                delivery,
                status=DeliveryStatus.DELIVERED,
                attempts=attempts,
                last_status_code=code,
                last_error="",
                last_attempt_at=now,
                next_attempt_at=None,
                delivered_at=now,
            )
            WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        return DeliveryStatus.DELIVERED
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(failing_since=now)
        if attempts >= MAX_ATTEMPTS:
            return _set(
                delivery,
                status=DeliveryStatus.FAILED,
                attempts=attempts,
                last_status_code=code,
                last_error=error,
                last_attempt_at=now,
                next_attempt_at=None,
            )
        retry_at = now + RETRY_DELAYS[attempts - 1]
        _set(
            delivery,
            attempts=attempts,
            last_status_code=code,
            last_error=error,
            last_attempt_at=now,
            next_attempt_at=retry_at,
        )
    raise DeliveryFailed(error or f"HTTP {code}", retry_at)


def _set(delivery: WebhookDelivery, **values) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
    return values.get("status", delivery.status)
