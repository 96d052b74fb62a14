"""The fraud team's workflows: the one write path for blocks, alerts, suspicious activity and
the fraud flag; and the batches the platform's systems send (the ML pipeline's alerts and
suspicious activities, the auth system's verification attempts: the last section).

Each function is keyword-only, takes the acting party as ``actor`` and checks its own
permission (:func:`customer_ops.permissions.requires`: the same permission the admin checks
before showing the button), runs in one transaction, locks the row it changes, refuses a
stale ``expected_version`` (the version the form showed: :func:`row_version`) and an
invalid transition with a :class:`FraudError` of the right kind (not allowed, conflict,
invalid: :mod:`customer_ops.errors`), and writes the row, its history
(django-simple-history, on save) and the audit entry together. Admin actions and forms
only call these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from customer_ops import batches
from customer_ops.audit import audit
from customer_ops.batches import LONG_TEXT, Field
from customer_ops.choices import EventType, ServiceType
from customer_ops.context import audit_actor
from customer_ops.errors import Conflict, DomainError, Invalid, NotAllowed
from customer_ops.events import emit
from customer_ops.models import Customer
from customer_ops.permissions import requires
from customer_ops.scopes import FRAUD_WRITE, LOGS_WRITE
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
from fraud.models import (
    Block,
    FraudAlert,
    SuspiciousActivity,
    TrustRecalculation,
    TrustScore,
    VerificationHistory,
)


class FraudError(DomainError):
    """A fraud-console operation that cannot be done; the message is for the analyst.
    Raised as one of its kinds below."""


class FraudNotAllowed(FraudError, NotAllowed):
    """The actor may not do this."""


class FraudConflict(FraudError, Conflict):
    """The row changed since the caller read it, or its state refuses the step now."""


class FraudInvalid(FraudError, Invalid):
    """The input is wrong."""


# Permissions (the roles' group grants, as the admin checks them).
ADD_BLOCK = "fraud.add_block"
WORK_BLOCK = "fraud.change_block"
ADD_ALERT = "fraud.add_fraudalert"
ADD_ACTIVITY = "fraud.add_suspiciousactivity"
WORK_ALERT = "fraud.change_fraudalert"
WORK_ACTIVITY = "fraud.change_suspiciousactivity"
CONFIRM_FRAUD = "fraud.confirm_fraud_trustscore"
BULK_DECIDE = "fraud.bulk_decide_alerts"
RECALCULATE = "fraud.recalculate_trustscore"


def row_version(obj) -> dt.datetime | None:
    """The version a form shows and sends back as ``expected_version``: the row's
    ``updated_at`` where it has one (blocks, trust scores), else the time of its latest
    history record (alerts and suspicious activity, spec tables without ``updated_at``,
    change only through these services, each save recording a history row)."""
    if hasattr(obj, "updated_at"):
        return obj.updated_at
    latest = obj.history.order_by("-history_date", "-history_id").values_list("history_date", flat=True).first()
    return latest


def _check_version(obj, expected: dt.datetime | None, *, label: str) -> None:
    """Refuse the step if the locked row changed since the caller read ``expected``."""
    if expected is None:
        return
    current = row_version(obj)
    if current != expected:
        raise FraudConflict(
            f"{label} was changed by someone else since you opened it. "
            "Nothing was saved: check its current state and try again."
        )


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _validate(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as e:
        raise FraudInvalid("; ".join(f"{k}: {' '.join(v)}" for k, v in e.message_dict.items())) from e


def _required(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise FraudInvalid(message)
    return value


def _describe(block: Block) -> str:
    scope = block.service_type or "ALL"
    until = f" until {block.blocked_until:%Y-%m-%d %H:%M} UTC" if block.blocked_until else " (permanent)"
    return f"{block.block_type} {scope}{until}"


# --- blocks ----------------------------------------------------------------------------------


@requires(ADD_BLOCK, what="block customers")
@transaction.atomic
def block_customer(
    *,
    customer: Customer,
    block_type: str,
    reason: str,
    actor,
    service_type: str | None = None,
    reason_code: str = "",
    notes: str = "",
    blocked_until: dt.datetime | None = None,
    auto_unblock: bool = True,
    blocked_by: str = BlockedBy.ADMIN,
    alert: FraudAlert | None = None,
) -> Block:
    """Block a customer from one service (``SERVICE_BLOCK``/``PAYMENT_BLOCK`` with a service
    type), from every service (no service type), or entirely (``ACCOUNT_BLOCK``).

    ``blocked_until`` empty means permanent. With ``alert``, the alert records the block as
    the action taken.
    """
    if block_type not in BlockType.values:
        raise FraudInvalid(f"Unknown block type {block_type!r}.")
    service_type = service_type or None
    if service_type is not None and service_type not in ServiceType.values:
        raise FraudInvalid(f"Unknown service type {service_type!r}.")
    if block_type == BlockType.ACCOUNT_BLOCK and service_type is not None:
        raise FraudInvalid("An account block covers every service: leave the service type empty.")
    now = timezone.now()
    if blocked_until is not None and blocked_until <= now:
        raise FraudInvalid("A timed block must end in the future.")
    block = Block(
        customer=customer,
        block_type=block_type,
        service_type=service_type,
        block_reason=_required(reason, "A block reason is required."),
        block_reason_code=reason_code.strip(),
        block_notes=notes.strip(),
        blocked_by=blocked_by,
        blocked_by_staff=actor,
        blocked_by_name=_name(actor),
        blocked_at=now,
        blocked_until=blocked_until,
        auto_unblock=auto_unblock,
    )
    _validate(block)
    block._history_user = actor
    block.save()
    audit(
        customer_id=customer.pk,
        action_type="STATUS_CHANGE",
        action_field="block",
        old_value=None,
        new_value=_describe(block),
        reason=block.block_reason + (f" (fraud alert #{alert.pk})" if alert else ""),
        actor=audit_actor(actor),
    )
    if alert is not None:
        alert_record_action(alert=alert, action=f"Blocked: {_describe(block)} (block #{block.pk})", actor=actor)
    emit(
        EventType.BLOCK_CREATED,
        customer_id=customer.pk,
        block_id=block.pk,
        block_type=block.block_type,
        service_type=block.service_type,
        blocked_at=block.blocked_at,
        blocked_until=block.blocked_until,
    )
    return block


@requires(WORK_BLOCK, what="lift blocks")
@transaction.atomic
def unblock(*, block: Block, reason: str, actor, expected_version: dt.datetime | None = None) -> Block:
    """Lift a block by hand, with a reason. Refused when it is already lifted."""
    reason = _required(reason, "An unblock reason is required.")
    block = Block.objects.select_for_update().get(pk=block.pk)
    _check_version(block, expected_version, label=f"Block #{block.pk}")
    if block.is_unblocked:
        raise FraudConflict(f"Block #{block.pk} was already lifted on {block.unblocked_at:%Y-%m-%d %H:%M}.")
    block.is_unblocked = True
    block.unblocked_at = timezone.now()
    block.unblocked_by = actor
    block.unblock_reason = reason
    block._history_user = actor
    block.save(update_fields=["is_unblocked", "unblocked_at", "unblocked_by", "unblock_reason", "updated_at"])
    audit(
        customer_id=block.customer_id,
        action_type="STATUS_CHANGE",
        action_field="block",
        old_value=f"{_describe(block)} in force",
        new_value="lifted",
        reason=reason,
        actor=audit_actor(actor),
    )
    emit(
        EventType.BLOCK_LIFTED,
        customer_id=block.customer_id,
        block_id=block.pk,
        block_type=block.block_type,
        service_type=block.service_type,
        unblocked_at=block.unblocked_at,
        automatic=False,
    )
    return block


@requires(WORK_BLOCK, what="lift blocks")
@transaction.atomic
def unblock_many(*, blocks: Iterable[Block], reason: str, actor) -> tuple[int, int]:
    """Lift several blocks with one reason. Returns (lifted, already lifted)."""
    reason = _required(reason, "An unblock reason is required.")
    lifted = skipped = 0
    for block in Block.objects.select_for_update().filter(pk__in=[b.pk for b in blocks]).order_by("pk"):
        if block.is_unblocked:
            skipped += 1
            continue
        unblock(block=block, reason=reason, actor=actor)
        lifted += 1
    return lifted, skipped


# --- alerts ----------------------------------------------------------------------------------


def _locked_alert(alert: FraudAlert) -> FraudAlert:
    return FraudAlert.objects.select_for_update().get(pk=alert.pk)


@requires(WORK_ALERT, what="work fraud alerts")
@transaction.atomic
def alert_record_action(
    *, alert: FraudAlert, action: str, actor, expected_version: dt.datetime | None = None
) -> FraudAlert:
    """Record what was done about an alert (``action_taken``, when and by whom). Refused,
    as a decision is, while another analyst holds the alert (``fraud.services_review``)."""
    action = _required(action, "The action taken is required.")
    alert = _locked_alert(alert)
    _check_version(alert, expected_version, label=f"Alert #{alert.pk}")
    if alert.is_resolved:
        raise FraudConflict(f"Alert #{alert.pk} is resolved: its record is closed.")
    review.check_alert_held(alert=alert, actor=actor)
    alert.action_taken = action
    alert.action_taken_at = timezone.now()
    alert.action_taken_by = actor
    alert._history_user = actor
    alert.save(update_fields=["action_taken", "action_taken_at", "action_taken_by"])
    return alert


@requires(WORK_ALERT, what="work fraud alerts")
@transaction.atomic
def alert_resolve(
    *,
    alert: FraudAlert,
    outcome: str,
    reason_code: str,
    notes: str,
    actor,
    action: str = "",
    expected_version: dt.datetime | None = None,
) -> FraudAlert:
    """Decide an alert: its outcome and reason code (``fraud_alert_reviews``), the spec's
    resolution columns with the notes (and, optionally, the action taken). Refused while
    another analyst holds the alert (``fraud.services_review``); the decision ends the claim."""
    notes = _required(notes, "Resolution notes are required.")
    alert = _locked_alert(alert)
    _check_version(alert, expected_version, label=f"Alert #{alert.pk}")
    if alert.is_resolved:
        raise FraudConflict(f"Alert #{alert.pk} is already resolved.")
    review.check_alert_decision(alert=alert, outcome=outcome, reason_code=reason_code, actor=actor)
    now = timezone.now()
    fields = ["is_resolved", "resolved_at", "resolution_notes"]
    if action.strip():
        alert.action_taken, alert.action_taken_at, alert.action_taken_by = action.strip(), now, actor
        fields += ["action_taken", "action_taken_at", "action_taken_by"]
    alert.is_resolved, alert.resolved_at, alert.resolution_notes = True, now, notes
    alert._history_user = actor
    alert.save(update_fields=fields)
    review.record_alert_decision(alert=alert, outcome=outcome, reason_code=reason_code, notes=notes, actor=actor)
    return alert


@requires(BULK_DECIDE, what="decide several fraud alerts at once")
@transaction.atomic
def alerts_resolve(
    *, alerts: Iterable[FraudAlert], outcome: str, reason_code: str, notes: str, actor
) -> tuple[int, int]:
    """Bulk decision with one outcome, reason code and note: one outcome recorded per alert.
    Needs its own permission (Sift gates bulk decisions the same way). Returns (resolved,
    already resolved); all or nothing: an alert another analyst holds refuses the batch."""
    notes = _required(notes, "Resolution notes are required.")
    resolved = skipped = 0
    for alert in FraudAlert.objects.select_for_update().filter(pk__in=[a.pk for a in alerts]).order_by("pk"):
        if alert.is_resolved:
            skipped += 1
            continue
        alert_resolve(alert=alert, outcome=outcome, reason_code=reason_code, notes=notes, actor=actor)
        resolved += 1
    return resolved, skipped


# --- suspicious activity ---------------------------------------------------------------------

# The alert type a suspicious activity most likely leads to (prefilled, the analyst may change it).
ALERT_TYPE_FOR_ACTIVITY = {
    "UNUSUAL_ORDER_PATTERN": AlertType.PAYMENT_FRAUD,
    "LOCATION_JUMP": AlertType.LOCATION_MISMATCH,
    "PAYMENT_FAILURE_SPIKE": AlertType.PAYMENT_FRAUD,
    "MULTIPLE_CANCELLATIONS": AlertType.FALSE_COMPLAINT,
}


def severity_for_risk(risk_score) -> str:
    """A prefilled alert severity from a suspicious activity's risk score."""
    if risk_score is None:
        return AlertSeverity.MEDIUM
    if risk_score >= 85:
        return AlertSeverity.CRITICAL
    if risk_score >= 65:
        return AlertSeverity.HIGH
    if risk_score >= 35:
        return AlertSeverity.MEDIUM
    return AlertSeverity.LOW


@requires(WORK_ACTIVITY, what="review suspicious activity")
@transaction.atomic
def suspicious_review(
    *,
    activity: SuspiciousActivity,
    notes: str,
    actor,
    action_taken: str = "",
    expected_version: dt.datetime | None = None,
) -> SuspiciousActivity:
    """Mark a suspicious activity reviewed, with notes and the action taken."""
    notes = _required(notes, "Review notes are required.")
    activity = SuspiciousActivity.objects.select_for_update().get(pk=activity.pk)
    _check_version(activity, expected_version, label=f"Suspicious activity #{activity.pk}")
    if activity.reviewed:
        raise FraudConflict(f"Suspicious activity #{activity.pk} is already reviewed.")
    review.check_activity_review(activity=activity, actor=actor)
    review.end_activity_claim(activity)
    activity.reviewed, activity.reviewed_at, activity.reviewed_by = True, timezone.now(), actor
    activity.review_notes = notes
    activity.action_taken = action_taken.strip() or activity.action_taken
    activity._history_user = actor
    activity.save(update_fields=["reviewed", "reviewed_at", "reviewed_by", "review_notes", "action_taken"])
    return activity


@requires(WORK_ACTIVITY, what="review suspicious activity")
@transaction.atomic
def suspicious_raise_alert(
    *,
    activity: SuspiciousActivity,
    actor,
    alert_type: str | None = None,
    severity: str | None = None,
    description: str = "",
) -> FraudAlert:
    """Raise a fraud alert from a suspicious activity; the activity is marked reviewed with
    the alert as its action (or, if already reviewed, gets the alert as its action taken)."""
    activity = SuspiciousActivity.objects.select_for_update().get(pk=activity.pk)
    if not activity.reviewed:
        review.check_activity_review(activity=activity, actor=actor)
        review.end_activity_claim(activity)
    alert_type = alert_type or ALERT_TYPE_FOR_ACTIVITY.get(activity.activity_type, AlertType.PAYMENT_FRAUD)
    severity = severity or severity_for_risk(activity.risk_score)
    evidence = {
        "suspicious_activity_id": activity.pk,
        "activity_type": activity.activity_type,
        "detected_by": activity.detected_by,
        "detection_confidence": str(activity.detection_confidence) if activity.detection_confidence else None,
        "risk_score": str(activity.risk_score) if activity.risk_score is not None else None,
        "activity_evidence": activity.evidence,
    }
    alert = FraudAlert(
        customer_id=activity.customer_id,
        alert_type=alert_type,
        alert_severity=severity,
        alert_description=description.strip()
        or f"Raised from suspicious activity #{activity.pk}: {activity.activity_description}".strip(),
        evidence=evidence,
    )
    _validate(alert)
    alert._history_user = actor
    alert.save()
    action = f"Raised fraud alert #{alert.pk}"
    fields = ["action_taken"]
    activity.action_taken = action
    if not activity.reviewed:
        activity.reviewed, activity.reviewed_at, activity.reviewed_by = True, timezone.now(), actor
        activity.review_notes = activity.review_notes or action
        fields += ["reviewed", "reviewed_at", "reviewed_by", "review_notes"]
    activity._history_user = actor
    activity.save(update_fields=fields)
    return alert


# --- the fraud flag ----------------------------------------------------------------------------


def _locked_score(customer: Customer) -> TrustScore:
    TrustScore.objects.get_or_create(customer=customer)
    return TrustScore.objects.select_for_update().get(customer=customer)


@requires(CONFIRM_FRAUD, what="confirm fraud")
@transaction.atomic
def trust_confirm_fraud(
    *, customer: Customer, notes: str, actor, expected_version: dt.datetime | None = None
) -> TrustScore:
    """An analyst's confirmation that a customer is fraudulent: the only way ``is_fraudulent``
    becomes true. The customer's risk level becomes (and stays) CRITICAL."""
    notes = _required(notes, "Confirmation notes are required.")
    score = _locked_score(customer)
    _check_version(score, expected_version, label=f"The trust score of customer #{customer.pk}")
    if score.is_fraudulent:
        raise FraudConflict("This customer is already confirmed as fraudulent.")
    old_risk = score.risk_level
    score.is_fraudulent, score.is_suspicious, score.risk_level = True, True, RiskLevel.CRITICAL
    score._history_user = actor
    score._change_reason = "Fraud confirmed by an analyst"
    score.save(update_fields=["is_fraudulent", "is_suspicious", "risk_level", "updated_at"])
    who = audit_actor(actor)
    audit(
        customer_id=customer.pk,
        action_type="STATUS_CHANGE",
        action_field="is_fraudulent",
        old_value=False,
        new_value=True,
        reason=notes,
        actor=who,
    )
    if old_risk != RiskLevel.CRITICAL:
        audit(
            customer_id=customer.pk,
            action_type="UPDATE",
            action_field="risk_level",
            old_value=old_risk,
            new_value=RiskLevel.CRITICAL,
            reason="Fraud confirmed by an analyst",
            actor=who,
        )
    return score


@requires(CONFIRM_FRAUD, what="confirm fraud")
@transaction.atomic
def trust_clear_fraud(
    *, customer: Customer, notes: str, actor, expected_version: dt.datetime | None = None
) -> TrustScore:
    """Withdraw a fraud confirmation; the scores are recomputed at once."""
    from fraud.jobs import recalculate_trust_scores

    notes = _required(notes, "Notes are required.")
    score = _locked_score(customer)
    _check_version(score, expected_version, label=f"The trust score of customer #{customer.pk}")
    if not score.is_fraudulent:
        raise FraudConflict("This customer is not confirmed as fraudulent.")
    score.is_fraudulent = False
    score._history_user = actor
    score._change_reason = "Fraud confirmation withdrawn"
    score.save(update_fields=["is_fraudulent", "updated_at"])
    audit(
        customer_id=customer.pk,
        action_type="STATUS_CHANGE",
        action_field="is_fraudulent",
        old_value=True,
        new_value=False,
        reason=notes,
        actor=audit_actor(actor),
    )
    recalculate_trust_scores([customer.pk])
    score.refresh_from_db()
    return score


@requires(RECALCULATE, what="recalculate trust scores")
def trust_recalculation_request(*, actor) -> tuple[TrustRecalculation, bool]:
    """Queue a full recalculation of every trust score for the job (never run in a request).

    Returns the request and whether it is new: while one is waiting or running, asking
    again returns that one (one full run serves every request made before it starts).
    """
    pending = TrustRecalculation.objects.filter(finished_at__isnull=True).order_by("requested_at", "id").first()
    if pending is not None:
        return pending, False
    return TrustRecalculation.objects.create(requested_by=actor), True


# --- what the platform's systems send ----------------------------------------------------------
#
# The ML pipeline's fraud alerts and suspicious activities, the auth system's verification
# attempts (the service API's batches). A batch is checked whole (customer_ops.batches): the
# spec's enums and ranges, and every customer, order and session it names in one query; one
# bad item refuses the batch with a FraudInvalid listing every bad item, and nothing is
# written. An item carries what its sender knows: following the spec's "When to Update", an
# alert's or activity's workflow fields (action_taken, is_resolved, reviewed...) are the
# fraud team's, and its created_at is the moment it is recorded, so an item holding any of
# them is refused like any other key the batch does not accept.

MAX_DETECTIONS = batches.MAX_DETECTIONS  # offered here for the API's schema
MAX_LOG_ROWS = batches.MAX_LOG_ROWS

ALERT_FIELDS = {
    "customer_id": Field(batches.reference, required=True),
    "order_id": Field(batches.reference),
    "alert_type": Field(batches.choice(AlertType), required=True),
    "alert_severity": Field(batches.choice(AlertSeverity), required=True),
    "alert_description": Field(batches.text(LONG_TEXT), default=""),
    "evidence": Field(batches.json_object(), default=dict),
}

ACTIVITY_FIELDS = {
    "customer_id": Field(batches.reference, required=True),
    "activity_type": Field(batches.choice(SuspiciousActivityType), required=True),
    "activity_description": Field(batches.text(LONG_TEXT), default=""),
    "detected_by": Field(batches.choice(DetectedBy), required=True),
    "detection_confidence": Field(batches.number(0, 100, places=2)),
    "risk_score": Field(batches.number(0, 100, places=2)),
    "evidence": Field(batches.json_object(), default=dict),
    "requires_review": Field(batches.boolean, default=True),
    "action_recommended": Field(batches.text(LONG_TEXT), default=""),
}

VERIFICATION_FIELDS = {
    "customer_id": Field(batches.reference, required=True),
    "verification_type": Field(batches.choice(VerificationType), required=True),
    "verification_method": Field(batches.choice(VerificationMethod), required=True),
    "verification_status": Field(batches.choice(VerificationStatus), required=True),
    "attempt_number": Field(batches.integer(1), default=1),
    "failure_reason": Field(batches.text(LONG_TEXT), default=""),
    "ip_address": Field(batches.ip_address, default=""),
    "device_id": Field(batches.text(), default=""),
    # When the attempt was made: the auth system sends its log in batches, after the fact.
    "created_at": Field(batches.timestamp(), default=timezone.now),
}


def _created(model, rows: list[dict], actor) -> list:
    """Insert the rows and their history records (two statements, whatever the count): the
    history's first record is the row's version (``fraud.services.row_version``)."""
    objects = [model(**row) for row in rows]
    if not objects:
        return []
    who = audit_actor(actor)
    return bulk_create_with_history(
        objects,
        model,
        batch_size=len(objects),
        default_user=actor if getattr(actor, "is_authenticated", False) else None,
        default_change_reason=f"Created by {who.actor_name}",
    )


@requires(ADD_ALERT, scope=FRAUD_WRITE, what="create fraud alerts")
@transaction.atomic
def fraud_alerts_create(*, items: list[dict], actor) -> list[FraudAlert]:
    """Create up to :data:`MAX_DETECTIONS` fraud alerts (open, no action yet), all or nothing."""
    rows = batches.validated(
        items, ALERT_FIELDS, max_items=MAX_DETECTIONS, noun="fraud alerts", error=FraudInvalid, model=FraudAlert
    )
    return _created(FraudAlert, rows, actor)


@requires(ADD_ACTIVITY, scope=FRAUD_WRITE, what="record suspicious activity")
@transaction.atomic
def suspicious_activities_create(*, items: list[dict], actor) -> list[SuspiciousActivity]:
    """Record up to :data:`MAX_DETECTIONS` suspicious activities (not reviewed), all or nothing."""
    rows = batches.validated(
        items,
        ACTIVITY_FIELDS,
        max_items=MAX_DETECTIONS,
        noun="suspicious activities",
        error=FraudInvalid,
        model=SuspiciousActivity,
    )
    return _created(SuspiciousActivity, rows, actor)


VERIFICATION_COLUMNS = tuple(VERIFICATION_FIELDS)


@requires(scope=LOGS_WRITE, what="append verification history")
@transaction.atomic
def verification_history_append(*, items: list[dict], actor) -> int:
    """Append up to :data:`MAX_LOG_ROWS` verification attempts (an immutable log, written by
    the auth system alone: no staff member may), all or nothing, with one COPY. Returns how
    many rows were written."""
    rows = batches.validated(
        items,
        VERIFICATION_FIELDS,
        max_items=MAX_LOG_ROWS,
        noun="verification attempts",
        error=FraudInvalid,
        model=VerificationHistory,
    )
    return batches.copy_rows(
        VerificationHistory, VERIFICATION_COLUMNS, ([row[c] for c in VERIFICATION_COLUMNS] for row in rows)
    )


# --- the review queues (claims, take next, reassign): fraud.services_review ---------------------

from fraud import services_review as review  # noqa: E402  (it imports this module's errors)
from fraud.lists import list_entry_add, raise_list_matches_after_ingest  # noqa: E402
from fraud.services_review import (  # noqa: E402
    activity_claim,
    activity_reassign,
    activity_take_next,
    alert_claim,
    alert_reassign,
    alert_take_next,
)

# The workflows this module offers from fraud.services_review (tests/test_service_permissions.py).
__all__ = [
    "activity_claim",
    "activity_reassign",
    "activity_take_next",
    "alert_claim",
    "alert_reassign",
    "alert_take_next",
    "list_entry_add",
    "raise_list_matches_after_ingest",
]
