"""The fraud app's panels on the customer 360 page (also shown on alerts and trust scores).

Each runs a bounded number of queries whatever the customer's history; the score and the
blocks in force are statements compiled once per process (customer_ops.statements), as
three pages show these panels.
"""

from __future__ import annotations

from django.utils import timezone

from customer_ops.registry import register_panel
from customer_ops.statements import STAND_IN, TIME_STAND_IN, kept_rows, kept_value
from fraud import selectors
from fraud.models import Block, TrustScore


@kept_rows(TrustScore, "pk")
def _score():
    return TrustScore.objects.filter(customer_id=STAND_IN).order_by("pk")[:1]


@kept_rows(Block, "pk", "at")
def _blocks_in_force():
    return selectors.active_blocks(STAND_IN, at=TIME_STAND_IN)[:20]


@kept_value(Block, "pk")
def _any_block():
    return Block.objects.filter(customer_id=STAND_IN).values("pk")[:1]


PANEL_KEYS = ["fraud_trust", "fraud_blocks", "fraud_linked", "fraud_evidence"]


def _trust(customer, request) -> dict:
    score = next(iter(_score(pk=customer.pk)), None)
    alerts = selectors.open_alert_counts(customer) if request.user.has_perm("fraud.view_fraudalert") else None
    return {
        "score": score,
        "open_alerts": alerts,
        "open_alert_total": sum(alerts.values()) if alerts else 0,
        "can_recalculate": request.user.has_perm("fraud.recalculate_trustscore"),
    }


def _blocks(customer, request) -> dict:
    blocks = _blocks_in_force(pk=customer.pk, at=timezone.now())
    return {
        "blocks": blocks,
        # The link to the customer's blocks, lifted and past ones included: read only when none is in force.
        "any_blocks": bool(blocks) or _any_block(pk=customer.pk) is not None,
        "can_block": request.user.has_perm("fraud.add_block"),
    }


def _linked(customer, request) -> dict:
    return {"linked": selectors.linked_summary(customer)}


def _evidence(customer, request) -> dict:
    perms = request.user.has_perm
    return {
        "can_logins": perms("analytics.view_loginhistory"),
        "can_activity": perms("analytics.view_activitylog"),
        "can_verifications": perms("fraud.view_verificationhistory"),
        "can_alerts": perms("fraud.view_fraudalert"),
        "can_suspicious": perms("fraud.view_suspiciousactivity"),
    }


register_panel(
    key="fraud_trust",
    title="Trust and risk",
    template="fraud/panels/trust.html",
    context=_trust,
    order=40,
    permission="fraud.view_trustscore",
)
register_panel(
    key="fraud_blocks",
    title="Active blocks",
    template="fraud/panels/blocks.html",
    context=_blocks,
    order=41,
    permission="fraud.view_block",
)
register_panel(
    key="fraud_linked",
    title="Linked accounts",
    template="fraud/panels/linked.html",
    context=_linked,
    order=42,
    # Linked accounts are read from the login history: the roles that may see it.
    permission="analytics.view_loginhistory",
)
register_panel(
    key="fraud_evidence",
    title="Fraud evidence",
    template="fraud/panels/evidence.html",
    context=_evidence,
    order=43,
    permission="fraud.view_verificationhistory",
)
