"""Session lifetime (backoffice/sessions.py) and the password rules."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from backoffice.sessions import SIGNED_IN_KEY
from customer_ops.roles import Role

INDEX = reverse("admin:index")
LOGIN = reverse("admin:login")


def _sign_in(client, make_staff):
    make_staff(Role.AGENT, username="long-day", password="right-password-123")
    response = client.post(LOGIN, {"username": "long-day", "password": "right-password-123", "next": INDEX})
    assert response.status_code == 302


def _signed_in_ago(client, seconds: int) -> None:
    session = client.session
    session[SIGNED_IN_KEY] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_the_sign_in_time_is_recorded(client, make_staff):
    before = int(time.time())
    _sign_in(client, make_staff)
    assert before <= client.session[SIGNED_IN_KEY] <= int(time.time())


@pytest.mark.django_db
def test_an_active_session_ends_after_its_absolute_lifetime(client, make_staff, settings):
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    _sign_in(client, make_staff)
    _signed_in_ago(client, settings.SESSION_ABSOLUTE_SECONDS - 60)
    assert client.get(INDEX).status_code == 200  # busy and within the lifetime
    _signed_in_ago(client, settings.SESSION_ABSOLUTE_SECONDS + 1)
    response = client.get(INDEX)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.session.get(SESSION_KEY) is None
    assert client.get(INDEX).status_code == 302  # and stays signed out


@pytest.mark.django_db
def test_a_new_sign_in_starts_a_new_lifetime(client, make_staff, settings):
    _sign_in(client, make_staff)
    _signed_in_ago(client, settings.SESSION_ABSOLUTE_SECONDS + 1)
    client.get(INDEX)
    assert client.post(LOGIN, {"username": "long-day", "password": "right-password-123"}).status_code == 302
    assert client.get(INDEX).status_code == 200


@pytest.mark.django_db
def test_sessions_from_before_the_rule_start_counting_at_their_next_request(client, make_staff):
    _sign_in(client, make_staff)
    session = client.session
    del session[SIGNED_IN_KEY]
    session.save()
    assert client.get(INDEX).status_code == 200
    assert abs(client.session[SIGNED_IN_KEY] - time.time()) < 5


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("backoffice-demo", True), ("correct-horse-b", True), ("elevenchars", False), ("short-pw-11", False)],
)
def test_passwords_need_twelve_characters(password, accepted):
    if accepted:
        validate_password(password)
    else:
        with pytest.raises(ValidationError, match="at least 12 characters"):
            validate_password(password)


@pytest.mark.django_db
def test_the_password_change_form_refuses_a_short_password(client, make_staff):
    user = make_staff(Role.AGENT, username="changer", password="first-password-123")
    client.force_login(user)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": "first-password-123", "new_password1": "Xq7#shortpw", "new_password2": "Xq7#shortpw"},
    )
    assert response.status_code == 200 and "at least 12 characters" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("first-password-123")


# --- the session engine (backoffice/session_store.py) ------------------------------------


@pytest.mark.django_db
def test_the_session_engine_loads_what_djangos_database_engine_loads():
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore
    from django.contrib.sessions.models import Session

    from backoffice.session_store import SessionStore

    assert django_settings.SESSION_ENGINE == "backoffice.session_store"
    live = SessionStore()
    live.update({"a": 1, "name": "Zoë <b>", SESSION_KEY: "7"})
    live.save()
    expired = SessionStore()
    expired["b"] = 2
    expired.save()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    for key in (live.session_key, expired.session_key, "no-such-session-key", None):
        ours, django = SessionStore(key), DjangoStore(key)
        assert ours.load() == django.load()
        assert ours.session_key == django.session_key  # a missing or expired key is dropped, as Django does
    assert SessionStore(live.session_key).load() == {"a": 1, "name": "Zoë <b>", SESSION_KEY: "7"}
    gone = SessionStore(expired.session_key)
    assert gone.load() == {} and gone.session_key is None


@pytest.mark.django_db
def test_a_signed_in_request_reads_its_session_with_the_kept_statement(client, make_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _sign_in(client, make_staff)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:password_change")).status_code == 200
    reads = [q["sql"] for q in queries if 'FROM "django_session"' in q["sql"]]
    # One read, of the data only (Django's own selects the whole row).
    kept = 'SELECT "django_session"."session_data" AS "session_data" FROM'
    assert len(reads) == 1 and reads[0].startswith(kept), reads
