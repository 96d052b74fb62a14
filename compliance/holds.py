"""Legal holds: derived from the data, never typed in.

An open dispute, an unresolved fraud alert or an unfinished refund holds the records it
needs from erasure until it closes. Each rule names its source model and, for every model
whose rows it holds, the lookup from that model to the source rows (``""``: the source row
itself). Models are named by label, so ``compliance`` imports no other app; a test checks
that every label and lookup resolves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.db import connection, models
from django.db.models import F, Window
from django.db.models.functions import Cast, RowNumber

from customer_ops.personal_data import declaration_for
from customer_ops.statements import STAND_IN, bound, compiled


@dataclass(frozen=True)
class HoldRule:
    source: str  # "app_label.Model"
    open: models.Q  # which source rows are still open
    reason: str
    label_field: str  # how a source row is named in the plan ("dispute_id")
    holds: dict[str, str] = field(default_factory=dict)  # target model label -> lookup to the source


HOLD_RULES: list[HoldRule] = [
    HoldRule(
        source="tickets.Dispute",
        open=~models.Q(dispute_status__in=["RESOLVED", "REJECTED"]),
        reason="open dispute",
        label_field="dispute_id",
        holds={
            "tickets.Dispute": "",
            "tickets.Ticket": "disputes",
            "tickets.TicketMessage": "ticket__disputes",
            "customer_ops.Order": "disputes",
            # The legal case needs to identify the claimant.
            "customer_ops.Customer": "disputes",
        },
    ),
    HoldRule(
        source="fraud.FraudAlert",
        open=models.Q(is_resolved=False),
        reason="unresolved fraud alert",
        label_field="id",
        holds={"fraud.FraudAlert": "", "customer_ops.Order": "fraud_alerts", "customer_ops.Customer": "fraud_alerts"},
    ),
    HoldRule(
        source="tickets.RefundRequest",
        open=models.Q(refund_status__in=["PENDING", "APPROVED", "PROCESSING"]),
        reason="unfinished refund",
        label_field="refund_request_id",
        holds={"tickets.RefundRequest": "", "customer_ops.Order": "refund_requests"},
    ),
]


def _open_sources(rule: HoldRule, customer_id: int) -> models.QuerySet:
    source = apps.get_model(rule.source)
    path = declaration_for(source).customer_path
    return source._default_manager.filter(rule.open, **{path: customer_id})


def hold_reason_prefix(rule: HoldRule) -> str:
    """What a held row's reason says before the source row's label."""
    return f"legal hold: {rule.reason} "


def held_pairs(model: type[models.Model], customer_id: int) -> list[tuple[HoldRule, models.QuerySet]]:
    """Per rule that holds ``model``'s rows: the (primary key, source label) pairs it holds
    for ``customer_id``, as a queryset (the erasure's plan compiles them into one statement)."""
    found = []
    for rule in HOLD_RULES:
        lookup = rule.holds.get(model._meta.label)
        if lookup is None:
            continue
        sources = _open_sources(rule, customer_id)
        if lookup == "":
            pairs = sources.values_list("pk", rule.label_field)
        else:
            pairs = (
                model._default_manager.filter(**{f"{lookup}__in": sources.values("pk")})
                .values_list("pk", f"{lookup}__{rule.label_field}")
                .distinct()
            )
        found.append((rule, pairs.order_by()))
    return found


def held_rows(model: type[models.Model], customer_id: int) -> dict[int, str]:
    """Primary keys of ``model``'s rows held for ``customer_id``, each with its reason(s)."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for rule, pairs in held_pairs(model, customer_id):
        for pk, label in pairs:
            reasons[pk].append(f"{hold_reason_prefix(rule)}{label}")
    return {pk: "; ".join(sorted(set(r))) for pk, r in reasons.items()}


def open_holds(customer_id: int) -> list[str]:
    """Every open hold of the customer, named (shown on the request): rule by rule, each
    rule's source rows in their model's order. One statement, compiled once per process."""
    sql, params = _open_holds_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, bound(params, customer_id))
        return [f"{HOLD_RULES[rule].reason} {label}" for rule, label, _ in cursor.fetchall()]


@cache
def _open_holds_statement() -> tuple[str, tuple]:
    parts, params = [], []
    for number, rule in enumerate(HOLD_RULES):
        source = apps.get_model(rule.source)
        order = [F(name[1:]).desc() if name.startswith("-") else F(name).asc() for name in source._meta.ordering]
        named = (
            _open_sources(rule, STAND_IN)
            .annotate(
                hold_label=Cast(rule.label_field, models.TextField()),
                hold_position=Window(RowNumber(), order_by=order or [F("pk").asc()]),
            )
            .values_list("hold_label", "hold_position")
            .order_by()
        )
        sql, part_params = compiled(named)
        parts.append(f"(SELECT {number} AS rule, h.label, h.position FROM ({sql}) AS h(label, position))")
        params += part_params
    return " UNION ALL ".join(parts) + " ORDER BY rule, position", tuple(params)


def rule_key(rule: HoldRule) -> str:
    """A URL-safe name of the rule ("open_dispute"): the deletion requests' "held" filter."""
    return rule.reason.replace(" ", "_")


def held_requests(qs: models.QuerySet, rule: HoldRule) -> models.QuerySet:
    """The deletion requests of ``qs`` whose customer ``rule`` holds (an open source row),
    one EXISTS per request through the source's customer index."""
    source = apps.get_model(rule.source)
    path = declaration_for(source).customer_path
    return qs.filter(models.Exists(source._default_manager.filter(rule.open, **{path: models.OuterRef("customer_id")})))
