"""The trust-score formulas for one customer, in Python, and the explanation page's data.

``fraud.jobs`` computes the same formulas for many customers at once in SQL; both read the
weights and thresholds from :mod:`fraud.conf` (where the formulas are documented), and a
test proves they give the same results. The inputs always come from the same SQL
(:func:`fraud.jobs.trust_inputs`), so "what went in" is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from fraud import conf

TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TrustInputs:
    """What the engine read for one customer."""

    customer_id: int
    orders: int = 0
    completed_orders: int = 0
    cancelled_orders: int = 0
    payment_failures: int = 0
    complaints_raised: int = 0
    complaints_rejected: int = 0
    verified_types: int = 0
    open_alerts: int = 0
    alert_points: Decimal = Decimal(0)
    severe_open_alerts: int = 0
    unreviewed_suspicious: int = 0
    blocked_linked_accounts: int = 0
    is_fraudulent: bool = False


@dataclass(frozen=True)
class Scores:
    payment_reliability_score: Decimal | None
    order_completion_score: Decimal | None
    false_complaint_score: Decimal | None
    verification_score: Decimal
    base: Decimal
    signal_points: Decimal
    trust_score: Decimal
    fraud_score: Decimal
    risk_level: str
    is_suspicious: bool
    requires_review: bool

    def as_row(self) -> dict:
        """The stored columns, as ``customer_trust_score`` holds them."""
        return {
            "trust_score": self.trust_score,
            "fraud_score": self.fraud_score,
            "risk_level": self.risk_level,
            "payment_reliability_score": self.payment_reliability_score,
            "order_completion_score": self.order_completion_score,
            "false_complaint_score": self.false_complaint_score,
            "verification_score": self.verification_score,
            "is_suspicious": self.is_suspicious,
            "requires_review": self.requires_review,
        }


def _round(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)  # PostgreSQL's round(numeric, 2)


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if denominator <= 0:
        return None
    return _round(HUNDRED * numerator / Decimal(denominator))


def _clamp(value: Decimal) -> Decimal:
    return min(max(value, Decimal(0)), HUNDRED)


def risk_level_for(fraud_score: Decimal, *, is_fraudulent: bool = False) -> str:
    if is_fraudulent:
        return "CRITICAL"
    for level, threshold in conf.RISK_THRESHOLDS:
        if fraud_score >= threshold:
            return level
    return conf.LOWEST_RISK_LEVEL


def compute(inputs: TrustInputs) -> Scores:
    components = {
        "payment_reliability_score": _ratio(inputs.orders, inputs.orders + inputs.payment_failures),
        "order_completion_score": _ratio(inputs.completed_orders, inputs.completed_orders + inputs.cancelled_orders),
        "false_complaint_score": _ratio(
            inputs.complaints_raised - inputs.complaints_rejected, inputs.complaints_raised
        ),
        "verification_score": _ratio(inputs.verified_types, conf.VERIFICATION_TYPE_COUNT),
    }
    weights = conf.COMPONENT_WEIGHTS
    no_data = conf.NO_DATA_COMPONENT_SCORE
    weighted = sum(
        (weights[name] * (no_data if value is None else value) for name, value in components.items()), Decimal(0)
    )
    base = weighted / sum(weights.values(), Decimal(0))
    signals = (
        Decimal(inputs.alert_points)
        + conf.SUSPICIOUS_ACTIVITY_POINTS * inputs.unreviewed_suspicious
        + conf.BLOCKED_LINKED_ACCOUNT_POINTS * inputs.blocked_linked_accounts
    )
    trust = _round(_clamp(base - conf.TRUST_SIGNAL_FACTOR * signals))
    fraud = _round(_clamp(conf.FRAUD_BASE_FACTOR * (HUNDRED - base) + signals))
    risk = risk_level_for(fraud, is_fraudulent=inputs.is_fraudulent)
    return Scores(
        **components,
        base=base,
        signal_points=signals,
        trust_score=trust,
        fraud_score=fraud,
        risk_level=risk,
        is_suspicious=fraud >= conf.SUSPICIOUS_THRESHOLD or inputs.severe_open_alerts > 0,
        requires_review=risk in conf.REVIEW_RISK_LEVELS and (inputs.open_alerts + inputs.unreviewed_suspicious) > 0,
    )


# --- the explanation page ---------------------------------------------------------------


@dataclass(frozen=True)
class ComponentExplanation:
    field: str
    label: str
    value: Decimal | None
    weight: Decimal
    formula: str
    inputs: str


def explain(inputs: TrustInputs, scores: Scores) -> list[ComponentExplanation]:
    """Each component with the inputs that produce it, in words."""
    w = conf.COMPONENT_WEIGHTS
    i = inputs
    return [
        ComponentExplanation(
            "payment_reliability_score",
            "Payment reliability",
            scores.payment_reliability_score,
            w["payment_reliability_score"],
            "100 × orders / (orders + payment failures)",
            f"{i.orders} orders, {i.payment_failures} payment failures in the activity log",
        ),
        ComponentExplanation(
            "order_completion_score",
            "Order completion",
            scores.order_completion_score,
            w["order_completion_score"],
            "100 × completed / (completed + cancelled)",
            f"{i.completed_orders} completed, {i.cancelled_orders} cancelled "
            f"({i.orders - i.completed_orders - i.cancelled_orders} still in progress, not counted)",
        ),
        ComponentExplanation(
            "false_complaint_score",
            "False complaints",
            scores.false_complaint_score,
            w["false_complaint_score"],
            "100 × (1 − rejected / raised), disputes and refund requests",
            f"{i.complaints_raised} raised, {i.complaints_rejected} rejected",
        ),
        ComponentExplanation(
            "verification_score",
            "Verification",
            scores.verification_score,
            w["verification_score"],
            f"100 × verified types / {conf.VERIFICATION_TYPE_COUNT}",
            f"{i.verified_types} of {conf.VERIFICATION_TYPE_COUNT} verification types with a SUCCESS",
        ),
    ]


def signal_lines(inputs: TrustInputs) -> list[tuple[str, Decimal]]:
    """The signal points and where they come from."""
    return [
        (f"{inputs.open_alerts} open fraud alert(s), by severity", Decimal(inputs.alert_points)),
        (
            f"{inputs.unreviewed_suspicious} suspicious activit(y/ies) awaiting review "
            f"× {conf.SUSPICIOUS_ACTIVITY_POINTS}",
            conf.SUSPICIOUS_ACTIVITY_POINTS * inputs.unreviewed_suspicious,
        ),
        (
            f"{inputs.blocked_linked_accounts} blocked account(s) sharing a device × "
            f"{conf.BLOCKED_LINKED_ACCOUNT_POINTS}",
            conf.BLOCKED_LINKED_ACCOUNT_POINTS * inputs.blocked_linked_accounts,
        ),
    ]


# --- how the score moved between recalculations ------------------------------------------

COMPONENT_LABELS = {
    "payment_reliability_score": "Payment reliability",
    "order_completion_score": "Order completion",
    "false_complaint_score": "False complaints",
    "verification_score": "Verification",
}
SIGNALS_LABEL = "Alerts, suspicious activity, linked accounts"


@dataclass(frozen=True)
class Movement:
    """One recalculation that moved the score, compared with the one before it."""

    record: object  # the historical row
    trust_delta: Decimal | None
    fraud_delta: Decimal | None
    component_deltas: dict[str, Decimal | None]
    driver: str | None  # what moved the trust score most

    @property
    def components(self) -> list[tuple[str, Decimal | None, Decimal | None]]:
        """(label, value, change) of each component, in the page's order."""
        return [
            (label, getattr(self.record, name), self.component_deltas.get(name))
            for name, label in COMPONENT_LABELS.items()
        ]


def _effective(value) -> Decimal:
    return conf.NO_DATA_COMPONENT_SCORE if value is None else Decimal(value)


def movements(records: list) -> list[Movement]:
    """``records`` newest first (a trust score's history); each compared with the previous one.

    The driver is the component whose weighted change moved the trust score most; what the
    components do not explain came from the signal points.
    """
    total_weight = sum(conf.COMPONENT_WEIGHTS.values(), Decimal(0))
    result = []
    # A score written outside the engine (a bulk load) has no history: nothing to compare.
    for newer, older in zip(records, [*records[1:], None][: len(records)], strict=True):
        if older is None:
            result.append(Movement(newer, None, None, dict.fromkeys(COMPONENT_LABELS), None))
            continue
        deltas, contributions = {}, {}
        for name in COMPONENT_LABELS:
            new, old = getattr(newer, name), getattr(older, name)
            deltas[name] = None if new is None or old is None else new - old
            contributions[COMPONENT_LABELS[name]] = (
                conf.COMPONENT_WEIGHTS[name] / total_weight * (_effective(new) - _effective(old))
            )
        trust_delta = newer.trust_score - older.trust_score
        contributions[SIGNALS_LABEL] = trust_delta - sum(contributions.values(), Decimal(0))
        label, size = max(contributions.items(), key=lambda kv: abs(kv[1]))
        result.append(
            Movement(
                newer,
                trust_delta,
                newer.fraud_score - older.fraud_score,
                deltas,
                label if abs(size) >= Decimal("0.01") else None,
            )
        )
    return result
