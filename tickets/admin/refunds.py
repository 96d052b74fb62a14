"""Admin of refund requests."""

from django.contrib import admin

from customer_ops.admin_base import RuleAwareAdmin
from tickets.models import RefundRequest


@admin.register(RefundRequest)
class RefundRequestAdmin(RuleAwareAdmin):
    list_display = [
        "refund_request_id",
        "customer",
        "order",
        "refund_type",
        "requested_amount",
        "approved_amount",
        "refund_status",
        "created_at",
    ]
    list_filter = ["refund_status", "refund_type", "refund_mode"]
    search_fields = ["=refund_request_id", "=order__order_number", "=customer__email"]
    list_select_related = ["customer", "order"]
    autocomplete_fields = ["customer", "order"]
    raw_id_fields = ["processed_by"]
    readonly_fields = ["refund_request_id", "created_at", "updated_at"]
