"""The fraud console's pages: they load, stay within bounded queries, refuse the roles that may
not use them (403), and their forms call the services (bad input: an error, nothing written)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import ActivityLog, LoginHistory
from customer_ops.models import Customer
from customer_ops.roles import Role
from fraud import conf
from fraud.jobs import next_requested_run, recalculate_trust_scores, run_requested_recalculation
from fraud.models import (
    AlertReview,
    Block,
    FraudAlert,
    SuspiciousActivity,
    TrustRecalculation,
    TrustScore,
    VerificationHistory,
)
from tests.assertions import assert_page_shows, unchanged
from tests.factories import (
    BlockFactory,
    CustomerFactory,
    FraudAlertFactory,
    LoginHistoryFactory,
    SuspiciousActivityFactory,
    TrustScoreFactory,
)

pytestmark = pytest.mark.django_db


# What a refused form could have written: each refusal re-reads it (tests/README.md).
FRAUD_TABLES = tuple(apps.get_app_config("fraud").get_models())  # with their history tables


@pytest.fixture
def analyst(make_staff):
    return make_staff(Role.FRAUD)


@pytest.fixture
def fraud_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def many_rows():
    """120 rows in every table the console lists, spread over 120 customers."""
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(full_name=f"C {i}", email=f"c{i}@example.test") for i in range(120)
    )
    TrustScore.objects.bulk_create(TrustScore(customer=c, trust_score=50 + i % 50) for i, c in enumerate(customers))
    FraudAlert.objects.bulk_create(
        FraudAlert(customer=c, alert_type="PAYMENT_FRAUD", alert_severity=["LOW", "HIGH"][i % 2], evidence={"n": i})
        for i, c in enumerate(customers)
    )
    Block.objects.bulk_create(
        Block(customer=c, block_type="SERVICE_BLOCK", service_type="FOOD", block_reason="r", blocked_at=now)
        for c in customers
    )
    SuspiciousActivity.objects.bulk_create(
        SuspiciousActivity(customer=c, activity_type="LOCATION_JUMP", detected_by="ML_MODEL") for c in customers
    )
    VerificationHistory.objects.bulk_create(
        VerificationHistory(
            customer=c, verification_type="MOBILE", verification_method="OTP", verification_status="FAILED"
        )
        for c in customers
    )
    LoginHistory.objects.bulk_create(
        LoginHistory(customer=c, login_method="OTP", login_success=False, device_id="d", ip_address="10.0.0.1")
        for c in customers
    )
    ActivityLog.objects.bulk_create(ActivityLog(customer=c, activity_type="PAYMENT_FAILED") for c in customers)
    return customers


LIST_PAGES = [
    "/admin/fraud/fraudalert/",
    "/admin/fraud/fraudalert/?status=all",
    "/admin/fraud/block/",
    "/admin/fraud/block/?status=in_force",
    "/admin/fraud/suspiciousactivity/",
    "/admin/fraud/trustscore/",
    "/admin/fraud/trustscore/?risk_level__exact=LOW",
    "/admin/fraud/verificationhistory/",
    "/admin/fraud/verificationhistory/?verification_status__exact=FAILED",
    "/admin/analytics/loginhistory/",
    "/admin/analytics/loginhistory/?login_success__exact=0&device_id=d",
    "/admin/analytics/activitylog/",
    "/admin/analytics/activitylog/?activity_type=PAYMENT_FAILED",
]
LOG_TABLES = ["customer_verification_history", "customer_login_history", "customer_activity_log"]


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_show_a_full_page_in_bounded_queries_and_never_count_a_log(
    fraud_client, many_rows, url, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(15):
        response = fraud_client.get(url)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert len(changelist.result_list) == changelist.list_per_page
    for query in queries.captured_queries:
        sql = query["sql"]
        for table in LOG_TABLES:
            # A count is allowed only over a LIMITed subquery (bounded cost), never over the log.
            assert not re.search(rf'COUNT\(\*\).*FROM "{table}"', sql) or "LIMIT" in sql, sql


def test_alert_queue_is_open_alerts_by_severity_then_age(fraud_client):
    now = timezone.now()

    def alert(severity, days_ago, **kwargs):
        return FraudAlertFactory(alert_severity=severity, created_at=now - dt.timedelta(days=days_ago), **kwargs)

    old_low, new_critical = alert("LOW", 9), alert("CRITICAL", 0)
    new_high, old_high = alert("HIGH", 1), alert("HIGH", 5)
    alert("CRITICAL", 20, is_resolved=True)
    shown = list(fraud_client.get("/admin/fraud/fraudalert/").context["cl"].result_list)
    assert shown == [new_critical, old_high, new_high, old_low]


def test_every_page_of_an_alert_loads_with_evidence_panels_and_links(fraud_client):
    alert = FraudAlertFactory(evidence={"shared_device_id": "dev-9", "linked_customer_ids": [1, 2]})
    page = fraud_client.get(f"/admin/fraud/fraudalert/{alert.pk}/change/").content.decode()
    assert "shared device id" in page and "dev-9" in page and "evidence-json" in page
    assert f"/admin/fraud/block/add/?customer={alert.customer_id}&amp;alert={alert.pk}" in page
    assert f"/admin/analytics/loginhistory/?customer__id__exact={alert.customer_id}" in page  # evidence link
    assert 'id="panel-fraud_linked"' in page and 'id="panel-fraud_blocks"' in page
    for suffix in ("record-action/", "resolve/", "history/"):
        assert fraud_client.get(f"/admin/fraud/fraudalert/{alert.pk}/{suffix}").status_code == 200


def test_resolve_page_calls_the_service_and_bad_input_writes_nothing(fraud_client, analyst):
    alert = FraudAlertFactory()
    url = f"/admin/fraud/fraudalert/{alert.pk}/resolve/"
    with unchanged(*FRAUD_TABLES):
        response = fraud_client.post(url, {"notes": "  "})
    assert response.status_code == 200 and response.context["form"].errors
    alert.refresh_from_db()
    assert not alert.is_resolved
    decision = {"outcome": "LEGITIMATE", "reason_code": "CUSTOMER_CONFIRMED"}
    with unchanged(*FRAUD_TABLES):  # no outcome: a form error
        response = fraud_client.post(url, {"notes": "Verified with the bank"})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"outcome", "reason_code"}
    response = fraud_client.post(url, {"notes": "Verified with the bank", "action_taken": "Called", **decision})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.is_resolved, alert.action_taken, alert.action_taken_by) == (True, "Called", analyst)
    assert (alert.review.outcome, alert.review.reason_code, alert.review.decided_by) == (*decision.values(), analyst)
    response = fraud_client.post(url, {"notes": "again", **decision}, follow=True)  # already resolved: a message
    assert "already resolved" in response.content.decode()


def test_bulk_decision_needs_its_permission_and_records_one_outcome_per_alert(client, fraud_client, make_staff):
    alerts = [FraudAlertFactory() for _ in range(3)]
    data = {"action": "resolve_selected", "_selected_action": [a.pk for a in alerts]}
    decision = {"apply": "1", "notes": "Test accounts", "outcome": "FALSE_POSITIVE", "reason_code": "DATA_ERROR"}
    with unchanged(*FRAUD_TABLES):  # an analyst without the bulk right: the action is not offered
        response = fraud_client.post("/admin/fraud/fraudalert/", {**data, **decision}, follow=True)
    assert response.status_code == 200 and "resolve_selected" not in response.content.decode()
    assert not FraudAlert.objects.filter(is_resolved=True).exists()
    client.force_login(make_staff(Role.FRAUD_LEAD))
    assert client.post("/admin/fraud/fraudalert/", data).status_code == 200  # the decision form
    response = client.post("/admin/fraud/fraudalert/", {**data, **decision})
    assert response.status_code == 302
    assert set(FraudAlert.objects.values_list("is_resolved", "resolution_notes")) == {(True, "Test accounts")}
    assert list(AlertReview.objects.values_list("outcome", flat=True)) == ["FALSE_POSITIVE"] * 3


def test_block_from_an_alert_prefills_the_form_and_records_the_action(fraud_client):
    alert = FraudAlertFactory()
    page = fraud_client.get(f"/admin/fraud/block/add/?customer={alert.customer_id}&alert={alert.pk}&block_reason=Ring")
    assert page.context["form"].initial["customer"] == str(alert.customer_id)
    response = fraud_client.post(
        "/admin/fraud/block/add/",
        {
            "customer": alert.customer_id,
            "alert": alert.pk,
            "block_type": "SERVICE_BLOCK",
            "service_type": "RIDE",
            "block_reason": "Ring",
            "auto_unblock": "on",
        },
    )
    block = Block.objects.get()
    assert response.status_code == 302 and (block.service_type, block.blocked_until) == ("RIDE", None)
    alert.refresh_from_db()
    assert alert.action_taken.startswith("Blocked: SERVICE_BLOCK RIDE (permanent)")


def test_block_form_refuses_bad_input_and_writes_nothing(fraud_client):
    customer = CustomerFactory()
    past = timezone.now() - dt.timedelta(days=1)
    for data in (
        {"block_type": "ACCOUNT_BLOCK", "service_type": "FOOD", "block_reason": "x"},
        {
            "block_type": "SERVICE_BLOCK",
            "block_reason": "x",
            "blocked_until_0": past.date(),
            "blocked_until_1": "10:00",
        },
        {"block_type": "SERVICE_BLOCK", "block_reason": ""},
        {"block_type": "SERVICE_BLOCK", "block_reason": "x", "customer": "999999"},
    ):
        with unchanged(*FRAUD_TABLES):
            response = fraud_client.post("/admin/fraud/block/add/", {"customer": customer.pk, **data})
        assert response.status_code == 200 and response.context["form"].errors, data
    assert not Block.objects.exists()


def test_lift_page_and_bulk_lift(fraud_client):
    block, other = BlockFactory(), BlockFactory()
    assert fraud_client.post(f"/admin/fraud/block/{block.pk}/lift/", {"reason": ""}).status_code == 200
    assert fraud_client.post(f"/admin/fraud/block/{block.pk}/lift/", {"reason": "Appeal"}).status_code == 302
    block.refresh_from_db()
    assert block.is_unblocked and block.unblock_reason == "Appeal"
    data = {"action": "lift_selected", "_selected_action": [other.pk], "apply": "1", "reason": "Batch"}
    assert fraud_client.post("/admin/fraud/block/", data).status_code == 302
    other.refresh_from_db()
    assert other.is_unblocked


def test_suspicious_queue_review_and_one_click_alert(fraud_client):
    waiting, reviewed = SuspiciousActivityFactory(risk_score=70), SuspiciousActivityFactory(reviewed=True)
    shown = list(fraud_client.get("/admin/fraud/suspiciousactivity/").context["cl"].result_list)
    assert shown == [waiting]
    raise_url = f"/admin/fraud/suspiciousactivity/{waiting.pk}/raise-alert/"
    assert raise_url in fraud_client.get("/admin/fraud/suspiciousactivity/").content.decode()
    form = fraud_client.get(raise_url).context["form"]
    assert (form.initial["alert_type"], form.initial["alert_severity"]) == ("LOCATION_MISMATCH", "HIGH")
    response = fraud_client.post(raise_url, {"alert_type": "LOCATION_MISMATCH", "alert_severity": "HIGH"})
    alert = FraudAlert.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/fraud/fraudalert/{alert.pk}/change/"
    review = f"/admin/fraud/suspiciousactivity/{reviewed.pk}/review/"
    assert "already reviewed" in fraud_client.post(review, {"notes": "x"}, follow=True).content.decode()


def test_trust_page_explains_the_score_and_shows_its_movement(fraud_client):
    customer = CustomerFactory()
    FraudAlertFactory(customer=customer, alert_severity="HIGH")
    fraud_client.post(f"/admin/fraud/trustscore/customer/{customer.pk}/recalculate/", {"next": "trust"})
    FraudAlertFactory(customer=customer, alert_severity="CRITICAL")
    response = fraud_client.post(f"/admin/fraud/trustscore/customer/{customer.pk}/recalculate/", {"next": "trust"})
    score = TrustScore.objects.get(customer=customer)
    assert response.status_code == 302 and response.url == f"/admin/fraud/trustscore/{score.pk}/change/"
    page = fraud_client.get(response.url).content.decode()
    assert "Payment reliability" in page and "0 of 5 verification types with a SUCCESS" in page
    assert "2 open fraud alert(s), by severity" in page
    assert "Alerts, suspicious activity, linked accounts" in page  # what moved it between the two runs


def test_trust_page_reads_its_score_once(fraud_client):
    """The explanation is built from the object the admin read for the page, not a second read."""
    score = TrustScoreFactory()
    table = TrustScore._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        page = fraud_client.get(f"/admin/fraud/trustscore/{score.pk}/change/").content.decode()
    assert "Payment reliability" in page
    by_key = f'WHERE "{table}"."id" = '  # get_object's read, its customer joined (the panels read by customer)
    reads = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and f'FROM "{table}" ' in q["sql"] and by_key in q["sql"]
    ]
    assert len(reads) == 1, reads


def test_recalculate_all_is_queued_for_the_job_which_reports_progress(fraud_client, analyst):
    customers = [CustomerFactory() for _ in range(3)]
    url = "/admin/fraud/trustscore/recalculate-all/"
    assert fraud_client.get(url).status_code == 405
    assert fraud_client.post(url).status_code == 302
    assert fraud_client.post(url).status_code == 302  # asked twice: one request
    # Nothing ran inside the request: no score yet, one request waiting, the page says when.
    assert TrustScore.objects.count() == 0
    queued = TrustRecalculation.objects.get()
    assert (queued.requested_by, queued.started_at, queued.finished_at) == (analyst, None, None)
    page = fraud_client.get("/admin/fraud/trustscore/")
    assert page.status_code == 200
    assert f"the job starts it at {timezone.localtime(next_requested_run()):%H:%M}" in page.content.decode()

    TrustRecalculation.objects.filter(pk=queued.pk).update(
        started_at=timezone.now(), customers_done=2, customers_total=3
    )
    assert "2 of 3 customers done" in fraud_client.get("/admin/fraud/trustscore/").content.decode()
    TrustRecalculation.objects.filter(pk=queued.pk).update(started_at=None, customers_done=0, customers_total=None)

    out = io.StringIO()
    call_command("recalculate_trust_scores", "--requested", stdout=out)
    assert "3 trust scores recalculated" in out.getvalue()
    queued.refresh_from_db()
    assert queued.finished_at is not None and queued.customers_done == queued.customers_total == 3
    assert set(TrustScore.objects.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    assert "finished" in fraud_client.get("/admin/fraud/trustscore/").content.decode()

    out = io.StringIO()  # nothing requested: the frequent cron entry does nothing
    TrustScore.objects.update(trust_score=1)
    call_command("recalculate_trust_scores", "--requested", stdout=out)
    assert "No full recalculation requested" in out.getvalue()
    assert set(TrustScore.objects.values_list("trust_score", flat=True)) == {1}


def test_a_killed_run_is_claimed_again_and_two_jobs_never_share_a_request():
    CustomerFactory()
    stale = TrustRecalculation.objects.create(started_at=timezone.now() - dt.timedelta(hours=3))
    fresh = TrustRecalculation.objects.create(started_at=timezone.now())  # another job is running it
    run_requested_recalculation(only_if_requested=True)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.finished_at is not None and fresh.finished_at is None


def test_recalculate_selected_runs_in_the_request_only_up_to_a_bound(fraud_client, monkeypatch):
    customers = [CustomerFactory() for _ in range(3)]
    recalculate_trust_scores()
    TrustScore.objects.update(trust_score=1)
    data = {"action": "recalculate_selected", "_selected_action": [TrustScore.objects.get(customer=customers[0]).pk]}
    fraud_client.post("/admin/fraud/trustscore/", data)
    assert sorted(TrustScore.objects.values_list("trust_score", flat=True)) == [1, 1, 80]
    monkeypatch.setattr(conf, "RECALCULATE_IN_REQUEST_MAX", 2)
    TrustScore.objects.update(trust_score=1)
    everyone = {"action": "recalculate_selected", "select_across": "1", "_selected_action": [customers[0].pk]}
    response = fraud_client.post("/admin/fraud/trustscore/", everyone, follow=True)
    assert "More than 2 scores selected" in response.content.decode()
    assert set(TrustScore.objects.values_list("trust_score", flat=True)) == {1}  # nothing ran


def test_confirm_fraud_page(fraud_client):
    score = TrustScoreFactory()
    url = f"/admin/fraud/trustscore/{score.pk}/confirm-fraud/"
    assert fraud_client.post(url, {"notes": ""}).status_code == 200
    assert fraud_client.post(url, {"notes": "Bank confirmed"}).status_code == 302
    score.refresh_from_db()
    assert score.is_fraudulent


def test_customer_page_shows_trust_blocks_linked_accounts_and_evidence(fraud_client, django_assert_max_num_queries):
    customer, other = CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=customer, device_id="dev-x")
    LoginHistoryFactory(customer=other, device_id="dev-x")
    BlockFactory(customer=other, block_type="ACCOUNT_BLOCK", service_type=None)
    BlockFactory(customer=customer, service_type="FOOD", block_reason="Chargebacks")
    TrustScoreFactory(customer=other, trust_score=31)
    with django_assert_max_num_queries(40):
        page = fraud_client.get(f"/admin/customer_ops/customer/{customer.pk}/change/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "1 account shares this device dev-x : 1 blocked, average trust 31" in text
    assert "Chargebacks" in text
    assert f"?customer__id__exact={customer.pk}&amp;verification_status__exact=FAILED" in page


# --- permissions: 403 for URLs a role may not use ------------------------------------------------


@pytest.mark.parametrize(
    ("role", "method", "url"),
    [
        (Role.AGENT, "get", "/admin/fraud/fraudalert/"),
        (Role.AGENT, "get", "/admin/fraud/suspiciousactivity/"),
        (Role.AGENT, "get", "/admin/fraud/block/add/"),
        (Role.LEAD, "post", "/admin/fraud/block/{block}/lift/"),
        (Role.LEGAL, "get", "/admin/fraud/block/{block}/lift/"),
        (Role.ANALYST, "post", "/admin/fraud/trustscore/recalculate-all/"),
        (Role.AGENT, "post", "/admin/fraud/trustscore/customer/{customer}/recalculate/"),
        (Role.ANALYST, "get", "/admin/fraud/trustscore/{score}/confirm-fraud/"),
        (Role.COMPLIANCE, "get", "/admin/fraud/trustscore/"),
        (Role.LEGAL, "get", "/admin/fraud/verificationhistory/"),
        (Role.AGENT, "get", "/admin/analytics/loginhistory/"),
    ],
)
def test_roles_without_the_right_get_403(client, make_staff, role, method, url):
    block, score = BlockFactory(), TrustScoreFactory()
    client.force_login(make_staff(role))
    url = url.format(block=block.pk, score=score.pk, customer=score.customer_id)
    with unchanged(*FRAUD_TABLES):
        response = getattr(client, method)(url, {"reason": "x"} if method == "post" else None)
    assert response.status_code == 403


def test_an_agent_sees_blocks_and_trust_but_no_work_buttons(client, make_staff):
    block, score = BlockFactory(), TrustScoreFactory()
    client.force_login(make_staff(Role.AGENT))
    assert_page_shows(
        client.get(f"/admin/fraud/block/{block.pk}/change/"), present=[block.block_reason], absent=["Lift this block"]
    )
    assert_page_shows(
        client.get(f"/admin/fraud/trustscore/{score.pk}/change/"),
        present=[score.risk_level],
        absent=["Confirm fraud", "Recalculate now"],
    )
    assert_page_shows(client.get("/admin/fraud/block/"), present=[block.block_reason_code], absent=["lift_selected"])


def test_a_page_opened_before_someone_else_changed_the_row_is_refused_not_overwritten(fraud_client):
    """The lift and resolve pages send back the version they showed (issue 21): a change
    made meanwhile is a conflict, shown on the page, and nothing is written."""
    block = BlockFactory()
    page = fraud_client.get(f"/admin/fraud/block/{block.pk}/lift/")
    version = re.search(r'name="version" value="([^"]+)"', page.content.decode()).group(1)
    Block.objects.filter(pk=block.pk).update(block_notes="edited meanwhile")
    with unchanged(*apps.get_app_config("fraud").get_models()):
        response = fraud_client.post(
            f"/admin/fraud/block/{block.pk}/lift/", {"reason": "Appeal", "version": version}, follow=True
        )
    assert_page_shows(response, present=["was changed by someone else", f"Block #{block.pk}"])
    fresh = fraud_client.get(f"/admin/fraud/block/{block.pk}/lift/")
    current = re.search(r'name="version" value="([^"]+)"', fresh.content.decode()).group(1)
    lifted = fraud_client.post(f"/admin/fraud/block/{block.pk}/lift/", {"reason": "Appeal", "version": current})
    assert lifted.status_code == 302 and Block.objects.get(pk=block.pk).is_unblocked

    alert = FraudAlertFactory()
    page = fraud_client.get(f"/admin/fraud/fraudalert/{alert.pk}/change/")
    version = re.search(r'name="version" value="([^"]*)"', page.content.decode()).group(1)
    fraud_client.post(
        f"/admin/fraud/fraudalert/{alert.pk}/record-action/", {"action_taken": "Called", "version": version}
    )
    with unchanged(*apps.get_app_config("fraud").get_models()):
        response = fraud_client.post(
            f"/admin/fraud/fraudalert/{alert.pk}/resolve/",
            {"notes": "ok", "version": version, "outcome": "LEGITIMATE", "reason_code": "OTHER"},
            follow=True,
        )
    assert_page_shows(response, present=["was changed by someone else", f"Alert #{alert.pk}"])
    assert not FraudAlert.objects.get(pk=alert.pk).is_resolved
