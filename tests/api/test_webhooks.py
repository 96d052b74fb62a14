"""Events out (issue 23): each event from a real workflow, in the change's transaction, to a
real signed HTTP receiver; the retry schedule; pause, resume and delete; the API.

The attempts here run the worker's task body (:func:`api.webhooks.delivery.attempt`) in the
test's transaction; tests/api/test_webhook_worker.py runs the real worker processes.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from api.models import DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from api.tasks import DeliveryRetry
from api.webhooks import delivery, signing
from api.webhooks.services import (
    deliveries_replay_failed_since,
    subscription_create,
    subscription_delete,
    subscription_pause,
    subscription_resume,
)
from customer_ops.choices import EventType
from customer_ops.context import SYSTEM
from customer_ops.errors import Invalid
from customer_ops.events import emit
from customer_ops.models import OutboxEvent
from customer_ops.roles import Role
from fraud.jobs import recalculate_trust_scores, unblock_expired
from fraud.services import block_customer, unblock
from tests import factories as f
from tests.api.conftest import assert_problem, bearer
from tests.api.webhook_receiver import Receiver
from tests.assertions import unchanged
from tests.factories import identity_verified
from tickets.services import disputes as dispute_svc
from tickets.services import refunds as refund_svc
from tickets.services import tickets as ticket_svc

pytestmark = pytest.mark.django_db

ENVELOPE = {"id", "type", "created_at", "api_version", "data"}


def jobs() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, lock, args::text, status, scheduled_at FROM procrastinate_jobs ORDER BY id")
        return [(name, lock, json.loads(args), *rest) for name, lock, args, *rest in cursor.fetchall()]


def deliver_all() -> list[str]:
    """Run each pending delivery's attempt once, oldest first (the worker's task body)."""
    outcomes = []
    for pk in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by("id").values_list("pk", flat=True):
        try:
            outcomes.append(delivery.attempt(pk))
        except delivery.DeliveryFailed:
            outcomes.append("retry")
    return outcomes


@pytest.fixture
def client_row():
    return f.ApiClientFactory(name="order-approval", scopes=["webhooks:manage"])


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def subscribe(client_row, receiver):
    def make(event_types=tuple(EventType.values), client=None, url=None):
        sub, secret = subscription_create(
            client=client or client_row, url=url or receiver.url, event_types=list(event_types), actor=SYSTEM
        )
        receiver.secret = secret
        return sub

    return make


def _erasure(customer, make_staff):
    from compliance import services

    staff = make_staff(Role.COMPLIANCE)
    request = services.deletion_request_create(customer=customer, scopes=["ALL"], reason="asked", actor=staff)
    approving_officer = make_staff(Role.COMPLIANCE)
    identity_verified(request, approving_officer)
    services.deletion_request_approve(request=request, actor=approving_officer)
    services.deletion_request_run(request=request)
    request.refresh_from_db()
    return request


def test_each_event_type_reaches_a_signed_receiver_from_a_real_workflow(subscribe, receiver, make_staff):
    sub = subscribe()
    agent, lead, lead2 = make_staff(Role.AGENT), make_staff(Role.LEAD), make_staff(Role.LEAD)
    fraud, legal = make_staff(Role.FRAUD), make_staff(Role.LEGAL)
    customer = f.CustomerFactory(full_name="Zebulon Quixfield", email="zeb@quix.test")
    order = f.OrderFactory(customer=customer, order_amount=Decimal("40.00"))

    ticket = f.TicketFactory(customer=customer, order=order)
    ticket_svc.ticket_assign(ticket=ticket, agent=agent, actor=agent)  # OPEN -> IN_PROGRESS
    ticket_svc.ticket_reply(ticket=ticket, text="Zebulon, your refund is on its way", actor=agent, seen=None)
    approved = f.RefundRequestFactory(customer=customer, order=order, requested_amount=Decimal("10.00"))
    refund_svc.refund_approve(refund=approved, approved_amount="10.00", actor=lead)
    rejected = f.RefundRequestFactory(customer=customer, order=order, requested_amount=Decimal("5.00"))
    refund_svc.refund_reject(refund=rejected, reason="Delivered per photo", actor=lead2)
    block = block_customer(customer=customer, block_type="SERVICE_BLOCK", service_type="FOOD", reason="x", actor=fraud)
    unblock(block=block, reason="Cleared", actor=fraud)
    now = timezone.now()
    f.BlockFactory(
        customer=customer, blocked_at=now - dt.timedelta(hours=2), blocked_until=now - dt.timedelta(minutes=1)
    )
    assert len(unblock_expired().lifted) == 1
    f.TrustScoreFactory(customer=customer, risk_level="LOW", is_fraudulent=True)
    recalculate_trust_scores([customer.pk])
    dispute = f.DisputeFactory(customer=customer, order=order)
    dispute_svc.dispute_start_investigation(dispute=dispute, actor=legal)
    dispute_svc.dispute_resolve(dispute=dispute, resolution="Partial", resolution_amount="5.00", actor=legal)
    erased = f.CustomerFactory()  # one with nothing on legal hold
    erasure = _erasure(erased, make_staff)
    assert erasure.request_status == "COMPLETED", erasure.request_status

    events = list(OutboxEvent.objects.order_by("id"))
    # Each job is the delivery's: its lock orders one customer's events for one subscription.
    pending = list(WebhookDelivery.objects.order_by("id"))
    assert [(d.event_id, d.status) for d in pending] == [(e.pk, "PENDING") for e in events]
    assert [(name, lock, args) for name, lock, args, *_ in jobs()] == [
        ("webhooks.deliver", f"webhook-{sub.pk}-{d.customer_id}", {"delivery_id": d.pk}) for d in pending
    ]
    assert {d.customer_id for d in pending} == {customer.pk, erased.pk}
    assert set(deliver_all()) == {"DELIVERED"}

    got = {r.body["type"]: r for r in receiver.received}
    assert set(got) == set(EventType.values)
    assert all(r.signature_ok and set(r.body) == ENVELOPE and r.event_id == r.body["id"] for r in receiver.received)
    assert all(r.body["api_version"] == "1" for r in receiver.received)
    assert {
        r.body["data"]["customer_id"] for r in receiver.received if r.body["type"] != "data_subject_request.completed"
    } == {customer.pk}
    data = {kind: r.body["data"] for kind, r in got.items()}
    assert data["ticket.status_changed"] == {
        "customer_id": customer.pk,
        "ticket_id": ticket.ticket_id,
        "previous_status": "OPEN",
        "status": "IN_PROGRESS",
    }
    assert data["ticket.message_created"]["sender_type"] == "AGENT"
    assert data["refund.approved"]["refund_request_id"] == approved.refund_request_id
    assert data["refund.approved"]["approved_amount"] == "10.00"
    assert data["refund.rejected"]["refund_request_id"] == rejected.refund_request_id
    assert data["block.created"]["block_id"] == block.pk
    lifted = [r.body["data"] for r in receiver.received if r.body["type"] == "block.lifted"]
    assert sorted(d["automatic"] for d in lifted) == [False, True]
    assert data["customer.risk_level_changed"] == {
        "customer_id": customer.pk,
        "previous_risk_level": "LOW",
        "risk_level": "CRITICAL",
    }
    assert data["dispute.resolved"]["dispute_id"] == dispute.dispute_id
    assert data["data_subject_request.completed"]["request_id"] == erasure.request_id
    assert data["data_subject_request.completed"]["scope"] == ["ALL"]
    # Ids and codes only: nothing the customer is known by, nothing staff typed.
    everything = json.dumps([r.body for r in receiver.received])
    for personal in ("Zebulon", "Quixfield", "zeb@quix.test", "refund is on its way", "Delivered per photo"):
        assert personal not in everything


def test_the_trust_engine_writes_one_event_per_customer_whose_level_moved(subscribe):
    subscribe([EventType.CUSTOMER_RISK_LEVEL_CHANGED])
    moved = [f.TrustScoreFactory(risk_level="LOW", is_fraudulent=True).customer for _ in range(3)]
    still = f.TrustScoreFactory(risk_level="LOW").customer
    recalculate_trust_scores([c.pk for c in [*moved, still]])
    events = OutboxEvent.objects.filter(event_type=EventType.CUSTOMER_RISK_LEVEL_CHANGED)
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(c.pk for c in moved)
    assert WebhookDelivery.objects.count() == 3 and len(jobs()) == 3
    recalculate_trust_scores([c.pk for c in [*moved, still]])  # nothing moved on a re-run
    assert events.count() == 3


def test_a_rolled_back_change_emits_nothing(subscribe, make_staff):
    subscribe()
    fraud = make_staff(Role.FRAUD)
    customer = f.CustomerFactory()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        block_customer(customer=customer, block_type="ACCOUNT_BLOCK", reason="x", actor=fraud)
        assert OutboxEvent.objects.count() == 1 and len(jobs()) == 1  # written with the change...
        raise Boom
    assert OutboxEvent.objects.count() == 0 and WebhookDelivery.objects.count() == 0 and jobs() == []  # ...and gone

    lead = make_staff(Role.LEAD)
    refund = f.RefundRequestFactory()
    with unchanged(OutboxEvent, WebhookDelivery), pytest.raises(Exception, match="cannot exceed"):
        refund_svc.refund_approve(refund=refund, approved_amount="999.00", actor=lead)
    assert jobs() == []


def test_emit_outside_a_transaction_is_refused(monkeypatch):
    monkeypatch.setattr(type(connection), "in_atomic_block", False, raising=False)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        emit(EventType.BLOCK_CREATED, customer_id=1)


def test_an_event_type_without_subscribers_writes_no_delivery(subscribe, make_staff):
    subscribe([EventType.REFUND_APPROVED])
    block_customer(customer=f.CustomerFactory(), block_type="ACCOUNT_BLOCK", reason="x", actor=make_staff(Role.FRAUD))
    assert OutboxEvent.objects.count() == 1 and WebhookDelivery.objects.count() == 0 and jobs() == []


def _one_event(subscribe, make_staff, **kwargs):
    sub = subscribe([EventType.BLOCK_CREATED], **kwargs)
    block_customer(customer=f.CustomerFactory(), block_type="ACCOUNT_BLOCK", reason="x", actor=make_staff(Role.FRAUD))
    return sub, WebhookDelivery.objects.get(subscription=sub)


def test_three_failures_then_200_is_delivered_once_acknowledged(subscribe, receiver, make_staff):
    receiver.answers = [500, 503, 502]
    sub, row = _one_event(subscribe, make_staff)
    start = timezone.now().replace(microsecond=0)
    waits = []
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(3):
            with pytest.raises(delivery.DeliveryFailed) as failed:
                delivery.attempt(row.pk)
            waits.append(failed.value.retry_at - timezone.now())
            clock.move_to(failed.value.retry_at)
        assert delivery.attempt(row.pk) == DeliveryStatus.DELIVERED
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code) == ("DELIVERED", 4, 200)
    assert [r.status for r in receiver.received] == [500, 503, 502, 200]
    assert len({r.event_id for r in receiver.received}) == 1 and len(receiver.acknowledged()) == 1
    sub.refresh_from_db()
    assert sub.failing_since is None  # the success clears it
    assert delivery.attempt(row.pk) == DeliveryStatus.DELIVERED and len(receiver.received) == 4  # done is done


def test_a_receiver_that_always_fails_ends_failed_after_the_schedule(subscribe, receiver, make_staff):
    receiver.default = 500
    sub, row = _one_event(subscribe, make_staff)
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        while True:
            try:
                status = delivery.attempt(row.pk)
                break
            except delivery.DeliveryFailed as failed:
                clock.move_to(failed.retry_at)
        elapsed = timezone.now() - start
    assert status == DeliveryStatus.FAILED
    assert len(receiver.received) == 13
    assert elapsed == dt.timedelta(hours=68, minutes=15)  # 1+2+4+...+2048 minutes: under three days
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at, row.last_status_code) == ("FAILED", 13, None, 500)
    sub.refresh_from_db()
    assert sub.failing_since == start


def test_a_connection_refused_is_a_failed_attempt(subscribe, make_staff):
    sub, row = _one_event(subscribe, make_staff, url="http://127.0.0.1:9/closed")
    with pytest.raises(delivery.DeliveryFailed):
        delivery.attempt(row.pk)
    row.refresh_from_db()
    assert row.last_status_code is None and "Connection" in row.last_error and row.attempts == 1


def test_the_worker_retries_at_the_recorded_time():
    at = timezone.now() + dt.timedelta(minutes=8)
    decision = DeliveryRetry().get_retry_decision(exception=delivery.DeliveryFailed("HTTP 500", at), job=None)
    assert decision.retry_at == at
    assert DeliveryRetry().get_retry_decision(exception=ValueError(), job=None).retry_at > timezone.now()


def test_replay_of_the_failed_since_a_time(subscribe, receiver, make_staff):
    receiver.default = 500
    sub, row = _one_event(subscribe, make_staff)
    WebhookDelivery.objects.filter(pk=row.pk).update(status="FAILED", attempts=13, last_attempt_at=timezone.now())
    before = len(jobs())
    assert (
        deliveries_replay_failed_since(subscription=sub, since=timezone.now() + dt.timedelta(hours=1), actor=SYSTEM)
        == 0
    )
    assert (
        deliveries_replay_failed_since(subscription=sub, since=timezone.now() - dt.timedelta(hours=1), actor=SYSTEM)
        == 1
    )
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PENDING", 0) and len(jobs()) == before + 1
    receiver.default = 200
    assert deliver_all() == ["DELIVERED"]


def test_pause_holds_events_and_resume_delivers_them_in_order(subscribe, receiver, make_staff):
    sub = subscribe([EventType.BLOCK_CREATED])
    subscription_pause(subscription=sub, actor=SYSTEM)
    fraud, customer = make_staff(Role.FRAUD), f.CustomerFactory()
    for service in ("FOOD", "RIDE"):
        block_customer(customer=customer, block_type="SERVICE_BLOCK", service_type=service, reason="x", actor=fraud)
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["HELD", "HELD"] and jobs() == []
    subscription_resume(subscription=sub, actor=SYSTEM)
    assert [args["delivery_id"] for _, _, args, *_ in jobs()] == list(
        WebhookDelivery.objects.order_by("id").values_list("id", flat=True)
    )
    deliver_all()
    assert [r.body["data"]["service_type"] for r in receiver.received] == ["FOOD", "RIDE"]


def test_a_deleted_subscription_gets_nothing_more(subscribe, receiver, make_staff):
    sub, row = _one_event(subscribe, make_staff)
    subscription_delete(subscription=sub, actor=SYSTEM)
    row.refresh_from_db()
    assert row.status == "CANCELLED" and delivery.attempt(row.pk) == "CANCELLED" and receiver.received == []
    block_customer(customer=f.CustomerFactory(), block_type="ACCOUNT_BLOCK", reason="x", actor=make_staff(Role.FRAUD))
    assert WebhookDelivery.objects.count() == 1


def test_subscriptions_refuse_bad_input_and_plain_http_in_production(client_row, settings):
    with pytest.raises(Invalid, match="event type"):
        subscription_create(client=client_row, url="https://a.example/h", event_types=[], actor=SYSTEM)
    with pytest.raises(Invalid, match="Unknown event types"):
        subscription_create(client=client_row, url="https://a.example/h", event_types=["order.eaten"], actor=SYSTEM)
    with pytest.raises(Invalid, match="full URL"):
        subscription_create(client=client_row, url="ftp://a.example/h", event_types=["block.created"], actor=SYSTEM)
    settings.WEBHOOKS_ALLOW_HTTP = False
    with unchanged(WebhookSubscription), pytest.raises(Invalid, match="https"):
        subscription_create(client=client_row, url="http://a.example/h", event_types=["block.created"], actor=SYSTEM)
    sub, secret = subscription_create(
        client=client_row, url="https://a.example/h", event_types=["block.created"], actor=SYSTEM
    )
    assert secret.startswith("whsec_") and sub.secret == secret


def test_the_signature_check_refuses_tampering_other_secrets_and_replays():
    body, now = b'{"id":"1"}', 1_800_000_000
    header = signing.sign("whsec_a", body, now)
    assert signing.verify("whsec_a", body, header, now=now + 10)
    assert not signing.verify("whsec_a", body + b" ", header, now=now)
    assert not signing.verify("whsec_b", body, header, now=now)
    assert not signing.verify("whsec_a", body, header, now=now + 301)  # an old capture replayed
    assert not signing.verify("whsec_a", body, "garbage", now=now)


# --- the API ------------------------------------------------------------------------------


def test_the_api_subscribes_lists_pauses_resumes_and_deletes(client, make_token, receiver):
    owner, token = make_token(scopes=["webhooks:manage"])
    _, other = make_token(scopes=["webhooks:manage"])
    created = client.post(
        "/api/v1/webhooks",
        {"url": receiver.url, "event_types": ["refund.approved", "block.created"]},
        content_type="application/json",
        **bearer(token),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    sub = WebhookSubscription.objects.get(pk=body["id"])
    assert body["secret"] == sub.secret and sub.client == owner and body["event_types"] == sorted(body["event_types"])

    listed = client.get("/api/v1/webhooks", **bearer(token)).json()
    assert [s["id"] for s in listed] == [sub.pk] and "secret" not in listed[0]  # shown once
    assert client.get("/api/v1/webhooks", **bearer(other)).json() == []
    assert_problem(client.post(f"/api/v1/webhooks/{sub.pk}/pause", **bearer(other)), 404)

    paused = client.post(f"/api/v1/webhooks/{sub.pk}/pause", **bearer(token))
    assert paused.status_code == 200 and paused.json()["status"] == "PAUSED"
    resumed = client.post(f"/api/v1/webhooks/{sub.pk}/resume", **bearer(token))
    assert resumed.json()["status"] == "ACTIVE"
    assert client.delete(f"/api/v1/webhooks/{sub.pk}", **bearer(token)).status_code == 204
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.DELETED
    assert client.get("/api/v1/webhooks", **bearer(token)).json() == []


def test_the_api_refuses_without_the_scope_and_bad_input(client, make_token):
    _, token = make_token(scopes=["tickets:read"])
    assert_problem(client.get("/api/v1/webhooks", **bearer(token)), 403)
    _, token = make_token(scopes=["webhooks:manage"])
    with unchanged(WebhookSubscription):
        response = client.post(
            "/api/v1/webhooks",
            {"url": "not a url", "event_types": ["block.created"]},
            content_type="application/json",
            **bearer(token),
        )
    assert_problem(response, 422, detail="full URL")
    with unchanged(WebhookSubscription):
        response = client.post(
            "/api/v1/webhooks",
            {"url": "https://a.example", "event_types": ["nope"]},
            content_type="application/json",
            **bearer(token),
        )
    assert response.status_code == 422
