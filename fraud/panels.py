"""The fraud app's panels on the customer 360 page (also shown on alerts and trust scores).

Each runs a bounded number of queries whatever the customer's history.
"""

from __future__ import annotations

from customer_ops.registry import register_panel
from fraud import selectors
from fraud.models import Block, TrustScore

PANEL_KEYS = ["fraud_trust", "fraud_blocks", "fraud_linked", "fraud_evidence"]


def _trust(customer, request) -> dict:
    score = TrustScore.objects.filter(customer=customer).first()
    alerts = selectors.open_alert_counts(customer) if request.user.has_perm("fraud.view_fraudalert") else None
    return {
        "score": score,
        "open_alerts": alerts,
        "open_alert_total": sum(alerts.values()) if alerts else 0,
        "can_recalculate": request.user.has_perm("fraud.recalculate_trustscore"),
    }


def _blocks(customer, request) -> dict:
    blocks = list(selectors.active_blocks(customer)[:20])
    return {
        "blocks": blocks,
        "any_lifted_or_past": Block.objects.filter(customer=customer).exclude(pk__in=[b.pk for b in blocks]).exists(),
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
