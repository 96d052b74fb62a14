"""The outbox's retention (api.webhooks.retention): past OUTBOX_RETENTION an event goes with
its finished deliveries; an event that may still be sent stays, however old."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from api.models import DeliveryStatus, WebhookDelivery
from api.webhooks.fanout import defer_deliveries
from customer_ops.models import OUTBOX_RETENTION, OutboxEvent
from customer_ops.write_rules import rules_for
from tests import factories as f

pytestmark = pytest.mark.django_db


def _event(*, age: dt.timedelta, statuses: list[str]) -> OutboxEvent:
    event = f.OutboxEventFactory(created_at=timezone.now() - age)
    for status in statuses:
        f.WebhookDeliveryFactory(event=event, status=status)
    return event


def _purge() -> str:
    out = io.StringIO()
    call_command("purge_webhook_history", stdout=out)
    return out.getvalue()


def test_the_outbox_declares_the_retention_its_trigger_applies():
    assert rules_for(OutboxEvent).retention == OUTBOX_RETENTION


def test_old_events_go_with_their_finished_deliveries_and_the_rest_stays():
    old, young = OUTBOX_RETENTION + dt.timedelta(hours=1), OUTBOX_RETENTION - dt.timedelta(hours=1)
    gone = [
        _event(age=old, statuses=[DeliveryStatus.DELIVERED]),
        _event(age=old, statuses=[DeliveryStatus.FAILED, DeliveryStatus.CANCELLED]),
        _event(age=old, statuses=[]),  # no subscriber wanted it
    ]
    pending = _event(age=old, statuses=[DeliveryStatus.PENDING, DeliveryStatus.DELIVERED])
    held = _event(age=old * 3, statuses=[DeliveryStatus.HELD])  # a subscription paused for months
    recent = _event(age=young, statuses=[DeliveryStatus.DELIVERED])

    assert "3 event(s) and 4 delivery(ies) deleted." in _purge()

    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {pending.pk, held.pk, recent.pk}
    kept = WebhookDelivery.objects.values_list("event_id", "status")
    assert sorted(kept) == sorted([(pending.pk, "PENDING"), (held.pk, "HELD"), (recent.pk, "DELIVERED")]), (
        "the finished delivery of a kept old event goes; its pending one stays"
    )
    assert not WebhookDelivery.objects.filter(event_id__in=[e.pk for e in gone]).exists()
    assert "0 event(s) and 0 delivery(ies) deleted." in _purge()  # safe to re-run


def _jobs() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM procrastinate_jobs WHERE queue_name = 'webhooks'")
        return {row[0] for row in cursor.fetchall()}


def test_failed_webhook_jobs_are_kept_until_the_retention():
    deliveries = [f.WebhookDeliveryFactory(status=DeliveryStatus.FAILED) for _ in range(2)]
    defer_deliveries([d.pk for d in deliveries])
    (old_job, recent_job) = sorted(_jobs())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE queue_name = 'webhooks'")
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE queue_name = 'webhooks'")
        # procrastinate dates a job's last state by its events: the old one failed long ago.
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - %s - interval '1 hour' WHERE job_id = %s",
            [OUTBOX_RETENTION, old_job],
        )
    _purge()
    assert _jobs() == {recent_job}
