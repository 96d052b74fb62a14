"""The auth and app systems' logs: login history and the activity log, appended in batches
(offered by :mod:`analytics.services`, the one write path; the service API calls them).

Both tables are immutable, monthly-partitioned logs (``customer_ops.partitions``). A batch
is checked whole in Python first (:mod:`customer_ops.batches`: the spec's enums and ranges,
IP addresses, timestamps at most :data:`~customer_ops.batches.CLOCK_SKEW` ahead and
:data:`~customer_ops.batches.MAX_LATENESS` late, every customer, order and session it names
in one query); one bad item refuses the batch with :class:`LogInvalid` listing every bad
item, and nothing is written. A good batch is written by one COPY, PostgreSQL routing each
row to its month's partition. Partitions exist from the current month to a few months
ahead (``roll_partitions``); a late row of a month without one lands in the default
partition, from which the daily ``roll_partitions`` moves it into its new month: a request
never creates partitions (``ensure_monthly`` refuses it).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from analytics.choices import LoginMethod
from analytics.models import ActivityLog, LoginHistory
from customer_ops import batches
from customer_ops.batches import LONG_TEXT, Field
from customer_ops.choices import ServiceType
from customer_ops.errors import Invalid
from customer_ops.permissions import requires
from customer_ops.scopes import LOGS_WRITE

__all__ = ["MAX_LOG_ROWS", "LogInvalid", "activity_log_append", "login_history_append"]

MAX_LOG_ROWS = batches.MAX_LOG_ROWS  # offered here for the API's schema


class LogInvalid(Invalid):
    """A batch of log rows refused; ``errors`` lists every bad item."""


LOGIN_FIELDS = {
    "customer_id": Field(batches.reference, required=True),
    "login_method": Field(batches.choice(LoginMethod), required=True),
    "login_success": Field(batches.boolean, required=True),
    "device_id": Field(batches.text(), default=""),
    "device_type": Field(batches.text(), default=""),
    "device_model": Field(batches.text(), default=""),
    "ip_address": Field(batches.ip_address, default=""),
    "ip_location": Field(batches.text(), default=""),
    "user_agent": Field(batches.text(1000), default=""),
    "failure_reason": Field(batches.text(LONG_TEXT), default=""),
    "session_id": Field(batches.reference),
    "created_at": Field(batches.timestamp(), default=timezone.now),
}

ACTIVITY_FIELDS = {
    "customer_id": Field(batches.reference, required=True),
    # The spec's list ends in "etc.": any UPPER_SNAKE_CASE code, as the column's CHECK says.
    "activity_type": Field(batches.code(r"[A-Z][A-Z0-9_]*", example="ORDER_PLACED"), required=True),
    "activity_description": Field(batches.text(LONG_TEXT), default=""),
    "service_type": Field(batches.choice(ServiceType)),
    "order_id": Field(batches.reference),
    "device_id": Field(batches.text(), default=""),
    "ip_address": Field(batches.ip_address, default=""),
    "location_lat": Field(batches.number(-90, 90, places=6)),
    "location_lon": Field(batches.number(-180, 180, places=6)),
    "activity_metadata": Field(batches.json_object(), default=dict),
    "created_at": Field(batches.timestamp(), default=timezone.now),
}

LOGIN_COLUMNS = tuple(LOGIN_FIELDS)
ACTIVITY_COLUMNS = tuple(ACTIVITY_FIELDS)


@requires(scope=LOGS_WRITE, what="append login history")
@transaction.atomic
def login_history_append(*, items: list[dict], actor) -> int:
    """Append up to :data:`MAX_LOG_ROWS` login attempts, all or nothing. The auth system's
    log alone: no staff member may write it. Returns how many rows were written."""
    rows = batches.validated(
        items, LOGIN_FIELDS, max_items=MAX_LOG_ROWS, noun="login attempts", error=LogInvalid, model=LoginHistory
    )
    return batches.copy_rows(LoginHistory, LOGIN_COLUMNS, ([row[c] for c in LOGIN_COLUMNS] for row in rows))


@requires(scope=LOGS_WRITE, what="append to the activity log")
@transaction.atomic
def activity_log_append(*, items: list[dict], actor) -> int:
    """Append up to :data:`MAX_LOG_ROWS` customer activities, all or nothing. The app
    systems' log alone: no staff member may write it. Returns how many rows were written."""
    rows = batches.validated(
        items, ACTIVITY_FIELDS, max_items=MAX_LOG_ROWS, noun="activities", error=LogInvalid, model=ActivityLog
    )
    for row in rows:
        row["activity_metadata"] = Jsonb(row["activity_metadata"])
    return batches.copy_rows(ActivityLog, ACTIVITY_COLUMNS, ([row[c] for c in ACTIVITY_COLUMNS] for row in rows))
