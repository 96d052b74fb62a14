"""The compliance admins' section of the home page (customer_ops.home), and the recent
actions feed every role's home page shows (the audit log is this app's table).

Each tile counts with the filter of the deletion-request or access-log list it links to.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from compliance import holds, recipients, selectors
from compliance.choices import AccessKind
from compliance.models import AccessLog, AccessRequest, DataDeletionRequest
from customer_ops.home import count_tile
from customer_ops.keyed_urls import reverse_keys
from customer_ops.registry import Tile, register_home, register_recent_actions
from customer_ops.roles import Role


def _requests(**params) -> str:
    return reverse_keys("admin:compliance_datadeletionrequest_changelist") + "?" + urlencode(params)


def compliance_tiles(request) -> list[Tile]:
    now = timezone.now()
    requests = DataDeletionRequest.objects.all()
    open_ = requests.filter(request_status__in=selectors.OPEN_REQUESTS)
    tiles = [
        count_tile(
            "Deletion requests overdue",
            _requests(deadline="overdue"),
            selectors.by_deadline(requests, "overdue", now),
            state="breached",
        ),
        count_tile(
            "Deletion requests due within 7 days",
            _requests(deadline="week"),
            selectors.by_deadline(requests, "week", now),
            state="due_soon",
        ),
    ]
    for rule in holds.HOLD_RULES:
        tiles.append(
            count_tile(
                f"Requests held: {rule.reason}",
                _requests(held=holds.rule_key(rule)),
                holds.held_requests(open_, rule),
            )
        )
    tiles.append(
        count_tile(
            "Erasures completed this week",
            _requests(completed="week"),
            selectors.completed_this_week(requests, now),
            state="ok",
        )
    )
    tiles.append(
        count_tile(
            f"Erasures a system has not confirmed after {settings.ERASURE_CONFIRMATION_DAYS} days",
            _requests(unconfirmed="late"),
            recipients.unconfirmed_after(requests, now),
            state="breached",
        )
    )
    if request.user.has_perm("compliance.view_accessrequest"):
        # Open access requests (pending, or approved and not yet answered by an export) by
        # deadline, as the deletion tiles above; then those awaiting a decision.
        access = reverse_keys("admin:compliance_accessrequest_changelist") + "?"
        requests = AccessRequest.objects.all()
        tiles.append(
            count_tile(
                "Access requests overdue",
                access + urlencode({"deadline": "overdue"}),
                selectors.by_deadline(requests, "overdue", now),
                state="breached",
            )
        )
        tiles.append(
            count_tile(
                "Access requests due within 7 days",
                access + urlencode({"deadline": "week"}),
                selectors.by_deadline(requests, "week", now),
                state="due_soon",
            )
        )
        tiles.append(
            count_tile(
                "Access requests awaiting a decision",
                access + urlencode({"deadline": "pending"}),
                selectors.access_requests_pending(requests),
            )
        )
    if request.user.has_perm("compliance.view_accesslog"):
        start = selectors.week_start(now)
        url = (
            reverse_keys("admin:compliance_accesslog_changelist")
            + "?"
            + urlencode({"kind__exact": AccessKind.EXPORT, "created_at__gte": start.isoformat()})
        )
        exports = AccessLog.objects.filter(kind=AccessKind.EXPORT, created_at__gte=start)
        tiles.append(count_tile("Data exports downloaded this week", url, exports, state="ok"))
    return tiles


register_home(
    key="compliance_requests",
    title="Data-protection requests",
    roles=(Role.COMPLIANCE.value,),
    tiles=compliance_tiles,
    order=40,
    permission="compliance.view_datadeletionrequest",
)
register_recent_actions(key="audit_log", rows=selectors.recent_actions)
