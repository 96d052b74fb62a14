"""Idempotency-Key: a retried POST writes once; two at the same moment write once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from api.idempotency import purge_expired
from api.models import ApiCall, IdempotencyKey
from tests.api.conftest import assert_problem, bearer
from tests.api.urls import MARKER

NOTES = "/api/test/notes"


@pytest.fixture(autouse=True)
def _test_api(settings):
    settings.ROOT_URLCONF = "tests.api.urls"


def _post(client, token, body, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(NOTES, body, content_type="application/json", **bearer(token), **extra)


def _written() -> int:
    return ApiCall.objects.filter(operation=MARKER).count()


@pytest.mark.django_db
def test_same_key_same_body_returns_the_first_response_and_writes_nothing(client, make_token):
    _, token = make_token()
    first = _post(client, token, {"note": "hello"}, key="k-1")
    again = _post(client, token, {"note": "hello"}, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert _written() == 1
    # Each call is in the write log, the replay too, with the ids of the first.
    logged = list(ApiCall.objects.filter(operation="create_note").order_by("pk").values_list("status", "affected_ids"))
    assert logged == [(201, [str(first.json()["id"])]), (201, [])]


@pytest.mark.django_db
def test_same_key_other_body_is_422_and_writes_nothing(client, make_token):
    _, token = make_token()
    _post(client, token, {"note": "hello"}, key="k-1")
    assert_problem(_post(client, token, {"note": "other"}, key="k-1"), 422, detail="was used with another request")
    assert _written() == 1


@pytest.mark.django_db
def test_keys_are_per_client_and_without_a_key_each_call_writes(client, make_token):
    _, token = make_token()
    _, other = make_token()
    assert _post(client, token, {"note": "a"}, key="k").status_code == 201
    assert _post(client, other, {"note": "a"}, key="k").status_code == 201
    assert _post(client, token, {"note": "a"}).status_code == 201
    assert _post(client, token, {"note": "a"}).status_code == 201
    assert _written() == 4


@pytest.mark.django_db
def test_a_refused_request_keeps_no_key_so_a_mended_retry_runs(client, make_token):
    _, token = make_token()
    assert _post(client, token, {"note": "refuse"}, key="k").status_code == 422
    assert not IdempotencyKey.objects.exists() and _written() == 0  # rolled back with the write
    assert _post(client, token, {"note": "fine"}, key="k").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_key_of_no_or_over_255_characters_is_422(client, make_token, key):
    _, token = make_token()
    assert_problem(_post(client, token, {"note": "a"}, key=key), 422)
    assert _written() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_requests_with_one_key_write_once(make_token):
    """The first holds the key's row (uncommitted) while its handler sleeps; the second,
    from another connection, waits on the unique index, then replays the committed answer."""
    _, token = make_token()
    responses, timings = {}, {}

    def send(name: str, delay: float):
        time.sleep(delay)
        started = time.monotonic()
        try:
            responses[name] = _post(Client(), token, {"note": "same", "slow": 1.0}, key="concurrent")
        finally:
            timings[name] = time.monotonic() - started
            connection.close()

    threads = [threading.Thread(target=send, args=("first", 0)), threading.Thread(target=send, args=("second", 0.3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert responses["first"].status_code == responses["second"].status_code == 201
    assert responses["second"].json() == responses["first"].json()
    assert responses["second"]["Idempotent-Replayed"] == "true"
    assert timings["second"] >= 0.5  # it waited for the first's commit: it did not run the handler (1 s) itself
    assert _written() == 1


@pytest.mark.django_db
def test_keys_older_than_24_hours_are_purged_by_the_scheduled_job(client, make_token):
    _, token = make_token()
    _post(client, token, {"note": "a"}, key="old")
    _post(client, token, {"note": "a"}, key="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert purge_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    call_command("purge_api_idempotency_keys", stdout=__import__("io").StringIO())
    assert not IdempotencyKey.objects.exists()
