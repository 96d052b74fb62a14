"""Events out: what other systems of the platform must hear, written with the change.

A service (or job) that makes a change another system acts on calls :func:`emit` inside
its own transaction: the event row (``event_outbox``) commits or rolls back with the
change, so a rolled-back change emits nothing and a committed one is never lost (a
transactional outbox). Set-based jobs write their events in the same SQL statement as the
change (:func:`outbox_insert_sql`) and hand the new rows' ids to :func:`announce`.

Delivery is not this module's business: the service API (``api.webhooks``) registers a
listener (:func:`on_events`) that fans each event out to the subscriptions that want it,
in the same transaction, and a worker delivers them. So the apps depend on this module
only, never on ``api`` (ARCHITECTURE.md, "Service API and events").

An event carries ids and codes only -- never a name, an email, a message text or a
reason typed by staff -- so the outbox holds no personal data (its declaration says so)
and receivers fetch what they need through the API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from customer_ops.choices import EventType
from customer_ops.models import OutboxEvent

API_VERSION = "1"

_listeners: list[Callable[[list[int]], None]] = []


def on_events(listener: Callable[[list[int]], None]) -> None:
    """Call ``listener(outbox ids)`` in the emitting transaction for every event written
    (the API's webhook fan-out registers itself in its ``AppConfig.ready``)."""
    if listener not in _listeners:
        _listeners.append(listener)


def announce(ids: Iterable[int]) -> None:
    """Hand newly written outbox rows (their ``id``) to the listeners, in the caller's transaction."""
    ids = sorted(ids)
    if ids:
        for listener in _listeners:
            listener(ids)


def _plain(value):
    """The JSON form of an id, code, amount or time (the only kinds an event carries)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def emit(event_type: EventType | str, *, customer_id: int, **data) -> OutboxEvent:
    """Write one event in the caller's transaction (which must be open: an event outside
    the change's transaction could announce a change that then rolls back).

    ``data``: the ids, codes, amounts and times of the change -- never free text.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("emit() belongs inside the transaction of the change it announces.")
    event = OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        event_type=EventType(event_type),
        customer_id=customer_id,
        created_at=timezone.now(),
        api_version=API_VERSION,
        data=_plain({"customer_id": customer_id, **data}),
    )
    announce([event.pk])
    return event


def outbox_insert_sql(event_type: EventType, rows: str) -> str:
    """An ``INSERT INTO event_outbox ... RETURNING id`` for a set-based job, to be used as a
    CTE of the job's own statement: ``rows`` is a SELECT with the columns ``customer_id``
    and ``data`` (a jsonb object of ids and codes). The job passes the returned ids to
    :func:`announce`."""
    return f"""
        INSERT INTO event_outbox (event_id, event_type, customer_id, created_at, api_version, data)
        SELECT gen_random_uuid(), '{EventType(event_type).value}', e.customer_id, now(), '{API_VERSION}', e.data
        FROM ({rows}) AS e
        ORDER BY e.customer_id
        RETURNING id"""


def envelope(event: OutboxEvent) -> dict:
    """The JSON body receivers get (README "Events"): the same for every event type."""
    return {
        "id": str(event.event_id),
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "api_version": event.api_version,
        "data": event.data,
    }
