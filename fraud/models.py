"""Fraud and trust tables of the spec."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from customer_ops import db
from customer_ops.choices import ServiceType
from customer_ops.personal_data import ENUM, SCRUB, Export, Identifier, PersonalData, Scope
from customer_ops.write_rules import append_only, never_update, touch
from fraud.choices import (
    AlertSeverity,
    AlertType,
    BlockedBy,
    BlockType,
    DetectedBy,
    RiskLevel,
    SuspiciousActivityType,
    VerificationMethod,
    VerificationStatus,
    VerificationType,
)

FRAUD_PREVENTION = (
    "Fraud-prevention record: withheld while disclosure would prejudice the prevention or detection of "
    "fraud (art. 23(1)(d); UK DPA 2018 sch. 2 para. 2). Art. 15(1)(h) information on the scoring is given"
    " in the privacy notice."
)


class _EvidenceHistory(models.Model):
    """Base of the alert and suspicious-activity history tables (named by their migrations).

    Their personal-data declaration is derived from the model's, like every history table's
    (:func:`customer_ops.personal_data.history_declaration`).
    """

    class Meta:
        abstract = True


class _PlainHistory(models.Model):
    """Base of the trust-score and block history tables (named by their migrations)."""

    class Meta:
        abstract = True


class TrustScore(db.RuleBoundModel):
    """``customer_trust_score``: calculated trust and fraud scores, one row per customer."""

    customer = models.OneToOneField("customer_ops.Customer", on_delete=models.PROTECT, related_name="trust_score")
    trust_score = db.score(default=100, db_default=100)
    fraud_score = db.score(default=0, db_default=0)
    risk_level = models.TextField(choices=RiskLevel.choices, default=RiskLevel.LOW, db_default=RiskLevel.LOW)
    payment_reliability_score = db.score(null=True, blank=True)
    order_completion_score = db.score(null=True, blank=True)
    false_complaint_score = db.score(null=True, blank=True)
    verification_score = db.score(null=True, blank=True)
    is_fraudulent = models.BooleanField(default=False, db_default=False)
    is_suspicious = models.BooleanField(default=False, db_default=False)
    requires_review = models.BooleanField(default=False, db_default=False)
    last_calculated_at = models.DateTimeField(null=True, blank=True)
    created_at = db.created_at()
    updated_at = db.updated_at()

    # Rows written by the engine's set-based upsert get their history rows from the same
    # statement (fraud.jobs); saves through the ORM (fraud confirmation) get them from here.
    history = HistoricalRecords(bases=[_PlainHistory])

    personal_data = PersonalData(
        text={"risk_level": ENUM},
        keep_rows="Derived scores hold no personal columns; kept for fraud prevention.",
        export=Export(columns=(), withheld=FRAUD_PREVENTION),
    )

    class Meta:
        db_table = "customer_trust_score"
        ordering = ["trust_score", "id"]
        constraints = [
            db.enum_check("customer_trust_score", "risk_level", RiskLevel),
            *[
                db.range_check("customer_trust_score", f, 0, 100)
                for f in (
                    "trust_score",
                    "fraud_score",
                    "payment_reliability_score",
                    "order_completion_score",
                    "false_complaint_score",
                    "verification_score",
                )
            ],
        ]
        indexes = [
            models.Index(fields=["risk_level", "trust_score"], name="trust_score_risk_idx"),
            models.Index(fields=["trust_score", "id"], name="trust_score_ordering_idx"),  # the admin list's order
            # The admin's flag filters, in the list's (trust_score, id) order.
            db.filter_index("is_suspicious", "trust_score_suspicious_idx", ordering=["trust_score", "id"]),
            db.filter_index("requires_review", "trust_score_review_idx", ordering=["trust_score", "id"]),
            db.filter_index("is_fraudulent", "trust_score_fraudulent_idx", ordering=["trust_score", "id"]),
        ]
        triggers = [never_update("customer", "created_at"), touch()]
        permissions = [
            ("recalculate_trustscore", "Can recalculate trust scores"),
            ("confirm_fraud_trustscore", "Can confirm or clear a customer's fraud flag"),
        ]

    def __str__(self) -> str:
        return f"Trust {self.trust_score} for customer {self.customer_id}"


# Most severe first (CRITICAL 0 ... LOW 3): the triage queue's order and its index's first key.
SEVERITY_RANK = models.Case(
    *[models.When(alert_severity=s, then=models.Value(rank)) for rank, s in enumerate(reversed(AlertSeverity.values))],
    default=models.Value(99),
    output_field=models.IntegerField(),
)


class FraudAlert(db.RuleBoundModel):
    """``customer_fraud_alerts``: alerts generated for suspicious or fraudulent activity."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="fraud_alerts", db_index=False
    )
    order = models.ForeignKey(
        "customer_ops.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="fraud_alerts"
    )
    alert_type = models.TextField(choices=AlertType.choices)
    alert_severity = models.TextField(choices=AlertSeverity.choices)
    alert_description = models.TextField(blank=True, default="", db_default="")
    evidence = models.JSONField(default=dict, db_default={}, blank=True)
    action_taken = models.TextField(blank=True, default="", db_default="")
    action_taken_at = models.DateTimeField(null=True, blank=True)
    action_taken_by = db.staff("action_taken_by")
    is_resolved = models.BooleanField(default=False, db_default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_notes = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    history = HistoricalRecords(bases=[_EvidenceHistory])

    personal_data = PersonalData(
        fields={"evidence": Scope.DEVICES_NETWORK},
        text={
            "alert_type": ENUM,
            "alert_severity": ENUM,
            "alert_description": SCRUB,
            "action_taken": SCRUB,
            "resolution_notes": SCRUB,
        },
        export=Export(columns=(), withheld=FRAUD_PREVENTION),
    )

    class Meta:
        db_table = "customer_fraud_alerts"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_fraud_alerts", "alert_type", AlertType),
            db.enum_check("customer_fraud_alerts", "alert_severity", AlertSeverity),
        ]
        indexes = [
            # The triage queue: unresolved alerts by severity, then age.
            models.Index(
                fields=["alert_severity", "created_at"],
                name="fraud_alerts_unresolved_idx",
                condition=models.Q(is_resolved=False),
            ),
            # The triage queue's own order (severity rank, age): its first page is read from the
            # index, however many alerts are open, instead of sorting them all.
            models.Index(
                SEVERITY_RANK,
                "created_at",
                "id",
                name="fraud_alerts_triage_idx",
                condition=models.Q(is_resolved=False),
            ),
            models.Index(fields=["customer", "-created_at"], name="fraud_alerts_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="fraud_alerts_created_idx"),
            # The admin's list filters (the status filter's "resolved" and "all" included).
            db.filter_index("is_resolved", "fraud_alerts_resolved_idx"),
            db.filter_index("alert_severity", "fraud_alerts_severity_idx"),
            db.filter_index("alert_type", "fraud_alerts_type_idx"),
        ]
        triggers = [never_update("customer", "alert_type", "created_at")]

    def __str__(self) -> str:
        return f"{self.get_alert_type_display()} ({self.alert_severity}) for customer {self.customer_id}"


class Block(db.RuleBoundModel):
    """``customer_blocks``: when a customer is blocked from one service, payments or everything."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="blocks", db_index=False
    )
    block_type = models.TextField(choices=BlockType.choices)
    service_type = models.TextField(
        choices=ServiceType.choices, null=True, blank=True, help_text="Empty means every service."
    )
    block_reason = models.TextField()
    block_reason_code = models.TextField(blank=True, default="", db_default="")
    block_notes = models.TextField(blank=True, default="", db_default="")
    blocked_by = models.TextField(choices=BlockedBy.choices, default=BlockedBy.ADMIN, db_default=BlockedBy.ADMIN)
    blocked_by_staff = db.staff("blocked_by_id")
    blocked_by_name = models.TextField(blank=True, default="", db_default="")
    blocked_at = models.DateTimeField(default=db.timezone.now, db_default=db.Now())
    blocked_until = models.DateTimeField(null=True, blank=True, help_text="Empty means permanent.")
    auto_unblock = models.BooleanField(default=True, db_default=True)
    is_unblocked = models.BooleanField(default=False, db_default=False)
    unblocked_at = models.DateTimeField(null=True, blank=True)
    unblocked_by = db.staff("unblocked_by")
    unblock_reason = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()
    updated_at = db.updated_at()

    history = HistoricalRecords(bases=[_PlainHistory])

    personal_data = PersonalData(
        text={
            "block_type": ENUM,
            "service_type": ENUM,
            "block_reason": SCRUB,
            "block_reason_code": SCRUB,
            "block_notes": SCRUB,
            "blocked_by": ENUM,
            "blocked_by_name": SCRUB,
            "unblock_reason": SCRUB,
        },
        keep_rows="Kept for fraud prevention while a block can still apply; free text is scrubbed.",
        export=Export(
            columns=(
                "id customer_id block_type service_type block_reason_code blocked_by blocked_at "
                "blocked_until auto_unblock is_unblocked unblocked_at created_at updated_at"
            ),
            withheld="The block itself and its reason code are given; the fraud team's free text (block_reason, "
            "block_notes, unblock_reason) is withheld for fraud prevention, and staff ids and names (art. 15(4)).",
        ),
    )

    class Meta:
        db_table = "customer_blocks"
        ordering = ["-blocked_at", "-id"]
        constraints = [
            db.enum_check("customer_blocks", "block_type", BlockType),
            db.enum_check("customer_blocks", "service_type", ServiceType, null=True),
            db.enum_check("customer_blocks", "blocked_by", BlockedBy),
            models.CheckConstraint(
                condition=models.Q(blocked_until__isnull=True) | models.Q(blocked_until__gt=models.F("blocked_at")),
                name="customer_blocks_until_after_start",
                violation_error_message="A block must end after it starts.",
            ),
        ]
        indexes = [
            # is_blocked(): the active blocks of a customer.
            models.Index(
                fields=["customer", "block_type"],
                name="customer_blocks_active_idx",
                condition=models.Q(is_unblocked=False),
            ),
            models.Index(fields=["customer", "-blocked_at"], name="customer_blocks_customer_idx"),
            # The auto-unblock job: expired, still active, auto_unblock.
            models.Index(
                fields=["blocked_until"],
                name="customer_blocks_expiry_idx",
                condition=models.Q(is_unblocked=False, auto_unblock=True),
            ),
            models.Index(fields=["-blocked_at", "-id"], name="blocks_blocked_at_idx"),  # the admin list's order
            # The admin's list filters, in the list's (blocked_at, id) order.
            db.filter_index("is_unblocked", "blocks_unblocked_idx", ordering=["-blocked_at", "-id"]),
            db.filter_index("block_type", "blocks_type_idx", ordering=["-blocked_at", "-id"]),
            db.filter_index("service_type", "blocks_service_idx", ordering=["-blocked_at", "-id"]),
            db.filter_index("blocked_by", "blocks_blocked_by_idx", ordering=["-blocked_at", "-id"]),
            models.Index(fields=["block_reason_code"], name="blocks_reason_code_idx"),  # exact-key search
        ]
        triggers = [never_update("customer", "blocked_at", "created_at"), touch()]

    def __str__(self) -> str:
        scope = self.service_type or "all services"
        return f"{self.get_block_type_display()} ({scope}) for customer {self.customer_id}"


class SuspiciousActivity(db.RuleBoundModel):
    """``customer_suspicious_activity``: suspicious activity detected by the system or ML models."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="suspicious_activities", db_index=False
    )
    activity_type = models.TextField(choices=SuspiciousActivityType.choices)
    activity_description = models.TextField(blank=True, default="", db_default="")
    detected_by = models.TextField(choices=DetectedBy.choices)
    detection_confidence = db.score(null=True, blank=True)
    risk_score = db.score(null=True, blank=True)
    evidence = models.JSONField(default=dict, db_default={}, blank=True)
    requires_review = models.BooleanField(default=True, db_default=True)
    reviewed = models.BooleanField(default=False, db_default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = db.staff("reviewed_by")
    review_notes = models.TextField(blank=True, default="", db_default="")
    action_recommended = models.TextField(blank=True, default="", db_default="")
    action_taken = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    history = HistoricalRecords(bases=[_EvidenceHistory])

    personal_data = PersonalData(
        fields={"evidence": Scope.DEVICES_NETWORK},
        text={
            "activity_type": ENUM,
            "activity_description": SCRUB,
            "detected_by": ENUM,
            "review_notes": SCRUB,
            "action_recommended": SCRUB,
            "action_taken": SCRUB,
        },
        export=Export(columns=(), withheld=FRAUD_PREVENTION),
    )

    class Meta:
        db_table = "customer_suspicious_activity"
        verbose_name_plural = "suspicious activities"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_suspicious_activity", "activity_type", SuspiciousActivityType),
            db.enum_check("customer_suspicious_activity", "detected_by", DetectedBy),
            db.range_check("customer_suspicious_activity", "detection_confidence", 0, 100),
            db.range_check("customer_suspicious_activity", "risk_score", 0, 100),
        ]
        indexes = [
            # The review queue: requires review, not reviewed, oldest first.
            models.Index(
                fields=["created_at"],
                name="suspicious_review_queue_idx",
                condition=models.Q(requires_review=True, reviewed=False),
            ),
            models.Index(fields=["customer", "-created_at"], name="suspicious_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="suspicious_created_idx"),
            # The admin's list filters (the review filter's "reviewed" and "all" included).
            db.filter_index("reviewed", "suspicious_reviewed_idx"),
            db.filter_index("activity_type", "suspicious_type_idx"),
            db.filter_index("detected_by", "suspicious_detected_by_idx"),
        ]
        triggers = [never_update("customer", "activity_type", "created_at")]

    def __str__(self) -> str:
        return f"{self.get_activity_type_display()} for customer {self.customer_id}"


class VerificationHistory(db.RuleBoundModel):
    """``customer_verification_history``: every verification attempt. An immutable audit log."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="verifications", db_index=False
    )
    verification_type = models.TextField(choices=VerificationType.choices)
    verification_method = models.TextField(choices=VerificationMethod.choices)
    verification_status = models.TextField(choices=VerificationStatus.choices)
    attempt_number = models.IntegerField(default=1, db_default=1)
    failure_reason = models.TextField(blank=True, default="", db_default="")
    ip_address = models.TextField(blank=True, default="", db_default="")
    device_id = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={"ip_address": Scope.DEVICES_NETWORK, "device_id": Scope.DEVICES_NETWORK},
        text={
            "verification_type": ENUM,
            "verification_method": ENUM,
            "verification_status": ENUM,
            "failure_reason": SCRUB,
        },
        identifiers={"ip_address": Identifier.IP, "device_id": Identifier.DEVICE},
        export=Export(
            columns=(
                "id customer_id verification_type verification_method verification_status attempt_number "
                "failure_reason ip_address device_id created_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_verification_history"
        verbose_name_plural = "verification history"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_verification_history", "verification_type", VerificationType),
            db.enum_check("customer_verification_history", "verification_method", VerificationMethod),
            db.enum_check("customer_verification_history", "verification_status", VerificationStatus),
            db.range_check("customer_verification_history", "attempt_number", low=1),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="verification_customer_idx"),
            # The trust engine's verified types per customer: an index-only range scan (fraud.jobs).
            models.Index(
                fields=["customer", "verification_type"],
                name="verification_success_idx",
                condition=models.Q(verification_status="SUCCESS"),
            ),
            models.Index(fields=["-created_at", "-id"], name="verification_created_idx"),
            # The admin's exact-key search and list filters.
            models.Index(fields=["device_id"], name="verification_device_idx"),
            models.Index(fields=["ip_address"], name="verification_ip_idx"),
            db.filter_index("verification_status", "verification_status_idx"),
            db.filter_index("verification_type", "verification_type_idx"),
            db.filter_index("verification_method", "verification_method_idx"),
        ]
        triggers = [*append_only()]

    def __str__(self) -> str:
        return f"{self.verification_type} {self.verification_status} for customer {self.customer_id}"


class TrustRecalculation(models.Model):
    """A request, made on the trust-score page, for a full recalculation of every score.

    A full run scores every customer (minutes at 100,000 customers): it never runs inside
    the web request. The page records a request; the job (``recalculate_trust_scores``,
    every few minutes with ``--requested``, and every plain full run) claims it, writes its
    progress per batch here, and marks it finished. The page reads this row to say when the
    job runs and how far it is.
    """

    requested_by = db.staff("requested_by")
    requested_at = db.created_at()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    customers_done = models.IntegerField(default=0, db_default=0)
    customers_total = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "fraud_trust_recalculations"
        ordering = ["-requested_at", "-id"]
        indexes = [
            # The job's "oldest request not finished" and the page's latest request.
            models.Index(fields=["finished_at", "requested_at"], name="trust_recalc_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"Full trust recalculation requested at {self.requested_at:%Y-%m-%d %H:%M}"


class TrustEngineRun(models.Model):
    """A finished run of the trust engine over every customer: full, or incremental (the
    customers whose inputs changed since the previous run, ``fraud.changes``). The next
    incremental run starts from the latest one's ``started_at``. Not a spec table: the job's
    own bookkeeping, a few rows a day."""

    class Kind(models.TextChoices):
        FULL = "FULL", "Full"
        INCREMENTAL = "INCREMENTAL", "Incremental"

    kind = models.TextField(choices=Kind.choices)
    started_at = models.DateTimeField(help_text="The run's clock: every score it wrote has this last_calculated_at.")
    finished_at = models.DateTimeField()
    since = models.DateTimeField(null=True, blank=True, help_text="Incremental: changes from this moment on.")
    customers = models.IntegerField(help_text="Customers scored.")

    class Meta:
        db_table = "fraud_trust_engine_runs"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at"], name="trust_engine_runs_started_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} trust run at {self.started_at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, *, kind: str, now, customers: int, since=None) -> TrustEngineRun:
        return cls.objects.create(
            kind=kind, started_at=now, finished_at=db.timezone.now(), since=since, customers=customers
        )

    @classmethod
    def last(cls) -> TrustEngineRun | None:
        return cls.objects.order_by("-started_at", "-id").first()


from fraud.models_daily import AlertDaily  # noqa: E402,F401  (the dashboard's alert figures)
from fraud.models_lists import ListEntry, ListHit  # noqa: E402,F401  (lists and their hits)
from fraud.models_review import ActivityClaim, AlertReview  # noqa: E402,F401  (the review queues' tables)
