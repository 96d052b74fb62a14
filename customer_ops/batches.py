"""Batches of rows sent by the platform's other systems (the ML pipeline's alerts, the auth
system's logs), checked whole before anything is written.

A batch is all or nothing: every item is checked in Python against its fields (the spec's
enums and ranges, IP addresses, timestamps), then every customer, order and session it
names is looked up in one query; the refusal lists every bad item, ``{"index", "field",
"message"}``, in the app's own :class:`~customer_ops.errors.Invalid`, so the sender can mend
them all at once. Only a batch with no error is written, by one set-based statement
(:func:`copy_rows`, or the app's ``bulk_create``).

Everything a row could fail on in PostgreSQL is checked here first (a NUL character in a
text, a number out of its NUMERIC, an unknown id), so bad input is a 422, never a 500.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connections, router
from django.utils import timezone

from customer_ops.choices import CustomerStatus
from customer_ops.errors import Invalid
from customer_ops.models import Customer, CustomerSession, Order

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1

#: A sender's clock may run this far ahead of ours: a timestamp later than now + SKEW is refused.
CLOCK_SKEW = dt.timedelta(minutes=5)
#: How late a log row may arrive. Older rows of a month without a partition would wait in the
#: default partition for ``roll_partitions``; this bounds how far back a typo (year 2002) reaches.
MAX_LATENESS = dt.timedelta(days=90)

#: Items per batch: the ML pipeline's detections (alerts, suspicious activities) come a
#: thousand at a time; the auth and app systems' log rows in larger batches.
MAX_DETECTIONS = 1000
MAX_LOG_ROWS = 5000

SHORT_TEXT = 500  # ids, codes, device and network fields
LONG_TEXT = 10_000  # descriptions, reasons
JSON_MAX_BYTES = 64 * 1024  # one item's evidence or metadata


class Bad(ValueError):
    """One field's value refused; the message is for the sender."""


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """One accepted key of an item: how its value is checked (``parse`` returns the value to
    write, or raises :class:`Bad`), whether it must be given, and what a missing or null
    optional value becomes (``default``: a value, or a callable such as ``timezone.now``)."""

    parse: Parser
    required: bool = False
    default: Any = None


# --- parsers -------------------------------------------------------------------------------


def choice(enum) -> Parser:
    """One of the values of a ``TextChoices`` (the spec's enum)."""
    values = tuple(enum.values)

    def parse(value):
        if not isinstance(value, str) or value not in values:
            raise Bad(f"must be one of {', '.join(values)}")
        return value

    return parse


def code(pattern: str, *, max_length: int = 64, example: str = "") -> Parser:
    """A code matching ``pattern`` (e.g. the activity log's UPPER_SNAKE_CASE types)."""
    compiled = re.compile(pattern)

    def parse(value):
        if not isinstance(value, str) or len(value) > max_length or not compiled.fullmatch(value):
            raise Bad(f"must be a code such as {example}" if example else f"must match {pattern}")
        return value

    return parse


def text(max_length: int = SHORT_TEXT) -> Parser:
    """A string of at most ``max_length`` characters (PostgreSQL's text holds no NUL)."""

    def parse(value):
        if not isinstance(value, str):
            raise Bad("must be a string")
        if len(value) > max_length:
            raise Bad(f"must be at most {max_length:,} characters")
        if "\x00" in value:
            raise Bad("must not contain a NUL character")
        return value

    return parse


def boolean(value):
    if not isinstance(value, bool):
        raise Bad("must be true or false")
    return value


def integer(low: int = -INT_MAX, high: int = INT_MAX) -> Parser:
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Bad("must be a whole number")
        if not low <= value <= high:
            raise Bad(f"must be between {low:,} and {high:,}")
        return value

    return parse


def number(low, high, *, places: int) -> Parser:
    """A finite number within [low, high], kept as a Decimal rounded to ``places`` (the
    column's scale), given as a JSON number or a numeric string."""
    step = Decimal(1).scaleb(-places)

    def parse(value):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise Bad("must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise Bad("must be a finite number")
        try:
            decimal = Decimal(str(value).strip())
        except InvalidOperation as e:
            raise Bad("must be a number") from e
        if not decimal.is_finite() or not low <= decimal <= high:
            raise Bad(f"must be between {low} and {high}")
        return decimal.quantize(step)

    return parse


def reference(value):
    """The id of a row of another table (checked to exist by :func:`check_references`)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= BIGINT_MAX:
        raise Bad("must be a positive whole number (an id)")
    return value


def ip_address(value):
    """An IPv4 or IPv6 address, written in its canonical form ("" when not known)."""
    if value == "":
        return ""
    if not isinstance(value, str):
        raise Bad("must be an IP address as a string")
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as e:
        raise Bad("must be an IPv4 or IPv6 address") from e


def json_object(max_bytes: int = JSON_MAX_BYTES) -> Parser:
    """A JSON object (evidence, metadata) of at most ``max_bytes`` once serialised; jsonb
    holds no ``\\u0000``."""

    def parse(value):
        if not isinstance(value, dict):
            raise Bad("must be a JSON object")
        try:
            dumped = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise Bad("must hold only JSON values (strings, finite numbers, true/false, null, lists, objects)") from e
        if len(dumped.encode()) > max_bytes:
            raise Bad(f"must be at most {max_bytes // 1024} KB as JSON")
        if "\\u0000" in dumped:
            raise Bad("must not contain a NUL character")
        return value

    return parse


def timestamp(*, lateness: dt.timedelta = MAX_LATENESS, skew: dt.timedelta = CLOCK_SKEW) -> Parser:
    """When it happened: an ISO 8601 date-time with its UTC offset (or an aware datetime),
    not in the future beyond the clocks' ``skew`` and at most ``lateness`` ago."""

    def parse(value):
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError as e:
                raise Bad("must be an ISO 8601 date-time such as 2026-12-05T10:15:00Z") from e
        if not isinstance(value, dt.datetime):
            raise Bad("must be an ISO 8601 date-time such as 2026-12-05T10:15:00Z")
        if value.tzinfo is None or value.utcoffset() is None:
            raise Bad("must give its UTC offset (e.g. Z or +05:30)")
        now = timezone.now()
        if value > now + skew:
            raise Bad("must not be in the future")
        if value < now - lateness:
            raise Bad(f"must be within the last {lateness.days} days")
        return value

    return parse


# --- a batch -------------------------------------------------------------------------------


def _error(index: int | None, field: str, message: str) -> dict:
    return {"index": index, "field": field, "message": message}


def clean_items(
    items, fields: dict[str, Field], *, max_items: int, noun: str, error: type[Invalid]
) -> tuple[list[dict], list[dict]]:
    """Check every item against ``fields``: (cleaned items, errors). Refuses at once a batch
    that is not a list or is over ``max_items`` (nothing per item is worth reading then)."""
    if not isinstance(items, list | tuple):
        raise error(f"The {noun} must be sent as a list.", field="items")
    if len(items) > max_items:
        raise error(
            f"At most {max_items:,} {noun} can be sent at once; this batch has {len(items):,}. Split it.",
            field="items",
        )
    cleaned, errors = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(_error(index, "", "must be an object"))
            cleaned.append(None)
            continue
        row = {}
        for key in item.keys() - fields.keys():
            errors.append(_error(index, str(key), "is not a field this batch accepts"))
        for name, spec in fields.items():
            value = item.get(name)
            if value is None:
                if spec.required:
                    errors.append(_error(index, name, "is required"))
                row[name] = spec.default() if callable(spec.default) else spec.default
                continue
            try:
                row[name] = spec.parse(value)
            except Bad as e:
                errors.append(_error(index, name, str(e)))
        cleaned.append(row)
    return cleaned, errors


# The tables an item may point at: (field, model, whose row it must be).
CUSTOMER, ORDER, SESSION = "customer_id", "order_id", "session_id"
_REFERENCES = {CUSTOMER: Customer, ORDER: Order, SESSION: CustomerSession}


def check_references(rows: Sequence[dict | None], errors: list[dict], *, using: str = "default") -> None:
    """Add an error for each item naming a customer that does not exist or was erased, or an
    order or session that does not exist or is another customer's. One query for the
    whole batch, whatever it names."""
    wanted: dict[str, set[int]] = {name: set() for name in _REFERENCES}
    for row in rows:
        for name in wanted:
            if row and isinstance(row.get(name), int):
                wanted[name].add(row[name])
    parts, params = [], []
    for name, model in _REFERENCES.items():
        if wanted[name]:
            owner = "NULL::bigint" if model is Customer else "customer_id"
            status = "status" if model is Customer else "NULL::text"
            parts.append(
                f"SELECT %s::text, id, {owner}, {status} FROM {model._meta.db_table} WHERE id = ANY(%s::bigint[])"
            )
            params += [name, sorted(wanted[name])]
    if not parts:
        return
    found: dict[tuple[str, int], tuple[int | None, str | None]] = {}
    with connections[using].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for name, pk, owner, status in cursor.fetchall():
            found[(name, pk)] = (owner, status)
    for index, row in enumerate(rows):
        if not row:
            continue
        customer_id = row.get(CUSTOMER)
        for name in _REFERENCES:
            pk = row.get(name)
            if not isinstance(pk, int):
                continue
            if (name, pk) not in found:
                errors.append(_error(index, name, f"{_REFERENCES[name]._meta.verbose_name} {pk} does not exist"))
                continue
            owner, status = found[(name, pk)]
            if name == CUSTOMER and status == CustomerStatus.ANONYMISED:
                # Erased: new rows would hold personal data (IPs, devices) again.
                errors.append(_error(index, name, f"customer {pk} was erased; nothing is recorded about them"))
            elif owner is not None and isinstance(customer_id, int) and owner != customer_id:
                errors.append(
                    _error(index, name, f"{_REFERENCES[name]._meta.verbose_name} {pk} is not customer {customer_id}'s")
                )


def validated(items, fields: dict[str, Field], *, max_items: int, noun: str, error: type[Invalid], model) -> list[dict]:
    """The batch's rows, ready to write, or ``error`` listing every bad item (nothing written)."""
    using = router.db_for_write(model)
    rows, errors = clean_items(items, fields, max_items=max_items, noun=noun, error=error)
    check_references(rows, errors, using=using)
    if errors:
        bad = len({e["index"] for e in errors})
        errors.sort(key=lambda e: (e["index"], e["field"]))
        raise error(
            f"{bad:,} of the {len(rows):,} {noun} {'is' if bad == 1 else 'are'} invalid; nothing was written.",
            errors=errors,
        )
    return rows


def copy_rows(model, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write ``rows`` (values in ``columns``' order) into ``model``'s table with one COPY
    (a partitioned log routes each row to its month). Returns how many were written."""
    using = router.db_for_write(model)
    sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    written = 0
    with connections[using].cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written
