"""Settings of the compliance app, each with its default (override in settings)."""

from django.conf import settings

# Rows per erasure transaction: small enough that no chunk holds a lock for long.
ERASURE_CHUNK_SIZE: int = getattr(settings, "ERASURE_CHUNK_SIZE", 500)
# What a redacted text column holds afterwards.
ERASURE_REDACTED_TEXT: str = getattr(settings, "ERASURE_REDACTED_TEXT", "[erased]")
# Rows per page of a customer's whole audit trail.
AUDIT_TRAIL_PAGE_SIZE: int = getattr(settings, "AUDIT_TRAIL_PAGE_SIZE", 200)
