"""Idle timeout without a database write per page view.

Django's ``SESSION_SAVE_EVERY_REQUEST`` renews a session's expiry by saving it on every
request: an UPDATE (in its own transaction) for each page an agent opens. Here a session
is saved only when its last renewal is more than ``RENEW_AFTER`` seconds old, so the
expiry still follows the user's activity: a session ends between ``SESSION_COOKIE_AGE -
RENEW_AFTER`` and ``SESSION_COOKIE_AGE`` seconds after the last request.
"""

from __future__ import annotations

import time

RENEW_AFTER = 60
RENEWED_KEY = "_idle_renewed"


class IdleSessionMiddleware:
    """After ``SessionMiddleware``: marks a signed-in session modified once a minute at most."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(RENEWED_KEY, 0) >= RENEW_AFTER:
                session[RENEWED_KEY] = now  # modified: saved with a fresh expiry
        return self.get_response(request)
