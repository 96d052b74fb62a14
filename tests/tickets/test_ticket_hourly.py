"""support_ticket_hourly, kept by triggers on customer_tickets, against a plain-Python count of
the tickets after random inserts, resolutions, reopenings, category and service corrections,
deletes and erasure-shaped scrubs, in the ORM and in raw SQL; the dashboard's live days read
it through its unique index, never the tickets. (tests/tickets/test_support_daily.py compares
the whole chart, live days included, with the tickets.)"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections import Counter

import pytest
from django.db import connection, connections
from django.http import QueryDict
from django.utils import timezone

from analytics.filters import dashboard_filters
from customer_ops.choices import ServiceType
from tests.assertions import explain
from tests.factories import CustomerFactory
from tickets import charts
from tickets.choices import IssueCategory, TicketStatus
from tickets.models import CATEGORY_BUCKET_EDGES, Ticket
from tickets.models_hourly import CategoryResolvedDaily, TicketHourly, rebuild_category_resolved, rebuild_ticket_hourly

UTC = dt.UTC
SERVICES = [*ServiceType.values, None]


def _hour(at: dt.datetime) -> dt.datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _expected() -> Counter:
    """Per (UTC hour, service, category, "opened"/"resolved"), in plain Python."""
    counts: Counter = Counter()
    for t in Ticket.objects.all():
        counts[(_hour(t.created_at), t.service_type, t.issue_category, "opened")] += 1
        if t.resolved_at:
            counts[(_hour(t.resolved_at), t.service_type, t.issue_category, "resolved")] += 1
    return counts


def _expected_histograms() -> Counter:
    """Per (UTC day of resolution, category, bucket of CATEGORY_BUCKET_EDGES), in plain Python."""
    counts: Counter = Counter()
    for t in Ticket.objects.filter(resolved_at__isnull=False, resolution_time_minutes__isnull=False):
        bucket = bisect_right(CATEGORY_BUCKET_EDGES, t.resolution_time_minutes)
        counts[(t.resolved_at.astimezone(UTC).date(), t.issue_category, bucket)] += 1
    return counts


def _histograms() -> Counter:
    counts: Counter = Counter()
    for row in CategoryResolvedDaily.objects.all():
        assert len(row.resolution_histogram) == len(CATEGORY_BUCKET_EDGES) + 1
        for bucket, n in enumerate(row.resolution_histogram):
            counts[(row.day, row.issue_category, bucket)] += n
    return +counts


def _both() -> tuple[Counter, Counter]:
    return _table(), _histograms()


def _both_expected() -> tuple[Counter, Counter]:
    return _expected(), _expected_histograms()


def _table() -> Counter:
    counts: Counter = Counter()
    for r in TicketHourly.objects.all():
        for figure in ("opened", "resolved"):
            counts[(r.hour.astimezone(UTC), r.service_type, r.issue_category, figure)] += getattr(r, figure)
    return +counts  # zero entries dropped, as in _expected


def _tickets(rng: random.Random, n: int) -> list[Ticket]:
    customer = CustomerFactory()
    tickets = []
    for _ in range(n):
        created = dt.datetime(2026, 3, rng.randint(1, 3), rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        resolved = rng.random() < 0.5
        minutes = rng.choice([rng.randrange(5000), *CATEGORY_BUCKET_EDGES[40:90]])  # edges included
        tickets.append(
            Ticket(
                customer=customer,
                service_type=rng.choice(SERVICES),
                issue_category=rng.choice(IssueCategory.values),
                subject="s",
                description="d",
                status=TicketStatus.RESOLVED if resolved else TicketStatus.OPEN,
                resolved_at=created + dt.timedelta(minutes=minutes) if resolved else None,
                resolution_time_minutes=minutes if resolved and rng.random() < 0.9 else None,
                created_at=created,
            )
        )
    return Ticket.objects.bulk_create(tickets)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hourly_figures_equal_the_tickets_after_random_writes(seed):
    rng = random.Random(seed)
    tickets = _tickets(rng, 60)
    assert _both() == _both_expected()
    assert _table() != Counter() != _histograms()
    for ticket in rng.sample(tickets, 20):  # one row per statement
        qs = Ticket.objects.filter(pk=ticket.pk)
        change = rng.choice(["resolve", "reopen", "category", "service", "reply"])
        if change == "resolve":
            qs.update(
                status=TicketStatus.RESOLVED,
                resolved_at=ticket.created_at + dt.timedelta(hours=5),
                resolution_time_minutes=rng.randrange(4000),
            )
        elif change == "reopen":
            qs.update(status=TicketStatus.OPEN, resolved_at=None, resolution_time_minutes=None)
        elif change == "category":
            qs.update(issue_category=rng.choice(IssueCategory.values))
        elif change == "service":
            qs.update(service_type=rng.choice(SERVICES))
        else:
            qs.update(assigned_at=timezone.now(), priority="HIGH")
    # Many rows in one statement: hours gain and lose in the same statement.
    Ticket.objects.filter(pk__in=[t.pk for t in rng.sample(tickets, 25)]).update(issue_category="PAYMENT")
    Ticket.objects.filter(resolved_at__isnull=True).update(
        status=TicketStatus.RESOLVED, resolved_at=dt.datetime(2026, 3, 4, 12, tzinfo=UTC)
    )
    # Deletes, some emptying an hour.
    Ticket.objects.filter(pk__in=[t.pk for t in rng.sample(tickets, 25)]).delete()
    _tickets(rng, 10)
    assert _both() == _both_expected()
    assert not TicketHourly.objects.filter(opened=0, resolved=0).exists()  # an emptied hour has no row
    assert all(any(row.resolution_histogram) for row in CategoryResolvedDaily.objects.all())  # nor a day


@pytest.mark.django_db
def test_raw_sql_writes_keep_the_figures_in_a_non_utc_session():
    rng = random.Random(4)
    _tickets(rng, 20)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")  # +05:30: a local hour straddles two UTC hours
        cursor.execute(
            "UPDATE customer_tickets SET status = 'RESOLVED', resolved_at = timestamptz '2026-03-05 10:45+05:30'"
            " WHERE resolved_at IS NULL"
        )
        cursor.execute("UPDATE customer_tickets SET service_type = 'RIDE' WHERE issue_category = 'ORDER'")
        cursor.execute("DELETE FROM customer_tickets WHERE issue_category = 'ACCOUNT'")
        cursor.execute("SET TIME ZONE 'UTC'")
    assert _both() == _both_expected()
    assert _table() != Counter() != _histograms()


@pytest.mark.django_db
def test_an_update_that_moves_no_figure_writes_nothing():
    _tickets(random.Random(5), 30)
    with connection.cursor() as cursor:
        for table in ("support_ticket_hourly", "support_category_resolved"):
            cursor.execute(f"SELECT id, xmin::text FROM {table}")
            versions = dict(cursor.fetchall())
            Ticket.objects.update(subject="[erased]", description="[erased]", priority="HIGH")
            cursor.execute(f"SELECT id, xmin::text FROM {table}")
            assert dict(cursor.fetchall()) == versions != {}  # not even rewritten


@pytest.mark.django_db
def test_rebuild_recomputes_every_hour():
    _tickets(random.Random(6), 30)
    TicketHourly.objects.update(opened=99)
    TicketHourly.objects.create(hour=dt.datetime(2020, 1, 1, tzinfo=UTC), issue_category="ORDER", opened=1)
    CategoryResolvedDaily.objects.update(resolution_histogram=[7] * (len(CATEGORY_BUCKET_EDGES) + 1))
    rebuild_ticket_hourly()
    rebuild_category_resolved()
    assert _both() == _both_expected()


@pytest.mark.django_db(databases=["default", "owner"])
def test_a_truncate_of_the_tickets_empties_the_figures():
    # Only the owner may TRUNCATE (customer_ops.db_roles); its own connection and transaction.
    with connections["owner"].cursor() as cursor:
        cursor.execute("INSERT INTO customers (full_name, email) VALUES ('T', 't@example.test') RETURNING id")
        (customer_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO customer_tickets (ticket_id, customer_id, issue_category, subject, description)"
            " VALUES ('TKT-TRUNC-1', %s, 'ORDER', 's', 'd')",
            [customer_id],
        )
        cursor.execute("SELECT sum(opened) FROM support_ticket_hourly")
        assert cursor.fetchone() == (1,)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's deferred foreign keys checked first
        cursor.execute("TRUNCATE customer_tickets CASCADE")
        cursor.execute(
            "SELECT (SELECT count(*) FROM support_ticket_hourly), (SELECT count(*) FROM support_category_resolved)"
        )
        assert cursor.fetchone() == (0, 0)


@pytest.mark.django_db
def test_the_default_views_live_buckets_read_only_the_histograms():
    _, f = dashboard_filters(QueryDict(""))
    sql = charts._PLANS[False].buckets_sql.split("UNION ALL")[1]
    assert "customer_tickets" not in sql
    plan = explain(connection.ops.compose_sql(sql, charts._split(f)), bitmap_only=True)
    assert set(plan.indexes) == {"support_category_resolved"}, plan.text
    assert plan.uses("support_category_resolved") == {"support_category_resolved_unique"}, plan.text


@pytest.mark.django_db
def test_the_live_days_read_only_the_hours():
    _, f = dashboard_filters(QueryDict(""))
    sql = charts._PER_DAY_SQL.split("UNION ALL")[1]
    assert "customer_tickets" not in sql
    plan = explain(connection.ops.compose_sql(sql, charts._split(f)), bitmap_only=True)
    assert not plan.whole and set(plan.indexes) == {"support_ticket_hourly"}, plan.text
    assert plan.uses("support_ticket_hourly") == {"support_ticket_hourly_unique"}, plan.text
