"""Reads shared by the compliance pages, the customer panel and the export."""

from __future__ import annotations

from compliance.choices import ConsentType
from compliance.models import ConsentLog


def current_consents(customer_id: int) -> dict[str, ConsentLog | None]:
    """The state per consent type, derived from the log: the latest row wins.

    One query (``DISTINCT ON``), served by ``consent_log_current_idx``.
    """
    latest = (
        ConsentLog.objects.filter(customer_id=customer_id)
        .order_by("consent_type", "-created_at", "-id")
        .distinct("consent_type")
    )
    state: dict[str, ConsentLog | None] = dict.fromkeys(ConsentType.values)
    for row in latest:
        state[row.consent_type] = row
    return state
