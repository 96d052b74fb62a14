"""Settings of the compliance app, each with its default (override in settings)."""

from django.conf import settings

# Rows per erasure transaction: small enough that no chunk holds a lock for long.
ERASURE_CHUNK_SIZE: int = getattr(settings, "ERASURE_CHUNK_SIZE", 500)
# What a redacted text column holds afterwards.
ERASURE_REDACTED_TEXT: str = getattr(settings, "ERASURE_REDACTED_TEXT", "[erased]")
# Rows per page of a customer's whole audit trail.
AUDIT_TRAIL_PAGE_SIZE: int = getattr(settings, "AUDIT_TRAIL_PAGE_SIZE", 200)
# How often the scheduler runs process_deletion_requests (the cron entry: every 15 minutes,
# on the quarter hour); the request page tells when an approved erasure will run.
ERASURE_JOB_EVERY_MINUTES: int = getattr(settings, "ERASURE_JOB_EVERY_MINUTES", 15)
