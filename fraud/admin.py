from django.contrib import admin

from customer_ops.admin_base import LogAdmin, RuleAwareAdmin
from fraud.models import Block, FraudAlert, SuspiciousActivity, TrustScore, VerificationHistory


@admin.register(TrustScore)
class TrustScoreAdmin(RuleAwareAdmin):
    list_display = [
        "customer",
        "trust_score",
        "fraud_score",
        "risk_level",
        "is_suspicious",
        "requires_review",
        "is_fraudulent",
        "last_calculated_at",
    ]
    list_filter = ["risk_level", "is_suspicious", "requires_review", "is_fraudulent"]
    search_fields = ["=customer__id", "=customer__email"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(FraudAlert)
class FraudAlertAdmin(RuleAwareAdmin):
    list_display = ["id", "customer", "alert_type", "alert_severity", "is_resolved", "action_taken", "created_at"]
    list_filter = ["is_resolved", "alert_severity", "alert_type"]
    search_fields = ["=id", "=customer__id", "=customer__email"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "order"]
    raw_id_fields = ["action_taken_by"]
    readonly_fields = ["created_at"]


@admin.register(Block)
class BlockAdmin(RuleAwareAdmin):
    list_display = [
        "id",
        "customer",
        "block_type",
        "service_type",
        "blocked_by",
        "blocked_at",
        "blocked_until",
        "is_unblocked",
    ]
    list_filter = ["is_unblocked", "block_type", "service_type", "blocked_by", "auto_unblock"]
    search_fields = ["=customer__id", "=customer__email", "block_reason_code"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["blocked_by_staff", "unblocked_by"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(SuspiciousActivity)
class SuspiciousActivityAdmin(RuleAwareAdmin):
    list_display = [
        "id",
        "customer",
        "activity_type",
        "detected_by",
        "detection_confidence",
        "risk_score",
        "requires_review",
        "reviewed",
        "created_at",
    ]
    list_filter = ["reviewed", "requires_review", "activity_type", "detected_by"]
    search_fields = ["=customer__id", "=customer__email"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["reviewed_by"]
    readonly_fields = ["created_at"]


@admin.register(VerificationHistory)
class VerificationHistoryAdmin(LogAdmin):
    list_display = [
        "id",
        "customer",
        "verification_type",
        "verification_method",
        "verification_status",
        "attempt_number",
        "created_at",
    ]
    list_filter = ["verification_type", "verification_status", "verification_method"]
    search_fields = ["=customer__id", "=device_id", "=ip_address"]
    list_select_related = ["customer"]
