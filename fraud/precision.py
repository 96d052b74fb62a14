"""Alert precision: of the alerts decided in a period, how many were fraud.

precision = confirmed fraud ÷ decided, where *decided* counts the outcomes that answer the
question (confirmed fraud, false positive, legitimate); an inconclusive decision answers
nothing and is counted beside them, not in the denominator. Grouped by alert type and by the
detection model's version (the alert evidence's ``model_version``, copied to the decision),
so the ML team sees which alerts waste analysts' time.

One aggregate over ``fraud_alert_reviews`` read through ``alert_reviews_decided_idx``
(decision time, covering the grouped columns): bounded by the decisions in the period, not
by the alerts ever raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from fraud.choices import AlertOutcome, AlertType
from fraud.models_review import AlertReview

NO_VERSION = "(no model_version)"


@dataclass(frozen=True)
class PrecisionRow:
    key: str
    label: str
    confirmed: int
    false_positive: int
    legitimate: int
    inconclusive: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.false_positive + self.legitimate

    @property
    def precision(self) -> Decimal | None:
        """Percent, one decimal; None when nothing was decided."""
        if not self.decided:
            return None
        return (Decimal(100 * self.confirmed) / self.decided).quantize(Decimal("0.1"), ROUND_HALF_UP)


def decisions(start: dt.datetime, end: dt.datetime):
    """Alert decisions made in [start, end)."""
    return AlertReview.objects.exclude(outcome="").filter(decided_at__gte=start, decided_at__lt=end)


def _counts():
    return {
        "confirmed": Count("pk", filter=Q(outcome=AlertOutcome.CONFIRMED_FRAUD)),
        "false_positive": Count("pk", filter=Q(outcome=AlertOutcome.FALSE_POSITIVE)),
        "legitimate": Count("pk", filter=Q(outcome=AlertOutcome.LEGITIMATE)),
        "inconclusive": Count("pk", filter=Q(outcome=AlertOutcome.INCONCLUSIVE)),
    }


def _rows(qs, field: str, label) -> list[PrecisionRow]:
    grouped = qs.order_by().values(field).annotate(**_counts()).order_by(field)
    return [
        PrecisionRow(
            key=row[field],
            label=label(row[field]),
            confirmed=row["confirmed"],
            false_positive=row["false_positive"],
            legitimate=row["legitimate"],
            inconclusive=row["inconclusive"],
        )
        for row in grouped
    ]


def _type_label(value: str) -> str:
    return AlertType(value).label if value in AlertType.values else value


def by_alert_type(start: dt.datetime, end: dt.datetime) -> list[PrecisionRow]:
    return _rows(decisions(start, end), "alert_type", _type_label)


def by_model_version(start: dt.datetime, end: dt.datetime) -> list[PrecisionRow]:
    return _rows(decisions(start, end), "model_version", lambda v: v or NO_VERSION)


def total(rows: list[PrecisionRow]) -> PrecisionRow:
    return PrecisionRow(
        key="",
        label="All alerts",
        confirmed=sum(r.confirmed for r in rows),
        false_positive=sum(r.false_positive for r in rows),
        legitimate=sum(r.legitimate for r in rows),
        inconclusive=sum(r.inconclusive for r in rows),
    )
