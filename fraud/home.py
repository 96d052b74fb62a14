"""The fraud analysts' section of the home page (customer_ops.home): their three queues.

Each tile counts with the filter of the list it links to (the alert triage queue, the
suspicious-activity review queue, the blocks' status filter).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.utils import timezone

from customer_ops.home import count_tile
from customer_ops.keyed_urls import reverse_keys
from customer_ops.registry import Tile, register_home
from customer_ops.roles import Role, with_included
from fraud import conf, precision
from fraud.choices import AlertSeverity
from fraud.models import Block, FraudAlert, SuspiciousActivity
from fraud.selectors import blocks_ending_q

SEVERITY_STATE = {"CRITICAL": "breached", "HIGH": "due_soon"}


def _list(model: str, **params) -> str:
    return reverse_keys(f"admin:fraud_{model}_changelist") + "?" + urlencode(params)


def fraud_tiles(request) -> list[Tile]:
    now = timezone.now()
    tiles = []
    # Open alerts, most severe first; each count and age from fraud_alerts_unresolved_idx.
    for severity in reversed(AlertSeverity.values):
        qs = FraudAlert.objects.filter(is_resolved=False, alert_severity=severity)
        tiles.append(
            count_tile(
                f"Open alerts: {AlertSeverity(severity).label.lower()}",
                _list("fraudalert", status="open", alert_severity__exact=severity),
                qs,
                age_of=qs,
                state=SEVERITY_STATE.get(severity, ""),
            )
        )
    review = SuspiciousActivity.objects.filter(requires_review=True, reviewed=False)
    tiles.append(
        count_tile(
            "Suspicious activity to review", _list("suspiciousactivity", queue="awaiting"), review, age_of=review
        )
    )
    tiles.append(
        count_tile(
            "Blocks ending within 24 hours",
            _list("block", status="ending"),
            Block.objects.filter(blocks_ending_q(now)),
        )
    )
    tiles.append(precision_tile(now))
    return tiles


def precision_tile(now) -> Tile:
    """Precision of the alerts decided over the last :data:`fraud.conf.PRECISION_DAYS` days
    (the report's default period, which the tile opens)."""
    today = timezone.localdate(now)
    start = today - dt.timedelta(days=conf.PRECISION_DAYS - 1)
    rows = precision.by_alert_type(
        dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC),
        dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC),
    )
    overall = precision.total(rows)
    value = "–" if overall.precision is None else f"{overall.precision}%"
    return Tile(
        label=f"Alert precision, last {conf.PRECISION_DAYS} days",
        url=reverse_keys("admin:fraud_fraudalert_precision"),
        value=value,
        detail=f"{overall.confirmed} confirmed of {overall.decided} decided",
    )


register_home(
    key="fraud_queues",
    title="Fraud queues",
    roles=with_included(Role.FRAUD),
    tiles=fraud_tiles,
    order=30,
    permission="fraud.view_fraudalert",
)
