"""Personal data: declared once, next to the model (ARCHITECTURE.md).

Each model with a customer declares which of its columns hold personal data, under which
erasure scope, and what erasure does with its rows. GDPR erasure, the right-of-access
export and the analysts' masking all read these declarations through
:func:`declarations`, so ``compliance`` never imports the other apps and a new table
cannot be forgotten (a test fails when a model with a customer declares nothing).

Two more small registries live here because the same three readers need them:

* :func:`restrict_fields` -- columns that only holders of a permission may see (a
  dispute's legal fields): the admin, the data export and the history leave them out
  for everyone else.
* :data:`personal_data_revealed` -- sent when a masked value is revealed to a staff
  member (compliance records it in its access log).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.dispatch import Signal


class Scope(models.TextChoices):
    """The named erasure scopes of ``customer_data_deletion_requests.deletion_scope``."""

    ALL = "ALL", "Everything"
    PROFILE = "PROFILE", "Profile (name, email, phone)"
    SUPPORT_CONTENT = "SUPPORT_CONTENT", "Support content (tickets, messages, disputes)"
    ACTIVITY_LOCATION = "ACTIVITY_LOCATION", "Activity and location"
    DEVICES_NETWORK = "DEVICES_NETWORK", "Devices and network (device ids, IP addresses, user agents)"
    MARKETING = "MARKETING", "Marketing and consent"


def expand_scopes(scopes: Iterable[str]) -> frozenset[Scope]:
    """The concrete scopes a ``deletion_scope`` list names (``ALL`` means every scope)."""
    chosen = {Scope(s) for s in scopes}
    if Scope.ALL in chosen:
        return frozenset(s for s in Scope if s != Scope.ALL)
    return frozenset(chosen)


@dataclass(frozen=True)
class Export:
    """What the right-of-access export (GDPR art. 15) gives the customer of one table.

    ``columns`` is an allow-list: a column not named here never leaves, so a column added
    later is withheld until someone decides. ``withheld`` says why the other columns (or
    the whole table, when ``columns`` is empty) are not given, under art. 15(4) (the rights
    of others: staff ids and names, other customers) or the restriction for the prevention
    and detection of fraud (art. 23(1)(d); UK DPA 2018 sch. 2 para. 2), or legal privilege.
    Columns with an ``only_where`` condition are given only in the rows where it holds.
    ``columns`` may be written as one space-separated string.
    """

    columns: tuple[str, ...]
    withheld: str = ""

    def __post_init__(self):
        if isinstance(self.columns, str):
            object.__setattr__(self, "columns", tuple(self.columns.split()))


@dataclass(frozen=True)
class PersonalData:
    """What of a model is personal data.

    ``fields``: personal columns and their scope; erasure redacts them.
    ``customer_path``: the lookup from this model to its customer.
    ``keep_rows``: why rows are kept rather than deleted (financial record, audit trail);
    ``None`` means rows are kept only because the table is a log or an aggregate whose
    personal columns are redacted.
    ``only_where``: per field, a condition limiting which rows hold that field as personal
    data of the customer (the audit log's actor columns are the customer's only when the
    customer acted).
    ``delete_rows_with``: erasing this scope deletes the customer's rows instead of
    redacting them (only for tables nothing else points at).
    ``export``: what the right-of-access export gives of this table (:class:`Export`);
    a declaration without one fails a test. History tables (django-simple-history) left
    at ``None`` follow their tracked model's.
    """

    fields: dict[str, Scope] = field(default_factory=dict)
    customer_path: str = "customer"
    keep_rows: str | None = None
    only_where: dict[str, models.Q] = field(default_factory=dict)
    delete_rows_with: Scope | None = None
    export: Export | None = None

    def fields_in(self, scopes: Iterable[str]) -> dict[str, Scope]:
        """The declared fields that erasing ``scopes`` touches."""
        chosen = expand_scopes(scopes)
        return {name: scope for name, scope in self.fields.items() if scope in chosen}

    def deletes_rows(self, scopes: Iterable[str]) -> bool:
        return self.delete_rows_with is not None and self.delete_rows_with in expand_scopes(scopes)


def declarations() -> dict[type[models.Model], PersonalData]:
    """Every concrete model's declaration (proxies share their table's)."""
    return {
        m: m.personal_data
        for m in apps.get_models()
        if not m._meta.proxy and isinstance(getattr(m, "personal_data", None), PersonalData)
    }


def declaration_for(model: type[models.Model]) -> PersonalData | None:
    data = getattr(model, "personal_data", None)
    return data if isinstance(data, PersonalData) else None


def personal_fields(model: type[models.Model]) -> list[str]:
    """The model's personal columns, in declaration order (what the analysts' masking hides)."""
    data = declaration_for(model)
    return list(data.fields) if data else []


# --- restricted columns ------------------------------------------------------------------

_restricted: dict[str, tuple[frozenset[str], str]] = {}


def restrict_fields(model_label: str, fields: Iterable[str], *, permission: str) -> None:
    """Only holders of ``permission`` may see ``fields`` of ``model_label`` ("app.Model")."""
    _restricted[model_label.lower()] = (frozenset(fields), permission)


def hidden_fields(model: type[models.Model], user) -> frozenset[str]:
    """The fields of ``model`` that ``user`` may not see (empty for most models)."""
    fields, permission = _restricted.get(model._meta.label_lower, (frozenset(), ""))
    if not fields or (user is not None and user.has_perm(permission)):
        return frozenset()
    return fields


# Sent when a masked personal value is shown to a staff member.
personal_data_revealed = Signal()  # kwargs: customer_id, model, field, request
