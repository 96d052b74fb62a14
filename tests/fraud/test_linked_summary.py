"""Fraud selectors read by kept statements. ``linked_summary``: which linked accounts are blocked now and their trust,
read by kept statements, are what the plain querysets say (blocks in force, lifted, expired
with and without auto-unblock, timed and open-ended; scores present and absent).
``open_alert_counts``: a customer's open alerts by severity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fraud.models import Block, TrustScore
from fraud.selectors import in_force_q, linked_summary, open_alert_counts
from tests.factories import (
    BlockFactory,
    CustomerFactory,
    FraudAlertFactory,
    LoginHistoryFactory,
    TrustScoreFactory,
)

pytestmark = pytest.mark.django_db


def test_linked_accounts_blocked_and_trusted_as_the_querysets_say():
    now = timezone.now()
    customer = CustomerFactory()
    LoginHistoryFactory(customer=customer, device_id="dev-shared")
    linked = [CustomerFactory() for _ in range(6)]
    for other in linked:
        LoginHistoryFactory(customer=other, device_id="dev-shared")
    day = dt.timedelta(days=1)
    BlockFactory(customer=linked[0])  # in force, open-ended
    BlockFactory(customer=linked[1], is_unblocked=True, unblocked_at=now, unblock_reason="Cleared")  # lifted
    started = {"blocked_at": now - 3 * day}
    BlockFactory(customer=linked[2], blocked_until=now - day, auto_unblock=True, **started)  # expired: over
    BlockFactory(customer=linked[3], blocked_until=now - day, auto_unblock=False, **started)  # due for review
    BlockFactory(customer=linked[4], blocked_until=now + day, auto_unblock=True, **started)  # timed, running
    BlockFactory(customer=customer)  # the customer's own: not a linked account's
    for other, score in zip(linked[:3], (31, 62, 90), strict=True):
        TrustScoreFactory(customer=other, trust_score=score)

    summary = linked_summary(customer)

    ids = [a.customer_id for a in summary.accounts]
    assert sorted(ids) == sorted(o.pk for o in linked)
    in_force = set(Block.objects.filter(in_force_q(), customer_id__in=ids).values_list("customer_id", flat=True))
    assert summary.blocked_ids == in_force == {linked[0].pk, linked[3].pk, linked[4].pk}
    scores = TrustScore.objects.filter(customer_id__in=ids).values_list("customer_id", "trust_score")
    assert (
        summary.trust_by_id
        == {cid: float(s) for cid, s in scores}
        == {linked[0].pk: 31.0, linked[1].pk: 62.0, linked[2].pk: 90.0}
    )
    group = next(g for g in summary.groups if (g.kind, g.value) == ("device_id", "dev-shared"))
    assert (group.blocked, group.average_trust) == (3, round((31 + 62 + 90) / 3, 1))


def test_open_alert_counts_are_the_customers_open_alerts_by_severity():
    customer, other = CustomerFactory(), CustomerFactory()
    for severity, resolved in [("HIGH", False), ("HIGH", False), ("LOW", False), ("CRITICAL", True)]:
        FraudAlertFactory(customer=customer, alert_severity=severity, is_resolved=resolved)
    FraudAlertFactory(customer=other, alert_severity="LOW")
    assert open_alert_counts(customer) == {"HIGH": 2, "LOW": 1}
    assert open_alert_counts(other.pk) == {"LOW": 1}
    assert open_alert_counts(CustomerFactory()) == {}
