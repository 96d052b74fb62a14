"""The review queues (Sift's claimed queues): claiming an alert or a suspicious activity,
taking the next one, reassigning, and recording an alert's decision with its outcome.

::

    open, unclaimed ──claim / take next──▶ claimed by A until now + 60 min
          ▲                                   │        │            │
          └──────── the claim lapses ─────────┘        │ reassign   │ A decides
                                                       ▼ (lead)     ▼
                                            claimed by B      resolved, outcome recorded

While A's claim runs, nobody else may decide the row or record what was done about it
(``alert_resolve``, ``alert_record_action``, ``suspicious_review`` refuse with a conflict
naming A); a fraud lead (or the superuser) may reassign it. Offered through
:mod:`fraud.services` (its ``__all__``), like every fraud workflow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from customer_ops.audit import audit
from customer_ops.context import audit_actor
from customer_ops.permissions import requires
from fraud import conf
from fraud.choices import AlertOutcome, AlertReasonCode
from fraud.models import SEVERITY_RANK, FraudAlert, SuspiciousActivity
from fraud.models_review import ActivityClaim, AlertReview
from fraud.services import WORK_ACTIVITY, WORK_ALERT, FraudConflict, FraudInvalid

REASSIGN = "fraud.reassign_review_claims"

# "Take next" tries this many candidates before giving up: a candidate another analyst
# claimed between our snapshot and our lock is skipped (see _take_next).
TAKE_NEXT_TRIES = 5


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "someone"


def claim_ends(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(minutes=conf.CLAIM_MINUTES)


def _held_message(label: str, claim) -> str:
    return (
        f"{label} is held by {_name(claim.claimed_by)} until {timezone.localtime(claim.claimed_until):%H:%M}: "
        "only they may decide it meanwhile (a fraud lead may reassign it)."
    )


def _refuse_if_held(claim, actor, label: str, now: dt.datetime) -> None:
    if claim is not None and claim.held_by_other(actor, now):
        raise FraudConflict(_held_message(label, claim))


# --- reads the admin shares --------------------------------------------------------------------


def live_claim_q(prefix: str, now: dt.datetime) -> Q:
    return Q(**{f"{prefix}claimed_by__isnull": False, f"{prefix}claimed_until__gt": now})


def alert_claim_of(alert: FraudAlert, now: dt.datetime | None = None) -> AlertReview | None:
    """The live claim on ``alert`` (None when nobody holds it)."""
    now = now or timezone.now()
    return AlertReview.objects.select_related("claimed_by").filter(live_claim_q("", now), alert_id=alert.pk).first()


def activity_claim_of(activity: SuspiciousActivity, now: dt.datetime | None = None) -> ActivityClaim | None:
    now = now or timezone.now()
    return (
        ActivityClaim.objects.select_related("claimed_by")
        .filter(live_claim_q("", now), activity_id=activity.pk)
        .first()
    )


def unclaimed_open_alerts(now: dt.datetime | None = None):
    """Open alerts nobody holds, most severe then oldest (``fraud_alerts_triage_idx``; the
    claim check is an anti-join on ``alert_reviews_live_idx``)."""
    now = now or timezone.now()
    held = AlertReview.objects.filter(live_claim_q("", now), alert_id=OuterRef("pk"))
    return (
        FraudAlert.objects.filter(is_resolved=False)
        .annotate(severity_rank=SEVERITY_RANK)
        .filter(~Exists(held))
        .order_by("severity_rank", "created_at", "id")
    )


def unclaimed_activities(now: dt.datetime | None = None):
    """Suspicious activities awaiting review that nobody holds, oldest first
    (``suspicious_review_queue_idx``)."""
    now = now or timezone.now()
    held = ActivityClaim.objects.filter(live_claim_q("", now), activity_id=OuterRef("pk"))
    return (
        SuspiciousActivity.objects.filter(requires_review=True, reviewed=False)
        .filter(~Exists(held))
        .order_by("created_at", "id")
    )


# --- one claim mechanism for both queues ---------------------------------------------------------


@dataclass(frozen=True)
class _Queue:
    """What differs between the alert queue and the suspicious-activity queue."""

    claim_model: type
    key: str  # the claim row's column naming the parent row
    label: str  # in conflict messages: "Alert #12 is held by ..."
    audit_label: str  # in the audit reason of a reassignment
    audit_field: str
    done_field: str  # the parent's boolean saying the review is over
    done_word: str  # "resolved" / "reviewed"

    def is_done(self, row) -> bool:
        return getattr(row, self.done_field)


ALERTS = _Queue(AlertReview, "alert_id", "Alert", "Fraud alert", "fraud_alert.claimed_by", "is_resolved", "resolved")
ACTIVITIES = _Queue(
    ActivityClaim,
    "activity_id",
    "Suspicious activity",
    "Suspicious activity",
    "suspicious_activity.claimed_by",
    "reviewed",
    "reviewed",
)


def _claim_row(model, key: str, pk: int):
    """The claim row of the locked alert/activity, created empty if it has none yet (the
    parent's row lock serialises its creation)."""
    row, _ = model.objects.select_for_update().get_or_create(**{key: pk})
    return row


def _claim(queue: _Queue, row, *, to, actor, now: dt.datetime, override: bool):
    """Claim the locked ``row`` for ``to``; ``override`` (a lead's reassignment) takes it from
    whoever holds it, audited on the customer."""
    if queue.is_done(row):
        raise FraudConflict(f"{queue.label} #{row.pk} is {queue.done_word}: there is nothing to claim.")
    claim = _claim_row(queue.claim_model, queue.key, row.pk)
    if not override:
        _refuse_if_held(claim, to, f"{queue.label} #{row.pk}", now)
    previous = claim.claimed_by if claim.is_live(now) else None
    claim.claimed_by, claim.claimed_until = to, claim_ends(now)
    claim.save(update_fields=["claimed_by", "claimed_until", "updated_at"])
    if override and previous is not None and previous.pk != to.pk:
        audit(
            customer_id=row.customer_id,
            action_type="UPDATE",
            action_field=queue.audit_field,
            old_value=_name(previous),
            new_value=_name(to),
            reason=f"{queue.audit_label} #{row.pk} reassigned by {_name(actor)}",
            actor=audit_actor(actor),
        )
    return claim


def _take_next(queue: _Queue, candidates, *, actor):
    """Claim the first of ``candidates`` (the unclaimed queue, in its order) for ``actor``.

    ``FOR UPDATE SKIP LOCKED`` on the parent row, as the ticket queue's "take next": analysts
    pressing it at once each lock a different row. The anti-join is read from the statement's
    snapshot, so a row claimed by a transaction that committed just before our lock is caught
    by the re-check under the lock (a fresh statement) and skipped.
    """
    now = timezone.now()
    skipped: list[int] = []
    for _ in range(TAKE_NEXT_TRIES):
        candidate = candidates(now).exclude(pk__in=skipped).select_for_update(skip_locked=True, of=("self",)).first()
        if candidate is None:
            return None
        claim = queue.claim_model.objects.filter(pk=candidate.pk).first()
        if claim is not None and claim.held_by_other(actor, now):
            skipped.append(candidate.pk)
            continue
        _claim(queue, candidate, to=actor, actor=actor, now=now, override=False)
        return candidate
    return None


def _reassign(queue: _Queue, model, pk: int, *, analyst, actor):
    analyst = _staff_member(getattr(analyst, "pk", analyst))
    locked = model.objects.select_for_update().get(pk=pk)
    return _claim(queue, locked, to=analyst, actor=actor, now=timezone.now(), override=True)


def _staff_member(user_id) -> object:
    user = get_user_model().objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    if user is None:
        raise FraudInvalid("Choose an active staff member.", field="analyst")
    if not user.has_perm(WORK_ALERT):
        raise FraudInvalid(f"{_name(user)} may not work fraud alerts.", field="analyst")
    return user


# --- alerts --------------------------------------------------------------------------------------


@requires(WORK_ALERT, what="work fraud alerts")
@transaction.atomic
def alert_claim(*, alert: FraudAlert, actor) -> AlertReview:
    """Hold an open alert for ``actor`` for :data:`fraud.conf.CLAIM_MINUTES` (again, if they
    already hold it). Refused while someone else holds it."""
    locked = FraudAlert.objects.select_for_update().get(pk=alert.pk)
    return _claim(ALERTS, locked, to=actor, actor=actor, now=timezone.now(), override=False)


@requires(WORK_ALERT, what="work fraud alerts")
@transaction.atomic
def alert_take_next(*, actor) -> FraudAlert | None:
    """Claim the most severe, then oldest, open alert nobody holds; None when there is none."""
    return _take_next(ALERTS, unclaimed_open_alerts, actor=actor)


@requires(REASSIGN, what="reassign claimed alerts")
@transaction.atomic
def alert_reassign(*, alert: FraudAlert, analyst, actor) -> AlertReview:
    """A fraud lead hands an open alert to ``analyst`` (a fresh claim), whoever held it."""
    return _reassign(ALERTS, FraudAlert, alert.pk, analyst=analyst, actor=actor)


def check_alert_held(*, alert: FraudAlert, actor) -> None:
    """Called with the alert locked by every write that records what was decided or done
    about it (``alert_resolve``, ``alert_record_action``): refused while someone else holds it."""
    claim = AlertReview.objects.select_related("claimed_by").filter(pk=alert.pk).first()
    _refuse_if_held(claim, actor, f"Alert #{alert.pk}", timezone.now())


def check_alert_decision(*, alert: FraudAlert, outcome: str, reason_code: str, actor) -> None:
    """Called by ``alert_resolve`` with the alert locked: the outcome and reason are valid,
    and nobody else holds the alert."""
    if outcome not in AlertOutcome.values:
        raise FraudInvalid(
            "Choose the outcome: confirmed fraud, false positive, legitimate or inconclusive.", field="outcome"
        )
    if reason_code not in AlertReasonCode.values:
        raise FraudInvalid("Choose a reason code from the list.", field="reason_code")
    check_alert_held(alert=alert, actor=actor)


def record_alert_decision(*, alert: FraudAlert, outcome: str, reason_code: str, notes: str, actor) -> AlertReview:
    """Called by ``alert_resolve`` after the spec columns are written: the outcome, and the
    end of the claim; audited on the customer."""
    review = _claim_row(AlertReview, "alert_id", alert.pk)
    version = alert.evidence.get("model_version") if isinstance(alert.evidence, dict) else None
    review.outcome, review.reason_code = outcome, reason_code
    review.decided_by, review.decided_at = actor, alert.resolved_at
    review.alert_type, review.model_version = alert.alert_type, str(version or "")[:100]
    review.claimed_by = review.claimed_until = None
    review.save()
    audit(
        customer_id=alert.customer_id,
        action_type="STATUS_CHANGE",
        action_field="fraud_alert.outcome",
        old_value=None,
        new_value=f"{outcome} ({reason_code})",
        reason=f"Fraud alert #{alert.pk} decided: {notes}",
        actor=audit_actor(actor),
    )
    return review


# --- suspicious activities -----------------------------------------------------------------------


@requires(WORK_ACTIVITY, what="review suspicious activity")
@transaction.atomic
def activity_claim(*, activity: SuspiciousActivity, actor) -> ActivityClaim:
    """Hold a suspicious activity awaiting review for ``actor``."""
    locked = SuspiciousActivity.objects.select_for_update().get(pk=activity.pk)
    return _claim(ACTIVITIES, locked, to=actor, actor=actor, now=timezone.now(), override=False)


@requires(WORK_ACTIVITY, what="review suspicious activity")
@transaction.atomic
def activity_take_next(*, actor) -> SuspiciousActivity | None:
    """Claim the oldest suspicious activity awaiting review that nobody holds."""
    return _take_next(ACTIVITIES, unclaimed_activities, actor=actor)


@requires(REASSIGN, what="reassign claimed alerts")
@transaction.atomic
def activity_reassign(*, activity: SuspiciousActivity, analyst, actor) -> ActivityClaim:
    return _reassign(ACTIVITIES, SuspiciousActivity, activity.pk, analyst=analyst, actor=actor)


def check_activity_review(*, activity: SuspiciousActivity, actor) -> None:
    """Called by ``suspicious_review`` with the row locked: nobody else holds it."""
    claim = ActivityClaim.objects.select_related("claimed_by").filter(pk=activity.pk).first()
    _refuse_if_held(claim, actor, f"Suspicious activity #{activity.pk}", timezone.now())


def end_activity_claim(activity: SuspiciousActivity) -> None:
    ActivityClaim.objects.filter(pk=activity.pk).update(claimed_by=None, claimed_until=None, updated_at=timezone.now())
