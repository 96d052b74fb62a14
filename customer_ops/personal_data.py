"""Personal data: declared once, next to the model (ARCHITECTURE.md).

Each model with a customer declares which of its columns hold personal data, under which
erasure scope, and what erasure does with its rows. GDPR erasure, the right-of-access
export and the analysts' masking all read these declarations through
:func:`declarations`, so ``compliance`` never imports the other apps and a new table
cannot be forgotten (a test fails when a model with a customer declares nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models


class Scope(models.TextChoices):
    """The named erasure scopes of ``customer_data_deletion_requests.deletion_scope``."""

    ALL = "ALL", "Everything"
    PROFILE = "PROFILE", "Profile (name, email, phone)"
    SUPPORT_CONTENT = "SUPPORT_CONTENT", "Support content (tickets, messages, disputes)"
    ACTIVITY_LOCATION = "ACTIVITY_LOCATION", "Activity and location"
    DEVICES_NETWORK = "DEVICES_NETWORK", "Devices and network (device ids, IP addresses, user agents)"
    MARKETING = "MARKETING", "Marketing and consent"


@dataclass(frozen=True)
class PersonalData:
    """What of a model is personal data.

    ``fields``: personal columns and their scope; erasure redacts them.
    ``customer_path``: the lookup from this model to its customer.
    ``keep_rows``: why rows are kept rather than deleted (financial record, audit trail);
    ``None`` means rows are kept only because the table is a log or an aggregate whose
    personal columns are redacted.
    """

    fields: dict[str, Scope] = field(default_factory=dict)
    customer_path: str = "customer"
    keep_rows: str | None = None


def declarations() -> dict[type[models.Model], PersonalData]:
    """Every concrete model's declaration (proxies share their table's)."""
    return {
        m: m.personal_data
        for m in apps.get_models()
        if not m._meta.proxy and isinstance(getattr(m, "personal_data", None), PersonalData)
    }
