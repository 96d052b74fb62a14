"""The claimed review queues (issue 25, item 1) and decisions with outcomes (item 2)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from customer_ops.errors import Conflict, NotAllowed
from customer_ops.roles import Role
from fraud import precision, services
from fraud.models import ActivityClaim, AlertReview, FraudAlert, SuspiciousActivity
from tests.assertions import assert_page_shows, unchanged
from tests.factories import FraudAlertFactory, SuspiciousActivityFactory

pytestmark = pytest.mark.django_db
FRAUD_TABLES = tuple(apps.get_app_config("fraud").get_models())
DECISION = {"outcome": "CONFIRMED_FRAUD", "reason_code": "STOLEN_PAYMENT", "notes": "Card testing"}


@pytest.fixture
def ana(make_staff):
    return make_staff(Role.FRAUD, username="ana", first_name="Ana", last_name="Alpha")


@pytest.fixture
def ben(make_staff):
    return make_staff(Role.FRAUD, username="ben", first_name="Ben", last_name="Beta")


@pytest.fixture
def lead(make_staff):
    return make_staff(Role.FRAUD_LEAD, username="flead", first_name="Farah", last_name="Lead")


def test_take_next_claims_the_most_severe_then_oldest_for_an_hour(ana, ben):
    now = timezone.now()
    FraudAlertFactory(alert_severity="LOW", created_at=now - dt.timedelta(days=3))
    newer_critical = FraudAlertFactory(alert_severity="CRITICAL", created_at=now - dt.timedelta(hours=1))
    older_critical = FraudAlertFactory(alert_severity="CRITICAL", created_at=now - dt.timedelta(hours=2))
    first = services.alert_take_next(actor=ana)
    assert first == older_critical
    review = AlertReview.objects.get(pk=first.pk)
    assert review.claimed_by == ana
    assert dt.timedelta(minutes=59) < review.claimed_until - timezone.now() <= dt.timedelta(minutes=60)
    assert services.alert_take_next(actor=ben) == newer_critical  # the held one is skipped


def test_a_decision_by_who_does_not_hold_the_claim_is_refused_and_changes_nothing(ana, ben):
    alert = FraudAlertFactory()
    services.alert_claim(alert=alert, actor=ana)
    with unchanged(alert, *FRAUD_TABLES), pytest.raises(Conflict, match="held by Ana Alpha until"):
        services.alert_resolve(alert=alert, actor=ben, **DECISION)
    with unchanged(alert, *FRAUD_TABLES), pytest.raises(Conflict, match="held by Ana Alpha"):
        services.alert_claim(alert=alert, actor=ben)
    services.alert_resolve(alert=alert, actor=ana, **DECISION)
    review = AlertReview.objects.get(pk=alert.pk)
    assert (review.outcome, review.reason_code, review.decided_by, review.claimed_by) == (
        "CONFIRMED_FRAUD",
        "STOLEN_PAYMENT",
        ana,
        None,
    )
    alert.refresh_from_db()
    assert alert.is_resolved and alert.resolution_notes == "Card testing"


def test_the_action_taken_by_who_does_not_hold_the_claim_is_refused_and_changes_nothing(ana, ben):
    alert = FraudAlertFactory()
    services.alert_claim(alert=alert, actor=ana)
    before = (alert.action_taken, alert.action_taken_at, alert.action_taken_by_id)
    with unchanged(alert, *FRAUD_TABLES), pytest.raises(Conflict, match="held by Ana Alpha until"):
        services.alert_record_action(alert=alert, action="Called the customer", actor=ben)
    # blocking from the alert records the action taken: refused with it, no block written
    with unchanged(alert, *FRAUD_TABLES), pytest.raises(Conflict, match="held by Ana Alpha until"):
        services.block_customer(
            customer=alert.customer, block_type="ACCOUNT_BLOCK", reason="Ring", actor=ben, alert=alert
        )
    alert.refresh_from_db()
    assert (alert.action_taken, alert.action_taken_at, alert.action_taken_by_id) == before

    services.alert_record_action(alert=alert, action="Called the customer", actor=ana)  # the holder may
    alert.refresh_from_db()
    assert (alert.action_taken, alert.action_taken_by) == ("Called the customer", ana)
    AlertReview.objects.filter(pk=alert.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    services.alert_record_action(alert=alert, action="Emailed the customer", actor=ben)  # lapsed: anyone may
    alert.refresh_from_db()
    assert (alert.action_taken, alert.action_taken_by) == ("Emailed the customer", ben)


def test_a_lapsed_claim_can_be_taken(ana, ben):
    alert = FraudAlertFactory()
    services.alert_claim(alert=alert, actor=ana)
    AlertReview.objects.filter(pk=alert.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.alert_take_next(actor=ben) == alert
    assert AlertReview.objects.get(pk=alert.pk).claimed_by == ben


def test_the_lead_reassigns_and_an_analyst_may_not(ana, ben, lead):
    alert = FraudAlertFactory()
    activity = SuspiciousActivityFactory(requires_review=True, reviewed=False)
    services.alert_claim(alert=alert, actor=ana)
    services.activity_claim(activity=activity, actor=ana)
    with unchanged(*FRAUD_TABLES), pytest.raises(NotAllowed):
        services.alert_reassign(alert=alert, analyst=ben, actor=ben)
    services.alert_reassign(alert=alert, analyst=ben, actor=lead)
    services.activity_reassign(activity=activity, analyst=ben, actor=lead)
    assert AlertReview.objects.get(pk=alert.pk).claimed_by == ben
    assert ActivityClaim.objects.get(pk=activity.pk).claimed_by == ben
    with unchanged(*FRAUD_TABLES), pytest.raises(Conflict, match="held by Ben Beta"):
        services.suspicious_review(activity=activity, notes="fine", actor=ana)
    services.suspicious_review(activity=activity, notes="fine", actor=ben)
    assert ActivityClaim.objects.get(pk=activity.pk).claimed_by is None


def test_activity_take_next_skips_held_and_reviewed_rows(ana, ben):
    now = timezone.now()
    old = SuspiciousActivityFactory(requires_review=True, reviewed=False, created_at=now - dt.timedelta(hours=2))
    new = SuspiciousActivityFactory(requires_review=True, reviewed=False, created_at=now - dt.timedelta(hours=1))
    SuspiciousActivityFactory(requires_review=True, reviewed=True, created_at=now - dt.timedelta(hours=3))
    assert services.activity_take_next(actor=ana) == old
    assert services.activity_take_next(actor=ben) == new
    assert services.activity_take_next(actor=ben) is None


def test_bulk_decisions_need_their_own_permission(ana, lead):
    alerts = [FraudAlertFactory() for _ in range(3)]
    with unchanged(*alerts, *FRAUD_TABLES), pytest.raises(NotAllowed, match="decide several fraud alerts"):
        services.alerts_resolve(alerts=alerts, actor=ana, **DECISION)
    assert services.alerts_resolve(alerts=alerts, actor=lead, **DECISION) == (3, 0)
    assert AlertReview.objects.filter(outcome="CONFIRMED_FRAUD", decided_by=lead).count() == 3


def test_bulk_decision_refuses_the_batch_when_another_analyst_holds_one(ana, lead):
    alerts = [FraudAlertFactory() for _ in range(2)]
    services.alert_claim(alert=alerts[1], actor=ana)
    with unchanged(*alerts, *FRAUD_TABLES), pytest.raises(Conflict, match="held by Ana Alpha"):
        services.alerts_resolve(alerts=alerts, actor=lead, **DECISION)


def test_an_invalid_outcome_or_reason_is_refused(ana):
    alert = FraudAlertFactory()
    with unchanged(alert, *FRAUD_TABLES), pytest.raises(services.FraudInvalid, match="outcome"):
        services.alert_resolve(alert=alert, actor=ana, **{**DECISION, "outcome": "MAYBE"})
    with unchanged(alert, *FRAUD_TABLES), pytest.raises(services.FraudInvalid, match="reason code"):
        services.alert_resolve(alert=alert, actor=ana, **{**DECISION, "reason_code": "VIBES"})


def test_the_decision_is_whole_in_the_database_too(ana):
    from django.db import IntegrityError, connection, transaction

    alert = FraudAlertFactory()
    with pytest.raises(IntegrityError, match="fraud_alert_reviews_decision_whole"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO fraud_alert_reviews (alert_id, outcome) VALUES (%s, 'LEGITIMATE')", [alert.pk])


# --- precision ------------------------------------------------------------------------------


def _reference(decisions, key):
    """Plain Python: per key, confirmed ÷ (confirmed + false positive + legitimate)."""
    table = {}
    for d in decisions:
        row = table.setdefault(d[key], {"confirmed": 0, "decided": 0, "inconclusive": 0})
        if d["outcome"] == "INCONCLUSIVE":
            row["inconclusive"] += 1
            continue
        row["decided"] += 1
        row["confirmed"] += d["outcome"] == "CONFIRMED_FRAUD"
    for row in table.values():
        row["precision"] = (
            (Decimal(100 * row["confirmed"]) / row["decided"]).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if row["decided"]
            else None
        )
    return table


def test_precision_per_type_and_model_version_equals_a_plain_computation(ana):
    rng = random.Random(25)
    now = timezone.now()
    inside = []
    for i in range(60):
        version = rng.choice(["fraud-v1", "fraud-v2", None])
        alert = FraudAlertFactory(
            alert_type=rng.choice(["PAYMENT_FRAUD", "DEVICE_MISMATCH", "MULTIPLE_ACCOUNTS"]),
            evidence={"model_version": version} if version else {"score": 1},
        )
        outcome = rng.choice(["CONFIRMED_FRAUD", "FALSE_POSITIVE", "LEGITIMATE", "INCONCLUSIVE"])
        services.alert_resolve(alert=alert, actor=ana, outcome=outcome, reason_code="OTHER", notes=f"n{i}")
        if i % 5 == 0:  # outside the period
            AlertReview.objects.filter(pk=alert.pk).update(decided_at=now - dt.timedelta(days=40))
        else:
            inside.append({"type": alert.alert_type, "version": version or "", "outcome": outcome})
    start, end = now - dt.timedelta(days=30), now + dt.timedelta(minutes=1)

    expected = _reference(inside, "type")
    got = {r.key: {"confirmed": r.confirmed, "decided": r.decided, "inconclusive": r.inconclusive,
                   "precision": r.precision} for r in precision.by_alert_type(start, end)}  # fmt: skip
    assert got == expected
    expected = _reference(inside, "version")
    got = {r.key: {"confirmed": r.confirmed, "decided": r.decided, "inconclusive": r.inconclusive,
                   "precision": r.precision} for r in precision.by_model_version(start, end)}  # fmt: skip
    assert got == expected and {"fraud-v1", "fraud-v2", ""} == set(got)


def test_precision_is_read_through_its_index():
    from tests.assertions import explain

    now = timezone.now()
    plan = explain(precision.decisions(now - dt.timedelta(days=30), now), bitmap_only=True)
    assert not plan.whole and plan.uses("fraud_alert_reviews") == {"alert_reviews_decided_idx"}, plan.text


# --- the pages ---------------------------------------------------------------------------------


def test_opening_an_alert_claims_it_and_a_colleague_sees_who_holds_it(client, ana, ben):
    alert = FraudAlertFactory()
    client.force_login(ana)
    page = client.get(f"/admin/fraud/fraudalert/{alert.pk}/change/")
    assert_page_shows(page, present=["You hold this alert until"])
    client.force_login(ben)
    page = client.get(f"/admin/fraud/fraudalert/{alert.pk}/change/")
    assert_page_shows(page, present=["Held by Ana Alpha until"], absent=["You hold this alert"])
    url = f"/admin/fraud/fraudalert/{alert.pk}/resolve/"
    with unchanged(alert, *FRAUD_TABLES):
        response = client.post(url, {**DECISION, "outcome": "LEGITIMATE", "reason_code": "OTHER"}, follow=True)
    assert_page_shows(response, present=["held by Ana Alpha"])
    queue = client.get("/admin/fraud/fraudalert/")
    assert_page_shows(queue, present=["Ana Alpha until", "Take next alert"])


def test_take_next_button_and_the_queue_query_bound(client, ana, django_assert_max_num_queries):
    for _ in range(50):
        services.alert_claim(alert=FraudAlertFactory(), actor=ana)
    client.force_login(ana)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/fraud/fraudalert/").status_code == 200
    FraudAlertFactory(alert_severity="CRITICAL")
    response = client.post("/admin/fraud/fraudalert/take-next/")
    assert response.status_code == 302 and "/change/" in response["Location"]


def test_precision_report_page_and_tile(client, ana):
    alert = FraudAlertFactory(evidence={"model_version": "ring-2026.11"})
    services.alert_resolve(alert=alert, actor=ana, **DECISION)
    client.force_login(ana)
    page = client.get("/admin/fraud/fraudalert/precision/")
    assert_page_shows(page, present=["ring-2026.11", "100.0%", "Payment fraud"])
    bad = client.get("/admin/fraud/fraudalert/precision/?start=2026-02-01&end=2026-01-01")
    assert_page_shows(bad, present=["The period must end on or after its start."])
    home = client.get("/admin/")
    tile = next(t for s in home.context["home_sections"] for t in s["tiles"] if t.label.startswith("Alert precision"))
    assert (tile.value, tile.detail) == ("100.0%", "1 confirmed of 1 decided")


def test_suspicious_activity_page_claims_and_take_next(client, ana, ben):
    activity = SuspiciousActivityFactory(requires_review=True, reviewed=False)
    client.force_login(ana)
    assert_page_shows(client.get(f"/admin/fraud/suspiciousactivity/{activity.pk}/change/"), present=["You hold"])
    client.force_login(ben)
    response = client.post("/admin/fraud/suspiciousactivity/take-next/", follow=True)
    assert_page_shows(response, present=["No suspicious activity is waiting"])
    assert SuspiciousActivity.objects.filter(reviewed=False).count() == 1
    assert FraudAlert.objects.count() == 0
