"""Admin of disputes (the legal team's console)."""

from django.contrib import admin

from customer_ops.admin_base import RuleAwareAdmin
from tickets.models import Dispute


@admin.register(Dispute)
class DisputeAdmin(RuleAwareAdmin):
    list_display = [
        "dispute_id",
        "customer",
        "dispute_type",
        "disputed_against",
        "disputed_amount",
        "dispute_status",
        "created_at",
    ]
    list_filter = ["dispute_status", "dispute_type", "disputed_against"]
    search_fields = ["=dispute_id", "=customer__email", "=order__order_number"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "order"]
    raw_id_fields = ["ticket", "resolved_by"]
    readonly_fields = ["dispute_id", "created_at", "updated_at"]
