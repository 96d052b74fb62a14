from django.contrib import admin

from compliance.models import AuditLog, ConsentLog, DataDeletionRequest
from customer_ops.admin_base import LogAdmin, RuleAwareAdmin


@admin.register(ConsentLog)
class ConsentLogAdmin(LogAdmin):
    list_display = ["id", "customer", "consent_type", "consent_status", "consent_method", "created_at"]
    list_filter = ["consent_type", "consent_status", "consent_method"]
    search_fields = ["=customer__id", "=customer__email"]
    list_select_related = ["customer"]


@admin.register(DataDeletionRequest)
class DataDeletionRequestAdmin(RuleAwareAdmin):
    list_display = ["request_id", "customer", "request_status", "requested_at", "processed_at", "completed_at"]
    list_filter = ["request_status"]
    search_fields = ["=request_id", "=customer__id", "=customer__email"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["processed_by"]
    readonly_fields = ["request_id", "created_at"]


@admin.register(AuditLog)
class AuditLogAdmin(LogAdmin):
    list_display = ["id", "customer", "action_type", "action_field", "actor_type", "actor_name", "created_at"]
    list_filter = ["action_type", "actor_type"]
    search_fields = ["=customer__id", "=actor_id"]
    list_select_related = ["customer"]
