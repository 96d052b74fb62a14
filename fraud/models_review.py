"""The review queues' own tables: who holds an alert or a suspicious activity (a claim), and
what the analyst decided about an alert (the outcome). Not spec tables: the spec's alert and
activity rows keep exactly their columns; these sit beside them, one row per alert or
activity, keyed to it (``fraud.services_review`` is their one write path).

A claim is held until ``claimed_until`` (60 minutes, :data:`fraud.conf.CLAIM_MINUTES`): it
ends with the decision, or lapses, after which anyone may take the row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from customer_ops import db
from customer_ops.personal_data import ENUM, SCRUB, Export, PersonalData
from fraud.choices import AlertOutcome, AlertReasonCode, AlertType

WITHHELD = (
    "The fraud team's internal review record: withheld for fraud prevention (art. 23(1)(d)) and as it names staff."
)


class _Claim(db.QuickLoad):
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def is_live(self, now) -> bool:
        """Someone holds the row: a claim that has not lapsed (as ``live_claim_q`` in SQL)."""
        return self.claimed_by_id is not None and self.claimed_until is not None and self.claimed_until > now

    def held_by_other(self, user, now) -> bool:
        return self.is_live(now) and self.claimed_by_id != getattr(user, "pk", None)


class AlertReview(_Claim):
    """``fraud_alert_reviews``: the claim on an open alert, then its decision.

    ``alert_type`` and ``model_version`` (the evidence's ``model_version``) are copied here
    when the alert is decided, so the precision report reads this table alone, by decision
    date (``alert_reviews_decided_idx``); both are fixed once the alert exists.
    """

    alert = models.OneToOneField(
        "fraud.FraudAlert", on_delete=models.PROTECT, primary_key=True, related_name="review", db_column="alert_id"
    )
    outcome = models.TextField(choices=AlertOutcome.choices, blank=True, default="", db_default="")
    reason_code = models.TextField(choices=AlertReasonCode.choices, blank=True, default="", db_default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    alert_type = models.TextField(choices=AlertType.choices, blank=True, default="", db_default="")
    model_version = models.TextField(blank=True, default="", db_default="")
    updated_at = db.updated_at()

    personal_data = PersonalData(
        customer_path="alert__customer",
        text={
            "outcome": ENUM,
            "reason_code": ENUM,
            "alert_type": ENUM,
            "model_version": SCRUB,
        },
        keep_rows="The decision on a fraud alert: codes and dates only, kept with the alert for fraud prevention.",
        export=Export(columns=(), withheld=WITHHELD),
    )

    class Meta:
        db_table = "fraud_alert_reviews"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome="") | models.Q(outcome__in=AlertOutcome.values),
                name="fraud_alert_reviews_outcome_valid",
                violation_error_message=f"outcome must be empty or one of {', '.join(AlertOutcome.values)}.",
            ),
            models.CheckConstraint(
                condition=models.Q(reason_code="") | models.Q(reason_code__in=AlertReasonCode.values),
                name="fraud_alert_reviews_reason_code_valid",
                violation_error_message=f"reason_code must be empty or one of {', '.join(AlertReasonCode.values)}.",
            ),
            # A decision always has its outcome, reason, author and time; a claim has both halves.
            models.CheckConstraint(
                condition=models.Q(outcome="", decided_at__isnull=True)
                | (~models.Q(outcome="") & ~models.Q(reason_code="") & models.Q(decided_at__isnull=False)),
                name="fraud_alert_reviews_decision_whole",
                violation_error_message="A decision records its outcome, reason code and time.",
            ),
            models.CheckConstraint(
                condition=models.Q(claimed_by__isnull=True) | models.Q(claimed_until__isnull=False),
                name="fraud_alert_reviews_claim_whole",
            ),
        ]
        indexes = [
            # The precision report and tile: decisions in a period, grouped by type and version.
            models.Index(
                fields=["decided_at"],
                include=["alert_type", "model_version", "outcome"],
                name="alert_reviews_decided_idx",
                condition=~models.Q(outcome=""),
            ),
            # "Take next": skip alerts somebody holds (NOT EXISTS on live claims).
            models.Index(
                fields=["alert", "claimed_until"],
                name="alert_reviews_live_idx",
                condition=models.Q(claimed_by__isnull=False),
            ),
        ]
        permissions = [
            ("reassign_review_claims", "Can reassign claimed alerts and suspicious activities"),
            ("bulk_decide_alerts", "Can decide several fraud alerts at once"),
        ]

    def __str__(self) -> str:
        return f"Review of alert #{self.alert_id}"


class ActivityClaim(_Claim):
    """``fraud_activity_claims``: who holds a suspicious activity awaiting review."""

    activity = models.OneToOneField(
        "fraud.SuspiciousActivity",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="claim",
        db_column="activity_id",
    )
    updated_at = db.updated_at()

    personal_data = PersonalData(
        customer_path="activity__customer",
        keep_rows="Who holds a suspicious activity for review: ids and times only.",
        export=Export(columns=(), withheld=WITHHELD),
    )

    class Meta:
        db_table = "fraud_activity_claims"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(claimed_by__isnull=True) | models.Q(claimed_until__isnull=False),
                name="fraud_activity_claims_claim_whole",
            ),
        ]
        indexes = [
            models.Index(
                fields=["activity", "claimed_until"],
                name="activity_claims_live_idx",
                condition=models.Q(claimed_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Claim on suspicious activity #{self.activity_id}"
