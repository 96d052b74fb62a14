"""Compliance tables of the spec: consent, data deletion requests and the audit log."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from compliance.choices import ActorType, AuditAction, ConsentMethod, ConsentStatus, ConsentType, RequestStatus
from customer_ops import db
from customer_ops.personal_data import PersonalData, Scope
from customer_ops.write_rules import append_only, never_update


class ConsentLog(db.RuleBoundModel):
    """``customer_consent_log``: GDPR consent given and revoked. An immutable log: the current
    state per consent type is the latest row."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="consents", db_index=False
    )
    consent_type = models.TextField(choices=ConsentType.choices)
    consent_status = models.TextField(choices=ConsentStatus.choices)
    consent_method = models.TextField(choices=ConsentMethod.choices)
    ip_address = models.TextField(blank=True, default="", db_default="")
    user_agent = models.TextField(blank=True, default="", db_default="")
    consent_text = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={"ip_address": Scope.DEVICES_NETWORK, "user_agent": Scope.DEVICES_NETWORK},
        keep_rows="Proof of consent is kept (GDPR art. 7(1)); network details are redacted.",
    )

    class Meta:
        db_table = "customer_consent_log"
        verbose_name_plural = "consent log"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_consent_log", "consent_type", ConsentType),
            db.enum_check("customer_consent_log", "consent_status", ConsentStatus),
            db.enum_check("customer_consent_log", "consent_method", ConsentMethod),
        ]
        indexes = [
            # Current consent per type = the latest row per (customer, type).
            models.Index(fields=["customer", "consent_type", "-created_at"], name="consent_log_current_idx"),
            models.Index(fields=["customer", "-created_at"], name="consent_log_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="consent_log_created_idx"),
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.consent_type} {self.consent_status} by customer {self.customer_id}"


class DataDeletionRequest(db.RuleBoundModel):
    """``customer_data_deletion_requests``: GDPR erasure requests."""

    customer = models.ForeignKey("customer_ops.Customer", on_delete=models.PROTECT, related_name="deletion_requests")
    request_id = models.TextField(
        unique=True, db_default=db.ReadableId("DEL", "customer_data_deletion_requests_request_id_seq"), editable=False
    )
    request_reason = models.TextField(blank=True, default="", db_default="")
    request_status = models.TextField(
        choices=RequestStatus.choices, default=RequestStatus.PENDING, db_default=RequestStatus.PENDING
    )
    requested_at = models.DateTimeField(default=db.timezone.now, db_default=db.Now())
    processed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    processed_by = db.staff("processed_by")
    rejection_reason = models.TextField(blank=True, default="", db_default="")
    deletion_scope = ArrayField(models.TextField(choices=Scope.choices), default=list, db_default=[])
    created_at = db.created_at()

    personal_data = PersonalData(keep_rows="Audit trail: the request itself is the record of the erasure.")

    class Meta:
        db_table = "customer_data_deletion_requests"
        ordering = ["-requested_at", "-id"]
        constraints = [
            db.enum_check("customer_data_deletion_requests", "request_status", RequestStatus),
            models.CheckConstraint(
                condition=models.Q(deletion_scope__contained_by=Scope.values),
                name="customer_data_deletion_requests_scope_valid",
                violation_error_message=f"deletion_scope entries must be among {', '.join(Scope.values)}.",
            ),
        ]
        indexes = [models.Index(fields=["request_status", "requested_at"], name="deletion_requests_status_idx")]
        triggers = [never_update("customer", "request_id", "requested_at", "created_at")]

    def __str__(self) -> str:
        return self.request_id


class AuditLog(db.RuleBoundModel):
    """``customer_audit_log``: the customer-centric trail of every change. An immutable log."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="audit_entries", db_index=False
    )
    action_type = models.TextField(choices=AuditAction.choices)
    action_field = models.TextField(blank=True, default="", db_default="")
    old_value = models.TextField(null=True, blank=True)
    new_value = models.TextField(null=True, blank=True)
    action_reason = models.TextField(blank=True, default="", db_default="")
    actor_type = models.TextField(choices=ActorType.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.TextField(blank=True, default="", db_default="")
    ip_address = models.TextField(blank=True, default="", db_default="")
    user_agent = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={"old_value": Scope.PROFILE, "new_value": Scope.PROFILE},
        keep_rows="Audit trail: kept; old and new values of personal fields are redacted.",
    )

    class Meta:
        db_table = "customer_audit_log"
        verbose_name_plural = "audit log"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_audit_log", "action_type", AuditAction),
            db.enum_check("customer_audit_log", "actor_type", ActorType),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="audit_log_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="audit_log_created_idx"),
            models.Index(fields=["actor_type", "actor_id", "-created_at"], name="audit_log_actor_idx"),
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.action_type} {self.action_field} on customer {self.customer_id}"
