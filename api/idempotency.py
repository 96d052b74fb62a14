"""``Idempotency-Key``: a POST retried with the same key does its work once (Stripe's rule).

``@idempotent`` on a POST handler (under its ``@router.post``) declares the optional
``Idempotency-Key`` header (at most 255 characters, kept :data:`RETENTION` per client) and:

1. opens the transaction the handler's service runs in, and first INSERTs the key with a
   hash of the operation and the body. A concurrent request with the same key waits on the
   unique index until the first commits (then replays its answer) or rolls back (then runs);
2. runs the handler, and stores its status and JSON body in the key's row, in the same
   transaction: the write and the stored answer commit together or not at all;
3. a later request with the key: same operation and body -> the stored answer, nothing run
   (``Idempotent-Replayed: true``); another body -> 422.

A handler that raises (a domain refusal, a validation error) rolls everything back, the key
included: the caller may mend the request and retry with the same key.
The handler returns ``Status(201, data)`` (ninja's) or ``data``, where ``data`` is what its response
schema validates (a Schema instance, a dict or a list), so the stored answer is its JSON.

:func:`purge_expired` (``manage.py purge_api_idempotency_keys``, scheduled) deletes keys
past the retention.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import typing

from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from ninja import Header, Status
from ninja.responses import NinjaJSONEncoder

from api.errors import ApiProblem
from api.models import IdempotencyKey

RETENTION = dt.timedelta(hours=24)
HEADER = "Idempotency-Key"
KeyHeader = typing.Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        description="Any unique string per intended write (a UUID): a retry with the same key and body "
        "returns the first response and writes nothing more; kept 24 hours.",
    ),
]


def idempotent(handler):
    """Make a POST handler safe to retry under an ``Idempotency-Key`` (see the module)."""
    signature = inspect.signature(handler)
    hints = typing.get_type_hints(handler, include_extras=True)  # resolved here: ninja reads them from the wrapper
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    parameters.append(
        inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=KeyHeader)
    )

    @functools.wraps(handler)
    def wrapper(request, *args, idempotency_key: str | None = None, **kwargs):
        if idempotency_key is None:
            with transaction.atomic():
                return handler(request, *args, **kwargs)
        client_id = request.auth.client_id
        try:
            body = request.body
        except RawPostDataException:  # a form body an operation without one had parsed already
            raise ApiProblem(415, "Send a JSON body (application/json), or none.") from None
        digest = hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(client_id=client_id, key=idempotency_key, request_hash=digest)
            except IntegrityError:
                return _replay(request, client_id, idempotency_key, digest)
            status, data = _split(handler(request, *args, **kwargs))
            row.status_code = status
            row.response = json.loads(json.dumps(data, cls=NinjaJSONEncoder))
            row.save(update_fields=["status_code", "response"])
        return Status(status, data)

    wrapper.__signature__ = signature.replace(parameters=parameters)
    wrapper.idempotent = True
    return wrapper


def _split(result) -> tuple[int, object]:
    if isinstance(result, Status):
        return result.status_code, result.value
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        return result  # ninja's older form
    return 200, result


def _replay(request, client_id: int, key: str, digest: str):
    first = IdempotencyKey.objects.get(client_id=client_id, key=key)
    if first.request_hash != digest:
        raise ApiProblem(
            422,
            f"The {HEADER} {key[:60]!r} was used with another request; use a new key for a new request.",
            kind="idempotency-key-reused",
        )
    request.idempotent_replay = True  # api.v1 sets the response header
    return Status(first.status_code, first.response)


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete the keys past :data:`RETENTION`; returns how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
