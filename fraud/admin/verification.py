"""Verification history: read-only evidence, filterable by outcome, type and method."""

from __future__ import annotations

from django.contrib import admin

from customer_ops.admin_base import LogAdmin
from fraud.admin.common import severity_badge
from fraud.models import VerificationHistory

_STATUS_BADGE = {"SUCCESS": "ok", "FAILED": "critical", "EXPIRED": "medium", "INITIATED": "low"}


@admin.register(VerificationHistory)
class VerificationHistoryAdmin(LogAdmin):
    """Linked from the customer page and alerts as ``?customer__id__exact=<id>`` (served by
    ``verification_customer_idx``), e.g. with ``&verification_status__exact=FAILED``."""

    list_display = [
        "id",
        "customer",
        "verification_type",
        "verification_method",
        "status",
        "attempt_number",
        "failure_reason",
        "ip_address",
        "device_id",
        "created_at",
    ]
    list_filter = ["verification_status", "verification_type", "verification_method"]
    search_fields = ["=customer__id", "=device_id", "=ip_address"]
    list_select_related = ["customer"]

    @admin.display(description="Status", ordering="verification_status")
    def status(self, obj):
        return severity_badge(_STATUS_BADGE.get(obj.verification_status, "low"), obj.get_verification_status_display())
