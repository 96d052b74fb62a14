"""The dashboard's support charts over the pre-aggregated tables (tickets.jobs.run_ticket_daily)
against a plain-Python computation over the tickets themselves: opened and resolved per day,
and the median resolution time per category (what ``percentile_cont(0.5)`` gives), for random
tickets, several ranges and every service choice, with old days read from the tables and the
last two days from the tickets."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from bisect import bisect_right
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from analytics.filters import dashboard_filters
from customer_ops.choices import ServiceType
from customer_ops.dates import RAW_DAYS, day_range
from tests.factories import CustomerFactory, OrderFactory
from tickets import charts, jobs
from tickets.choices import IssueCategory, TicketStatus
from tickets.models import (
    CATEGORY_BUCKET_EDGES,
    RESOLUTION_BUCKET_EDGES,
    CategoryDaily,
    RefundRequest,
    ResolutionMinutesDaily,
    Ticket,
    TicketDaily,
)

UTC = dt.UTC
SPAN = 40  # days of tickets, ending today


def _today() -> dt.date:
    return timezone.now().astimezone(UTC).date()


def _make_tickets(seed: int, n: int = 600) -> None:
    """Random tickets over the last SPAN days: every service and none, every category, and
    resolution times spread over many buckets, including the buckets' edges."""
    rng = random.Random(seed)
    customer = CustomerFactory()
    now = timezone.now()
    # The edges of both histograms (per service and over the services) up to about 2 days.
    edges = sorted({e for e in RESOLUTION_BUCKET_EDGES + CATEGORY_BUCKET_EDGES if e <= 3000})
    tickets = []
    for _ in range(n):
        created = now - dt.timedelta(seconds=rng.randrange(SPAN * 86400))
        resolved = rng.random() < 0.7
        if rng.random() < 0.3:
            minutes = rng.choice(edges) - rng.choice([0, 1])  # on and just below a bucket's edge
        else:
            minutes = int(rng.expovariate(1 / 700))
        resolved_at = min(created + dt.timedelta(minutes=minutes), now) if resolved else None
        tickets.append(
            Ticket(
                customer=customer,
                service_type=rng.choice([*ServiceType.values, None]),
                issue_category=rng.choice(IssueCategory.values),
                subject="s",
                description="d",
                status=TicketStatus.RESOLVED if resolved else TicketStatus.OPEN,
                resolved_at=resolved_at,
                # Some resolved tickets without a resolution time: counted as resolved, not in the median.
                resolution_time_minutes=minutes if resolved and rng.random() < 0.95 else None,
                created_at=created,
            )
        )
    Ticket.objects.bulk_create(tickets)


def _expected(f: dict) -> tuple[Counter, Counter, dict]:
    opened, resolved, minutes = Counter(), Counter(), {}
    for t in Ticket.objects.all():
        if f["service_type"] and t.service_type != f["service_type"]:
            continue
        if f["start"] <= t.created_at < f["end"]:
            opened[t.created_at.astimezone(UTC).date()] += 1
        if t.resolved_at and f["start"] <= t.resolved_at < f["end"]:
            resolved[t.resolved_at.astimezone(UTC).date()] += 1
            if t.resolution_time_minutes is not None:
                minutes.setdefault(t.issue_category, []).append(t.resolution_time_minutes)
    return opened, resolved, {c: statistics.median(values) for c, values in minutes.items()}


def _filters(first: dt.date, last: dt.date, service: str) -> dict:
    query = QueryDict(mutable=True)
    query.update({"date_from": first.isoformat(), "date_to": last.isoformat(), "service_type": service})
    return dashboard_filters(query)[1]


def _run_job_over_everything_but_the_raw_days() -> None:
    jobs.run_ticket_daily(day_range(_today() - dt.timedelta(days=SPAN + 1), _today() - dt.timedelta(days=RAW_DAYS)))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_support_charts_match_the_tickets(seed):
    _make_tickets(seed)
    _run_job_over_everything_but_the_raw_days()
    today = _today()
    ranges = [
        (today - dt.timedelta(days=SPAN), today),  # every ticket: table and raw days
        (today - dt.timedelta(days=29), today - dt.timedelta(days=3)),  # only pre-aggregated days
        (today - dt.timedelta(days=1), today),  # only raw days
        (today - dt.timedelta(days=6), today - dt.timedelta(days=6)),  # one day
    ]
    checked = 0
    for first, last in ranges:
        for service in ["", *ServiceType.values]:
            f = _filters(first, last, service)
            opened, resolved, medians = _expected(f)
            per_day = charts.tickets_per_day(f)
            assert per_day["datasets"][0]["data"] == [opened[d] for d in f["days"]]
            assert per_day["datasets"][1]["data"] == [resolved[d] for d in f["days"]]
            data = charts.median_resolution_by_category(f)["datasets"][0]["data"]
            assert data == [round(medians[c], 1) if c in medians else None for c in IssueCategory.values]
            checked += sum(v is not None for v in data)
    assert checked > 50  # the ranges had medians to compare, of both parities


@pytest.mark.django_db
def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values_across_buckets():
    customer = CustomerFactory()
    day = _today() - dt.timedelta(days=10)
    at = dt.datetime.combine(day, dt.time(12), tzinfo=UTC)
    # 3 and 1000 minutes lie in different buckets: the median is their mean, 501.5.
    for minutes in [1, 3, 1000, 5000]:
        Ticket.objects.create(
            customer=customer,
            issue_category="PAYMENT",
            subject="s",
            description="d",
            status=TicketStatus.RESOLVED,
            created_at=at - dt.timedelta(minutes=minutes),
            resolved_at=at,
            resolution_time_minutes=minutes,
        )
    jobs.run_ticket_daily(day_range(day, day))
    data = charts.median_resolution_by_category(_filters(day, day, ""))["datasets"][0]["data"]
    assert data[IssueCategory.values.index("PAYMENT")] == 501.5


@pytest.mark.django_db
def test_job_is_idempotent_and_removes_stale_rows():
    _make_tickets(4, n=200)
    days = day_range(_today() - dt.timedelta(days=SPAN + 1), _today())
    jobs.run_ticket_daily(days)
    tables = [TicketDaily, ResolutionMinutesDaily, CategoryDaily]
    before = [sorted(model.objects.values_list()) for model in tables]
    again = jobs.run_ticket_daily(days)
    assert again.count(" 0 written, 0 stale removed") == again.count("rows computed") == 4, again
    assert [sorted(model.objects.values_list()) for model in tables] == before
    assert all(model.objects.exists() for model in tables)

    # Tickets gone from a day (here: every ticket) leave no rows behind after a re-run.
    Ticket.objects.all().delete()
    jobs.run_ticket_daily(days)
    assert not any(model.objects.exists() for model in tables)


@pytest.mark.django_db
def test_old_days_the_job_has_not_covered_are_not_read_from_the_tickets():
    _make_tickets(5, n=100)
    f = _filters(_today() - dt.timedelta(days=SPAN), _today() - dt.timedelta(days=3), "")
    assert sum(charts.tickets_per_day(f)["datasets"][0]["data"]) == 0
    _run_job_over_everything_but_the_raw_days()
    assert sum(charts.tickets_per_day(f)["datasets"][0]["data"]) > 0


@pytest.mark.django_db
def test_charts_run_a_fixed_number_of_queries_for_a_year(django_assert_max_num_queries):
    _make_tickets(6, n=100)
    _run_job_over_everything_but_the_raw_days()
    f = _filters(_today() - dt.timedelta(days=364), _today(), "")
    with django_assert_max_num_queries(1):
        charts.tickets_per_day(f)
    with django_assert_max_num_queries(2):
        charts.median_resolution_by_category(f)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [7, 8])
def test_refund_amounts_match_the_refunds(seed):
    rng = random.Random(seed)
    now = timezone.now()
    for _ in range(60):
        order = OrderFactory(service_type=rng.choice(ServiceType.values))
        requested = Decimal(rng.randrange(100, 9000)) / 100
        approved = Decimal(rng.randrange(0, int(requested * 100))) / 100 if rng.random() < 0.6 else None
        RefundRequest.objects.create(
            customer=order.customer,
            order=order,
            refund_type="FULL",
            requested_amount=requested,
            approved_amount=approved,
            created_at=now - dt.timedelta(seconds=rng.randrange(SPAN * 86400)),
        )
    _run_job_over_everything_but_the_raw_days()
    today = _today()
    for first, last in [
        (today - dt.timedelta(days=SPAN), today),
        (today - dt.timedelta(days=20), today - dt.timedelta(days=4)),
    ]:
        for service in ["", *ServiceType.values]:
            f = _filters(first, last, service)
            requested, approved = Counter(), Counter()
            for r in RefundRequest.objects.select_related("order"):
                if f["start"] <= r.created_at < f["end"] and service in ("", r.order.service_type):
                    day = r.created_at.astimezone(UTC).date()
                    requested[day] += r.requested_amount
                    approved[day] += r.approved_amount or 0
            data = charts.refund_amounts(f)["datasets"]
            assert data[0]["data"] == [float(requested[d]) for d in f["days"]]
            assert data[1]["data"] == [float(approved[d]) for d in f["days"]]
    assert (
        sum(
            sum(d["data"])
            for d in charts.refund_amounts(_filters(today - dt.timedelta(days=SPAN), today, ""))["datasets"]
        )
        > 0
    )


@pytest.mark.django_db
def test_category_histograms_count_exactly_the_minutes_the_job_wrote():
    """The default view's median reads a bucket's count from support_category_daily and its
    minutes from support_resolution_minutes_daily: they agree bucket by bucket (the job sums
    the first from the second), and tickets reopened after the job change neither."""
    _make_tickets(9, n=300)
    _run_job_over_everything_but_the_raw_days()
    Ticket.objects.filter(resolved_at__lt=timezone.now() - dt.timedelta(days=5)).update(
        status=TicketStatus.OPEN, resolved_at=None, resolution_time_minutes=None
    )
    from_minutes: Counter = Counter()
    for day, category, minutes, tickets in ResolutionMinutesDaily.objects.values_list(
        "day", "issue_category", "minutes", "tickets"
    ):
        from_minutes[(day, category, bisect_right(CATEGORY_BUCKET_EDGES, minutes))] += tickets
    from_histograms = Counter(
        {
            (row.day, row.issue_category, bucket): n
            for row in CategoryDaily.objects.all()
            for bucket, n in enumerate(row.resolution_histogram)
            if n
        }
    )
    assert from_histograms == from_minutes != Counter()
    f = _filters(_today() - dt.timedelta(days=SPAN), _today() - dt.timedelta(days=3), "")
    assert any(charts.median_resolution_by_category(f)["datasets"][0]["data"])


@pytest.mark.django_db
def test_tickets_reopened_between_the_two_queries_are_read_again_not_a_500():
    """The live days' buckets and minutes are two statements. Here the middle tickets of a
    category are live ones, reopened right after the first statement (on the same connection,
    so the second sees it): their bucket's minutes are missing. The chart reads again and
    shows the median of what is there now."""
    customer = CustomerFactory()
    now = timezone.now()

    def resolved(minutes: int, at: dt.datetime) -> Ticket:
        return Ticket(
            customer=customer,
            issue_category="ACCOUNT",
            subject="s",
            status=TicketStatus.RESOLVED,
            created_at=at - dt.timedelta(minutes=minutes),
            resolved_at=at,
            resolution_time_minutes=minutes,
        )

    Ticket.objects.bulk_create(resolved(100 + i, now - dt.timedelta(days=5)) for i in range(20))
    live = Ticket.objects.bulk_create(resolved(1000, now - dt.timedelta(minutes=5)) for _ in range(21))
    _run_job_over_everything_but_the_raw_days()
    f = _filters(_today() - dt.timedelta(days=SPAN), _today(), "")
    account = IssueCategory.values.index("ACCOUNT")
    assert charts.median_resolution_by_category(f)["datasets"][0]["data"][account] == 1000  # the 21st of 41

    reopened = []

    def reopen_after_the_buckets(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "resolution_histogram" in sql and not reopened:  # the buckets query
            reopened.append(
                Ticket.objects.filter(pk__in=[t.pk for t in live]).update(
                    status=TicketStatus.OPEN, resolved_at=None, resolution_time_minutes=None
                )
            )
        return result

    with connection.execute_wrapper(reopen_after_the_buckets):
        data = charts.median_resolution_by_category(f)["datasets"][0]["data"]
    assert reopened == [21]
    assert data[account] == 109.5  # the 10th and 11th of the 20 left
