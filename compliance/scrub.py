"""Scrubbing a customer's identifiers out of free text ("Free text is personal data too").

Staff notes, reasons, descriptions and JSON evidence name customers ("called from
+44 7700 900123", "same card as Jane Doe"). Erasure removes from such columns every
identifier the customer is known by, replacing it with the redaction marker:

* :func:`normalise` turns the values read from the declared identifier columns into
  what is searched: a full name and each part of it of three letters or more, an email
  and its local part, a phone number as its digits (any separators between them, with or
  without the country code, from ``phonenumbers``), IP addresses, device ids, user agents
  and addresses as they are (whitespace-insensitive);
* :func:`patterns` compiles them to PostgreSQL regular expressions (whole words only, so
  "Ann" never eats "Announcement"), applied case-insensitively;
* :func:`expression` is the set-based SQL that rewrites a column: ``erasure_scrub``, one
  function per type (text, text[], jsonb: string values and keys, recursively), created
  by migration ``compliance.0007_erasure_scrub``. The erasure applies it in its chunked UPDATEs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Cast

from compliance import conf
from customer_ops.personal_data import Identifier

MIN_LENGTH = 3  # shorter values ("Li", "7") would scrub half of any text
SEPARATOR = r"[[:space:]()./-]{0,3}"  # what people put between the digits of a phone number
ALTERNATIVES_PER_PATTERN = 100  # keeps each regular expression well under PostgreSQL's limits

TEXT_FIELDS = (models.TextField, models.CharField, models.JSONField)


def is_text(field: models.Field) -> bool:
    """Whether erasure can scrub the column (text, varchar, JSON, array of text)."""
    if isinstance(field, ArrayField):
        return isinstance(field.base_field, models.TextField | models.CharField)
    return isinstance(field, TEXT_FIELDS)


def _usable(value: str) -> bool:
    return (
        len(value) >= MIN_LENGTH
        and value != conf.ERASURE_REDACTED_TEXT
        and not value.endswith("@erased.invalid")  # an anonymised customer's placeholder
    )


def normalise(kind: str, values: Iterable[str]) -> set[str]:
    """What to search for, from raw column values of one identifier kind."""
    found: set[str] = set()
    for raw in values:
        value = " ".join(str(raw or "").split())
        if not _usable(value):
            continue
        found.add(value)
        if kind == Identifier.NAME:
            found |= {part for part in re.split(r"[\s,.'-]+", value) if sum(c.isalpha() for c in part) >= 3}
        elif kind == Identifier.EMAIL and "@" in value:
            local = value.split("@", 1)[0]
            if len(local) >= MIN_LENGTH:
                found.add(local)
        elif kind == Identifier.ADDRESS:
            found |= {line.strip() for line in str(raw).splitlines() if len(line.strip()) >= 6}
    return {v for v in found if _usable(v)}


def _literal(value: str) -> str:
    """``value`` as a PostgreSQL (ARE) regular expression: every character literal, any
    whitespace for a space, and word boundaries where the value starts or ends a word."""
    body = "".join("[[:space:]]+" if c == " " else c if c.isalnum() else "\\" + c for c in " ".join(value.split()))
    start = r"\m" if value[0].isalnum() or value[0] == "_" else ""
    end = r"\M" if value[-1].isalnum() or value[-1] == "_" else ""
    return f"{start}{body}{end}"


def _digits(digits: str) -> str:
    return SEPARATOR.join(digits)


def _phone(value: str) -> list[str]:
    """The number with any separators, with or without its country code (``+``/``00``,
    an optional ``(0)``), and in its national form (``0`` + national number)."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return [_literal(value)] if _usable(value) else []
    found = [rf"(?<![0-9]){_digits(digits)}(?![0-9])"]
    international = value.strip()
    if international.startswith("00"):
        international = "+" + international[2:]
    try:
        number = phonenumbers.parse(international, None)
    except phonenumbers.NumberParseException:
        return found
    code, national = str(number.country_code), str(number.national_number)
    found.append(
        rf"(?<![0-9])(?:(?:\+|00){SEPARATOR})?{_digits(code)}{SEPARATOR}(?:\(0\){SEPARATOR})?"
        rf"{_digits(national)}(?![0-9])"
    )
    found.append(rf"(?<![0-9])(?:\(?0\)?{SEPARATOR})?{_digits(national)}(?![0-9])")
    return found


def patterns(identifiers: dict[str, list[str]]) -> list[str]:
    """Regular expressions matching any of ``identifiers`` (kind -> values), longest first."""
    alternatives: list[str] = []
    for kind, values in identifiers.items():
        for value in sorted(values, key=lambda v: (-len(v), v)):
            alternatives += _phone(value) if kind == Identifier.PHONE else [_literal(value)]
    alternatives = list(dict.fromkeys(alternatives))
    return [
        "|".join(alternatives[i : i + ALTERNATIVES_PER_PATTERN])
        for i in range(0, len(alternatives), ALTERNATIVES_PER_PATTERN)
    ]


def expression(field: models.Field, pattern_list: list[str], source=None):
    """SQL rewriting ``field`` (or ``source``) with every pattern; varchar keeps its length."""
    expr = source if source is not None else models.F(field.name)
    for pattern in pattern_list:
        expr = models.Func(
            expr,
            models.Value(pattern, output_field=models.TextField()),
            models.Value(conf.ERASURE_REDACTED_TEXT, output_field=models.TextField()),
            function="erasure_scrub",
            output_field=field,
        )
    if isinstance(field, models.CharField) and field.max_length:
        expr = Cast(expr, models.CharField(max_length=field.max_length))
    return expr


def summary(identifiers: dict[str, list[str]]) -> dict:
    """What the certificate keeps of the identifiers: counts per kind and a keyed digest
    (HMAC-SHA256 with the secret key, so nobody can confirm a guess at a phone number)."""
    canonical = "\n".join(f"{kind}:{value}" for kind in sorted(identifiers) for value in sorted(identifiers[kind]))
    return {
        "counts": {kind: len(values) for kind, values in sorted(identifiers.items())},
        "hmac_sha256": hmac.new(settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest(),
    }
