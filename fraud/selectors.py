"""Reads of the fraud tables that several callers share.

:func:`is_blocked` and :func:`blocked_customer_ids` are the access check the platform's
other services call before letting a customer order or pay; :func:`order_decision` is the
same check with its reasons, in one query, for order approval (the service API). The queues, the customer
page's panels and the alert and trust-score pages read through the rest.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet
from django.db.models.functions import JSONObject
from django.utils import timezone

from analytics.selectors import LinkedAccount, linked_accounts
from customer_ops.choices import CustomerStatus, ServiceType
from customer_ops.models import Customer
from customer_ops.statements import STAND_IN, TIME_STAND_IN, among_ids, bind, compiled, kept_tuples
from fraud import conf
from fraud.choices import BlockType, RiskLevel
from fraud.models import SEVERITY_RANK, Block, FraudAlert, SuspiciousActivity, TrustScore

# --- blocks ------------------------------------------------------------------------------


def in_force_q(at: dt.datetime | None = None, prefix: str = "") -> Q:
    """The condition for a block that applies at ``at`` (default: now).

    A block applies from ``blocked_at`` until it is lifted (``is_unblocked``). A timed block
    (``blocked_until`` set) also ends when it expires *if* it has ``auto_unblock``: it is
    over from that moment, whether or not ``unblock_expired`` has run yet. A timed block
    without ``auto_unblock`` stays in force after ``blocked_until`` until someone lifts it
    (the date is when it is due for review, not when it ends).
    """
    at = at or timezone.now()
    p = prefix
    return Q(**{f"{p}is_unblocked": False, f"{p}blocked_at__lte": at}) & (
        Q(**{f"{p}blocked_until__isnull": True}) | Q(**{f"{p}blocked_until__gt": at}) | Q(**{f"{p}auto_unblock": False})
    )


# "Ending soon": the home page's tile and the blocks list's filter.
ENDING_WITHIN = dt.timedelta(hours=24)


def blocks_ending_q(at: dt.datetime | None = None) -> Q:
    """Blocks in force whose end date (``blocked_until``) falls within :data:`ENDING_WITHIN`:
    they lift on their own (``auto_unblock``) or come up for review then."""
    at = at or timezone.now()
    return in_force_q(at) & Q(blocked_until__gt=at, blocked_until__lte=at + ENDING_WITHIN)


def block_in_force(block: Block, at: dt.datetime | None = None) -> bool:
    """:func:`in_force_q` for one loaded row, without a query (list pages)."""
    at = at or timezone.now()
    if block.is_unblocked or block.blocked_at > at:
        return False
    return block.blocked_until is None or block.blocked_until > at or not block.auto_unblock


def _covers_q(service_type: str | None, *, payment: bool) -> Q:
    """The blocks that deny access to ``service_type`` (``None``: the platform as a whole).

    * ``ACCOUNT_BLOCK``: everything, whatever its service type.
    * ``SERVICE_BLOCK``: its service, or every service when its service type is empty.
    * ``PAYMENT_BLOCK``: paying only (``payment=True``), for its service or every service.
    """
    if service_type is None:
        scope = Q(service_type__isnull=True)
    else:
        if service_type not in ServiceType.values:
            raise ValueError(f"Unknown service type {service_type!r}")
        scope = Q(service_type__isnull=True) | Q(service_type=service_type)
    types = [BlockType.SERVICE_BLOCK] + ([BlockType.PAYMENT_BLOCK] if payment else [])
    return Q(block_type=BlockType.ACCOUNT_BLOCK) | (Q(block_type__in=types) & scope)


def blocks_in_force(
    customer_ids: Iterable[int], service_type: str | None = None, *, payment: bool = False, at=None
) -> QuerySet[Block]:
    """The blocks that deny the customers access (see :func:`is_blocked`)."""
    return Block.objects.filter(
        in_force_q(at), _covers_q(service_type, payment=payment), customer_id__in=list(customer_ids)
    )


def blocked_customer_ids(
    customer_ids: Iterable[int], service_type: str | None = None, *, payment: bool = False, at=None
) -> set[int]:
    """The bulk form of :func:`is_blocked`: which of ``customer_ids`` are blocked. One query.

    Served by ``customer_blocks_active_idx`` (customer, block_type) WHERE NOT is_unblocked.
    """
    ids = list(customer_ids)
    if not ids:
        return set()
    return set(
        blocks_in_force(ids, service_type, payment=payment, at=at).values_list("customer_id", flat=True).distinct()
    )


def is_blocked(customer, service_type: str | None = None, *, payment: bool = False, at=None) -> bool:
    """The platform's access check: may this customer not use ``service_type`` now?

    ``customer`` is a Customer or its id; ``service_type`` is ``FOOD``, ``PARCEL``, ``RIDE``
    or ``None`` (the account as a whole: only account blocks and all-service blocks count).
    ``payment=True`` asks whether the customer may not *pay* for that service, which payment
    blocks deny too. Any one block in force is enough, however many overlap; lifted blocks,
    blocks not started yet and expired auto-unblock blocks never count (see
    :func:`in_force_q`). ``at`` asks about another moment (default now).
    """
    customer_id = getattr(customer, "pk", customer)
    return customer_id in blocked_customer_ids([customer_id], service_type, payment=payment, at=at)


def active_blocks(customer, *, at: dt.datetime | None = None) -> QuerySet[Block]:
    """Every block in force for a customer (now, or ``at``), of any type (the customer page's panel)."""
    return Block.objects.filter(in_force_q(at), customer_id=getattr(customer, "pk", customer)).order_by(
        "-blocked_at", "-id"
    )


# --- queues ------------------------------------------------------------------------------


def alert_queue() -> QuerySet[FraudAlert]:
    """Unresolved alerts, most severe first, then oldest first (the triage queue).

    Served by ``fraud_alerts_triage_idx`` (the rank expression, then age; partial on ``NOT is_resolved``).
    """
    return (
        FraudAlert.objects.filter(is_resolved=False)
        .annotate(severity_rank=SEVERITY_RANK)
        .order_by("severity_rank", "created_at", "id")
    )


def suspicious_review_queue() -> QuerySet[SuspiciousActivity]:
    """Rows that require review and are not reviewed, oldest first (``suspicious_review_queue_idx``)."""
    return SuspiciousActivity.objects.filter(requires_review=True, reviewed=False).order_by("created_at", "id")


# --- linked accounts -----------------------------------------------------------------------


@dataclass
class SignalGroup:
    """The accounts that share one device id or IP address with the customer."""

    kind: str  # "device_id" or "ip_address"
    value: str
    customer_ids: list[int] = field(default_factory=list)
    blocked: int = 0
    average_trust: float | None = None

    @property
    def label(self) -> str:
        return "device" if self.kind == "device_id" else "IP address"


@dataclass
class LinkedSummary:
    accounts: list[LinkedAccount]
    blocked_ids: set[int]
    trust_by_id: dict[int, float]
    groups: list[SignalGroup]
    second_hop: list[LinkedAccount]

    @property
    def direct(self) -> list[LinkedAccount]:
        return [a for a in self.accounts if a.hops == 1]

    @property
    def all_ids(self) -> list[int]:
        return [a.customer_id for a in self.accounts]

    @property
    def blocked_count(self) -> int:
        return len(self.blocked_ids)

    @property
    def average_trust(self) -> float | None:
        scores = [self.trust_by_id[i] for i in self.all_ids if i in self.trust_by_id]
        return round(sum(scores) / len(scores), 1) if scores else None


# Kept statements (customer_ops.statements): the trust and alert pages read them every time.
@kept_tuples(Block, "ids", "at")
def _blocked_among():
    # Any block in force counts as "blocked" here, payment blocks included (as in the engine).
    return Block.objects.filter(in_force_q(TIME_STAND_IN), among_ids(Block, "customer_id")).values_list("customer_id")


@kept_tuples(TrustScore, "ids")
def _trust_among():
    return TrustScore.objects.filter(among_ids(TrustScore, "customer_id")).values_list("customer_id", "trust_score")


def linked_summary(customer, *, limit: int | None = None) -> LinkedSummary:
    """Linked accounts with their blocks and trust: "4 accounts share this device: 2 blocked,
    average trust 31". Three queries whatever the number of accounts."""
    customer_id = getattr(customer, "pk", customer)
    accounts = linked_accounts(customer_id, limit=limit or conf.LINKED_ACCOUNTS_LIMIT)
    ids = [a.customer_id for a in accounts]
    blocked: set[int] = set()
    trust: dict[int, float] = {}
    if ids:
        blocked = {cid for (cid,) in _blocked_among(ids=ids, at=timezone.now())}
        trust = {cid: float(score) for cid, score in _trust_among(ids=ids)}
    groups: dict[tuple[str, str], SignalGroup] = {}
    for account in accounts:
        if account.hops != 1:
            continue
        for kind, values in (("device_id", account.device_ids), ("ip_address", account.ip_addresses)):
            for value in values:
                group = groups.setdefault((kind, value), SignalGroup(kind=kind, value=value))
                group.customer_ids.append(account.customer_id)
    for group in groups.values():
        group.blocked = sum(1 for i in group.customer_ids if i in blocked)
        scores = [trust[i] for i in group.customer_ids if i in trust]
        group.average_trust = round(sum(scores) / len(scores), 1) if scores else None
    ordered = sorted(groups.values(), key=lambda g: (g.kind != "device_id", -len(g.customer_ids), g.value))
    return LinkedSummary(
        accounts=accounts,
        blocked_ids=blocked,
        trust_by_id=trust,
        groups=ordered,
        second_hop=[a for a in accounts if a.hops == 2],
    )


def open_alert_counts(customer) -> dict[str, int]:
    """Open alerts of a customer by severity (customer page). One grouped query."""
    return dict(_open_alert_counts(pk=getattr(customer, "pk", customer)))


@kept_tuples(FraudAlert, "pk")
def _open_alert_counts():
    return (
        FraudAlert.objects.filter(customer_id=STAND_IN, is_resolved=False)
        .values_list("alert_severity")
        .annotate(n=Count("id"))
        .order_by()
    )


# --- the order-time decision ---------------------------------------------------------------


@dataclass(frozen=True)
class DecisionBlock:
    """A block in force that covers the service asked about: its type, its service (None:
    every service) and when it ends (None: permanent, or until someone lifts it)."""

    block_type: str
    service_type: str | None
    until: dt.datetime | None


@dataclass(frozen=True)
class OrderDecision:
    """May the customer order ``service`` now, and why (order approval, before every order).

    ``may_order`` is false when the customer's account is not active or a block in force
    denies ordering the service (an account block, a service block of that service or of
    every service: :func:`is_blocked`), or the customer's risk level is one that
    :data:`fraud.conf.DECISION_REFUSED_RISK_LEVELS` refuses (none by default). ``may_pay``
    is false as well under a payment block (``is_blocked(payment=True)``). ``blocks`` lists
    every block in force covering the service, payment blocks included. The scores are
    those of ``customer_trust_score`` (the spec's defaults when it has no row yet).
    """

    customer_id: int
    service: str
    may_order: bool
    may_pay: bool
    customer_status: str
    blocks: tuple[DecisionBlock, ...]
    risk_level: str
    trust_score: Decimal
    fraud_score: Decimal
    requires_review: bool


_DECISION_COLUMNS = (
    "status",
    "blocks_in_force",
    "trust_score__risk_level",
    "trust_score__trust_score",
    "trust_score__fraud_score",
    "trust_score__requires_review",
)


def _decision_query(customer_id, service: str, at: dt.datetime) -> QuerySet:
    """The decision's one query: the customer's row, its trust score (a left join on the
    unique ``customer_id``) and its blocks in force for the service or every service (an
    array subquery on ``customer_blocks_active_idx``), by :func:`in_force_q` and the same
    coverage as :func:`is_blocked`."""
    blocks = (
        Block.objects.filter(in_force_q(at), _covers_q(service, payment=True), customer_id=OuterRef("pk"))
        .order_by("blocked_at", "id")
        .values(json=JSONObject(type="block_type", service="service_type", until="blocked_until"))
    )
    return (
        Customer.objects.filter(pk=customer_id)
        .annotate(blocks_in_force=ArraySubquery(blocks))
        .values(*_DECISION_COLUMNS)
        .order_by()
    )


# The SELECT's column names, as the values() keys above.
_DECISION_NAMES = {name.removeprefix("trust_score__"): name for name in _DECISION_COLUMNS}


# Stand-ins compiled into the statement once per service, then swapped for each call's own
# values (customer_ops.statements): building and compiling the queryset costs more than
# PostgreSQL takes to answer it, on the path of every order (bench/api_load.py).
@functools.cache
def _decision_statement(service: str) -> tuple[str, tuple]:
    sql, params = compiled(_decision_query(STAND_IN, service, TIME_STAND_IN))
    assert TIME_STAND_IN in params, "the time's stand-in must reach the statement"
    return sql, params


def order_decision(customer_id: int, service: str, *, at: dt.datetime | None = None) -> OrderDecision | None:
    """The order-time decision for ``customer_id`` and ``service`` (FOOD, PARCEL, RIDE), or
    None for an unknown customer. One query: the customer, its trust score (a left join on
    the unique ``customer_id``) and its blocks in force for the service or every service
    (an array subquery on ``customer_blocks_active_idx``), by :func:`in_force_q` and the
    same coverage as :func:`is_blocked`."""
    if service not in ServiceType.values:
        raise ValueError(f"Unknown service type {service!r}")
    sql, params = _decision_statement(service)
    with connection.cursor() as cursor:
        cursor.execute(sql, bind(params, pk=customer_id, at=at or timezone.now()))
        found_row = cursor.fetchone()
        # By the columns' names: Django puts the annotation after the fields in the SELECT.
        names = [_DECISION_NAMES.get(column.name, column.name) for column in cursor.description]
        row = dict(zip(names, found_row, strict=True)) if found_row is not None else None
    if row is None:
        return None
    found = tuple(
        DecisionBlock(
            block_type=b["type"],
            service_type=b["service"],
            until=dt.datetime.fromisoformat(b["until"]) if b["until"] else None,
        )
        for b in (json.loads(b) if isinstance(b, str) else b for b in row["blocks_in_force"] or ())
    )
    risk = row["trust_score__risk_level"] or RiskLevel.LOW.value
    ordering_blocked = any(b.block_type != BlockType.PAYMENT_BLOCK for b in found)
    may_order = (
        row["status"] == CustomerStatus.ACTIVE
        and not ordering_blocked
        and risk not in conf.DECISION_REFUSED_RISK_LEVELS
    )
    return OrderDecision(
        customer_id=customer_id,
        service=service,
        may_order=may_order,
        may_pay=may_order and not found,
        customer_status=row["status"],
        blocks=found,
        risk_level=risk,
        trust_score=_or(row["trust_score__trust_score"], TrustScore, "trust_score"),
        fraud_score=_or(row["trust_score__fraud_score"], TrustScore, "fraud_score"),
        requires_review=bool(row["trust_score__requires_review"]),
    )


def _or(value, model, field: str) -> Decimal:
    """A score, or the spec's default for a customer without a trust-score row yet."""
    return value if value is not None else Decimal(model._meta.get_field(field).default)
