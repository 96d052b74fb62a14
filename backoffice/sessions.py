"""Session lifetime: an idle timeout without a database write per page view, and an
absolute lifetime counted from the sign-in.

Django's ``SESSION_SAVE_EVERY_REQUEST`` renews a session's expiry by saving it on every
request: an UPDATE (in its own transaction) for each page an agent opens. Here a session
is saved only when its last renewal is more than ``RENEW_AFTER`` seconds old, so the
expiry still follows the user's activity: a session ends between ``SESSION_COOKIE_AGE -
RENEW_AFTER`` and ``SESSION_COOKIE_AGE`` seconds after the last request.

Activity alone would keep a session (or a stolen cookie) alive for ever, so a signed-in
session also ends ``SESSION_ABSOLUTE_SECONDS`` after the sign-in, busy or not: the user
signs in again (with the second factor, in production).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in

RENEW_AFTER = 60
RENEWED_KEY = "_idle_renewed"
SIGNED_IN_KEY = "_signed_in_at"


def _stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_KEY] = int(time.time())


user_logged_in.connect(_stamp_sign_in, dispatch_uid="backoffice.sessions.stamp_sign_in")


class IdleSessionMiddleware:
    """After ``SessionMiddleware``, before ``AuthenticationMiddleware``: ends a signed-in
    session past its absolute lifetime, and marks it modified once a minute at most."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if session.get(SESSION_KEY) is not None:
                # Sessions signed in before this rule existed start counting now.
                signed_in_at = session.setdefault(SIGNED_IN_KEY, now)
                if now - signed_in_at >= settings.SESSION_ABSOLUTE_SECONDS:
                    session.flush()  # signed out: the admin sends the user to the sign-in page
                    return self.get_response(request)
            if now - session.get(RENEWED_KEY, 0) >= RENEW_AFTER:
                session[RENEWED_KEY] = now  # modified: saved with a fresh expiry
        return self.get_response(request)
