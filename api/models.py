"""The service API's own tables: who may call (clients, tokens), what they did (calls,
usage), the replies kept for retries (idempotency keys), and the webhook subscriptions and
deliveries (``api.webhooks``).

None of them holds customer data (ARCHITECTURE.md, "Personal data"): a client is another
system of the platform, its contact a team; the call log keeps the operation, the status
and the ids of the rows written, never a request body or a query string; a delivery keeps
the customer's id (its ordering key) and points at an event of ids and codes.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from customer_ops.choices import EventType
from customer_ops.scopes import API_SCOPES


class ApiClient(models.Model):
    """One calling system of the platform (the customer app, the ML pipeline, ...): its
    scopes say what its tokens may do, its rate limit how often."""

    name = models.CharField(max_length=100, unique=True, help_text="The calling system, e.g. customer-app.")
    contact = models.CharField(max_length=200, blank=True, help_text="The team or mailbox that runs it.")
    scopes = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    enabled = models.BooleanField(default=True, help_text="Off: every token of the client is refused.")
    rate_limit_per_minute = models.PositiveIntegerField(default=1200, help_text="Calls per minute, all tokens.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "api_clients"
        verbose_name = "API client"
        constraints = [
            # The database's backstop of the admin's checkboxes: only the known scopes.
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=list(API_SCOPES)), name="api_clients_scopes_known"
            ),
            models.CheckConstraint(
                condition=models.Q(rate_limit_per_minute__gt=0), name="api_clients_rate_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token of a client. Only its SHA-256 is stored; ``prefix`` (its first
    characters) lets people tell tokens apart. Revoked or past ``expires_at``: refused."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)  # the auth's one lookup
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)  # to the minute (api.auth)

    class Meta:
        db_table = "api_tokens"
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"

    @property
    def usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyKey(models.Model):
    """The first response to a POST with an ``Idempotency-Key`` (api.idempotency), replayed
    to a retry with the same key and body. Inserted first in the transaction that runs the
    service, so the unique index makes a concurrent duplicate wait and then replay."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # SHA-256 of operation and body
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_idempotency_keys"
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_keys_client_key")]
        indexes = [models.Index(fields=["created_at"], name="api_idem_created_at")]  # the purge job

    def __str__(self) -> str:
        return f"{self.key[:40]} ({self.client_id})"


class ApiCall(models.Model):
    """A write call (api.calls): who, which operation, the answer and the ids of the rows it
    wrote. Never the body nor the query string (they hold personal data)."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="calls")
    operation = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    status = models.PositiveSmallIntegerField()
    affected_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_calls"
        verbose_name = "API call"
        indexes = [  # the admin's list, newest first, and filtered by client
            models.Index(fields=["-at"], name="api_calls_at"),
            models.Index(fields=["client", "-at"], name="api_calls_client_at"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.operation} {self.status}"


class ApiUsage(models.Model):
    """Calls per client and minute, every call counted by the token check itself
    (api.auth): the read statistics and the rate limit's window in one row."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE)
    minute = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "api_usage"
        verbose_name_plural = "API usage"
        constraints = [models.UniqueConstraint(fields=["client", "minute"], name="api_usage_client_minute")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.minute:%Y-%m-%d %H:%M}: {self.calls}"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    PAUSED = "PAUSED", "Paused: events are kept and delivered on resume"
    DELETED = "DELETED", "Deleted: nothing more is delivered"


class WebhookSubscription(models.Model):
    """An endpoint of a calling system that receives the events it subscribed to
    (``api.webhooks``), each delivery signed with ``secret`` (HMAC-SHA256, README "Events").

    The secret is kept in clear because signing needs it; it is shown once, to the creator
    (the API's answer or the admin's message), and never on a page afterwards. A deleted
    subscription is kept (status ``DELETED``) so that its deliveries stay readable.
    """

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="subscriptions")
    url = models.URLField(max_length=2000)
    event_types = ArrayField(models.CharField(max_length=60), help_text="The event types it receives.")
    secret = models.CharField(max_length=100, editable=False)
    status = models.CharField(max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE)
    # The first failed attempt since the last success: the superuser's home tile lists
    # subscriptions failing for more than an hour.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "api_webhook_subscriptions"
        verbose_name = "webhook subscription"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event_types__contained_by=EventType.values) & ~models.Q(event_types=[]),
                name="api_webhook_subscriptions_event_types_known",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SubscriptionStatus.values), name="api_webhook_subscriptions_status_valid"
            ),
        ]
        indexes = [  # the fan-out's lookup: live subscriptions of an event type
            GinIndex(fields=["event_types"], name="api_webhook_subs_types", condition=~models.Q(status="DELETED")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.client} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    DELIVERED = "DELIVERED", "Delivered"
    FAILED = "FAILED", "Failed (retries exhausted)"
    HELD = "HELD", "Held (subscription paused)"
    CANCELLED = "CANCELLED", "Cancelled (subscription deleted)"


class WebhookDelivery(models.Model):
    """One event to one subscription: its attempts and their outcome (``api.webhooks``).

    Written in the transaction of the event (the fan-out), with its procrastinate job; the
    worker updates it after each attempt. ``customer_id`` is copied from the event for the
    job's lock (deliveries of one customer to one subscription go in order).
    """

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    # No database FK: the outbox is an append-only log whose TRUNCATE its own trigger must
    # refuse, and the retention job deletes an expired event with its deliveries.
    event = models.ForeignKey(
        "customer_ops.OutboxEvent", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    customer_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")  # ours, never the receiver's body
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_webhook_deliveries"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="api_webhook_deliveries_once"),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="api_webhook_deliveries_status_valid"
            ),
        ]
        indexes = [
            # the admin's deliveries of a subscription, newest first; replay of the failed since a time
            models.Index(fields=["subscription", "-id"], name="api_webhook_deliveries_sub"),
            models.Index(
                fields=["subscription", "last_attempt_at"],
                name="api_webhook_deliveries_failed",
                condition=models.Q(status="FAILED"),
            ),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.status})"
