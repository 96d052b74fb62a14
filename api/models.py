"""The service API's own tables: who may call (clients, tokens), what they did (calls,
usage) and the replies kept for retries (idempotency keys).

None of them holds customer data (ARCHITECTURE.md, "Personal data"): a client is another
system of the platform, its contact a team; the call log keeps the operation, the status
and the ids of the rows written, never a request body or a query string. So no table here
points at a customer, and none declares ``personal_data``.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

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
