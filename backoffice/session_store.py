"""The session engine (``SESSION_ENGINE``): Django's database sessions, read with a
statement compiled once per process.

Every signed-in page loads its session first. Django's ``load()`` builds and compiles
``Session.objects.get(session_key=..., expire_date__gt=now)`` for each request, about a
third of a millisecond of Python for a read PostgreSQL answers from the primary key in a
tenth of that. The same read is kept (:mod:`customer_ops.statements`); everything else,
saving, expiry and ``clearsessions``, is Django's.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from customer_ops.statements import KEY_STAND_IN, TIME_STAND_IN, kept_value


@kept_value(Session, "key", "at")
def _session_data():
    return Session.objects.filter(session_key=KEY_STAND_IN, expire_date__gt=TIME_STAND_IN).values("session_data")


class SessionStore(db.SessionStore):
    def load(self):
        # As Django's: a missing or expired session is an empty one, and its key is dropped
        # (a new one is made if the session is then saved).
        data = _session_data(key=self.session_key, at=timezone.now()) if self.session_key else None
        if data is None:
            self._session_key = None
            return {}
        return self.decode(data)
