"""Delivery signatures: HMAC-SHA256 over ``"<timestamp>.<raw body>"`` (Stripe's scheme).

Each delivery carries ``Webhook-Signature: t=<unix seconds>,v1=<hex digest>``. A receiver
recomputes the digest with its subscription's secret over the timestamp and the body bytes
exactly as received, compares in constant time, and refuses a timestamp older than its
tolerance (5 minutes by default), so a captured request cannot be replayed later
(README "Events" has the receiver's check).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Webhook-Signature"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, body: bytes, header: str, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """The receiver's check (what the README shows): signature valid and recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
