"""Weights and thresholds of the fraud console: the one place they are defined.

Every value can be overridden in settings under the same name (``getattr(settings, ...)``).
The trust engine (``fraud.jobs``, set-based SQL) and its explanation (``fraud.scoring``,
the same formulas for one customer in Python) both read them from here; a test proves the
two agree.

How a customer's scores are computed
====================================

Four **component scores**, each 0-100 where 100 is best, from the data this system holds.
A component is NULL ("no data") when its denominator is zero:

* ``payment_reliability_score`` = 100 x orders / (orders + payment failures), where
  payment failures are ``customer_activity_log`` rows of type ``PAYMENT_FAILED`` and every
  order counts as one successful payment.
* ``order_completion_score`` = 100 x completed / (completed + cancelled) orders. Orders
  still ``PLACED`` or ``IN_PROGRESS`` have no outcome yet and are left out.
* ``false_complaint_score`` = 100 x (1 - rejected / raised), over disputes and refund
  requests together: raised = every dispute and refund request, rejected = disputes with
  ``dispute_status`` ``REJECTED`` plus refund requests with ``refund_status`` ``REJECTED``.
* ``verification_score`` = 100 x (verification types with at least one ``SUCCESS`` in
  ``customer_verification_history``) / (the 5 verification types). Never NULL.

Each is rounded to two decimals. Their **base** is their weighted mean
(:data:`COMPONENT_WEIGHTS`), where a component without data counts as
:data:`NO_DATA_COMPONENT_SCORE` (100: no evidence against the customer, the spec's default
trust). It is still stored as NULL, so the page can say "no data". A new customer with a
verified phone thus starts near 84, and verifying more raises the score.

**Signal points** add up what the fraud team has not dealt with yet:

* each open (unresolved) fraud alert: :data:`ALERT_SEVERITY_POINTS` by its severity;
* each suspicious activity that requires review and is not reviewed:
  :data:`SUSPICIOUS_ACTIVITY_POINTS`;
* each *blocked linked account*: :data:`BLOCKED_LINKED_ACCOUNT_POINTS`. A linked account
  is another customer that used one of this customer's device ids (login history,
  sessions, activity log: one hop; IP addresses are left out because NATs and mobile
  carriers share them); it is blocked when it has a block in force (see
  ``fraud.selectors.blocks_in_force``).

Then, rounded to two decimals and clamped to 0-100:

* ``trust_score`` = base - :data:`TRUST_SIGNAL_FACTOR` x signal points
* ``fraud_score`` = :data:`FRAUD_BASE_FACTOR` x (100 - base) + signal points

**Risk level** comes from ``fraud_score`` and :data:`RISK_THRESHOLDS` (the first level
whose threshold the score reaches); a customer an analyst has confirmed as fraudulent
stays ``CRITICAL``.

**Flags**: ``is_suspicious`` when ``fraud_score`` >= :data:`SUSPICIOUS_THRESHOLD` or an
open alert has a severity in :data:`SUSPICIOUS_ALERT_SEVERITIES`; ``requires_review``
when the risk level is in :data:`REVIEW_RISK_LEVELS` and there is something to review (an
open alert or an unreviewed suspicious activity). ``is_fraudulent`` is never set by the
engine: only an analyst's confirmation (``fraud.services.trust_confirm_fraud``) sets it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings


def _setting(name: str, default):
    return getattr(settings, name, default)


#: Weight of each component in the base score (they need not add up to 1).
COMPONENT_WEIGHTS: dict[str, Decimal] = _setting(
    "FRAUD_COMPONENT_WEIGHTS",
    {
        "payment_reliability_score": Decimal("0.30"),
        "order_completion_score": Decimal("0.25"),
        "false_complaint_score": Decimal("0.25"),
        "verification_score": Decimal("0.20"),
    },
)

#: What a component without data counts as in the base.
NO_DATA_COMPONENT_SCORE: Decimal = _setting("FRAUD_NO_DATA_COMPONENT_SCORE", Decimal("100"))

#: Signal points of one open fraud alert, by severity.
ALERT_SEVERITY_POINTS: dict[str, Decimal] = _setting(
    "FRAUD_ALERT_SEVERITY_POINTS",
    {"LOW": Decimal("5"), "MEDIUM": Decimal("10"), "HIGH": Decimal("25"), "CRITICAL": Decimal("40")},
)

#: Signal points of one suspicious activity that requires review and is not reviewed.
SUSPICIOUS_ACTIVITY_POINTS: Decimal = _setting("FRAUD_SUSPICIOUS_ACTIVITY_POINTS", Decimal("10"))

#: Signal points of one linked account (shared device) with a block in force.
BLOCKED_LINKED_ACCOUNT_POINTS: Decimal = _setting("FRAUD_BLOCKED_LINKED_ACCOUNT_POINTS", Decimal("15"))

#: How much the signal points lower the trust score.
TRUST_SIGNAL_FACTOR: Decimal = _setting("FRAUD_TRUST_SIGNAL_FACTOR", Decimal("0.5"))

#: How much the base's shortfall from 100 raises the fraud score.
FRAUD_BASE_FACTOR: Decimal = _setting("FRAUD_BASE_FACTOR", Decimal("0.5"))

#: fraud_score thresholds, highest first: the first one reached gives the risk level.
RISK_THRESHOLDS: list[tuple[str, Decimal]] = _setting(
    "FRAUD_RISK_THRESHOLDS",
    [("CRITICAL", Decimal("75")), ("HIGH", Decimal("50")), ("MEDIUM", Decimal("25"))],
)
#: The level when no threshold is reached.
LOWEST_RISK_LEVEL = "LOW"

SUSPICIOUS_THRESHOLD: Decimal = _setting("FRAUD_SUSPICIOUS_THRESHOLD", Decimal("50"))
SUSPICIOUS_ALERT_SEVERITIES: tuple[str, ...] = _setting("FRAUD_SUSPICIOUS_ALERT_SEVERITIES", ("HIGH", "CRITICAL"))
REVIEW_RISK_LEVELS: tuple[str, ...] = _setting("FRAUD_REVIEW_RISK_LEVELS", ("HIGH", "CRITICAL"))

#: Verification types counted by verification_score (the spec's enum).
VERIFICATION_TYPE_COUNT = 5

#: Customers per statement of ``recalculate_trust_scores`` (progress is reported per batch).
RECALCULATE_BATCH_SIZE: int = _setting("FRAUD_RECALCULATE_BATCH_SIZE", 20_000)

#: The hourly run (``recalculate_trust_scores --changed``) rescores the customers whose inputs
#: changed since the last run started, less this margin: a row written by a transaction that
#: began before that run and committed after it read the data is still seen.
INCREMENTAL_OVERLAP = dt.timedelta(minutes=_setting("FRAUD_INCREMENTAL_OVERLAP_MINUTES", 15))

#: "Recalculate all" on the trust-score page queues a request; cron runs
#: ``recalculate_trust_scores --requested`` this often (README, "Scheduled jobs"), and the
#: page says when the next run is due.
RECALCULATION_REQUEST_EVERY_MINUTES: int = _setting("FRAUD_RECALCULATION_REQUEST_EVERY_MINUTES", 5)
#: A claimed request whose run has not finished after this long (a killed job) is claimed again.
RECALCULATION_STALE_AFTER = dt.timedelta(hours=_setting("FRAUD_RECALCULATION_STALE_HOURS", 2))
#: At most this many scores are recalculated inside a request (the "recalculate selected"
#: action); more, and the page asks for a full recalculation, which the job runs.
RECALCULATE_IN_REQUEST_MAX: int = _setting("FRAUD_RECALCULATE_IN_REQUEST_MAX", 1000)

#: Linked accounts shown on pages (``analytics.selectors.linked_accounts`` bounds).
LINKED_ACCOUNTS_LIMIT: int = _setting("FRAUD_LINKED_ACCOUNTS_LIMIT", 50)

#: Imports of the ML pipeline's alerts and suspicious activities (fraud admin): a file is at
#: most this big and this many rows; bigger files are split by the sender (one import is one
#: transaction, validated whole in the request).
IMPORT_MAX_BYTES: int = _setting("FRAUD_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
IMPORT_MAX_ROWS: int = _setting("FRAUD_IMPORT_MAX_ROWS", 10_000)
#: An XLSX is a zip: IMPORT_MAX_BYTES bounds its compressed size only, and a sheet of repeated
#: rows deflates a few hundredfold (5 MB would hold some 14 million rows). Before it is parsed
#: (fraud.import_files), its members together unpack to at most this much (a full file of
#: IMPORT_MAX_ROWS alerts with long descriptions and evidence is about 10 MB of XML), none
#: bigger than 1 MB deflates more than IMPORT_MAX_COMPRESSION_RATIO-fold, it has at most
#: IMPORT_MAX_ZIP_MEMBERS members (Excel writes about a dozen), and its sheet is read up to
#: IMPORT_MAX_COLUMNS columns (the resources have fewer than ten).
IMPORT_MAX_UNPACKED_BYTES: int = _setting("FRAUD_IMPORT_MAX_UNPACKED_BYTES", 25 * 1024 * 1024)
IMPORT_MAX_COMPRESSION_RATIO: int = _setting("FRAUD_IMPORT_MAX_COMPRESSION_RATIO", 100)
IMPORT_MAX_ZIP_MEMBERS: int = _setting("FRAUD_IMPORT_MAX_ZIP_MEMBERS", 100)
IMPORT_MAX_COLUMNS: int = _setting("FRAUD_IMPORT_MAX_COLUMNS", 50)

#: The order-time decision (``fraud.selectors.order_decision``) refuses an order at these risk
#: levels. None by default: a block is the fraud team's decision (a person, or a rule they
#: set), while a risk level is a score; refusing on a score alone would be a decision based
#: solely on automated processing (GDPR art. 22). Order approval gets the scores and
#: ``requires_review`` with every decision and may route a risky order to review.
DECISION_REFUSED_RISK_LEVELS: tuple[str, ...] = _setting("FRAUD_DECISION_REFUSED_RISK_LEVELS", ())

#: An analyst who opens an alert or a suspicious activity from its queue, or takes the next
#: one, holds it this long; others see who holds it and may not decide it meanwhile.
CLAIM_MINUTES: int = _setting("FRAUD_CLAIM_MINUTES", 60)
#: The precision report's default period, and the home tile's.
PRECISION_DAYS: int = _setting("FRAUD_PRECISION_DAYS", 30)
#: What a list entry's backtest looks back over (before it is saved).
BACKTEST_DAYS: int = _setting("FRAUD_BACKTEST_DAYS", 30)
#: The backtest counts at most this many matching rows ("100,000+"): its time stays bounded
#: however broad the entry (bench/list_backtest.py).
BACKTEST_MAX_ROWS: int = _setting("FRAUD_BACKTEST_MAX_ROWS", 100_000)
