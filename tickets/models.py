"""Support tables of the spec: tickets, their messages, disputes and refund requests."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from simple_history.models import HistoricalRecords

from customer_ops import db
from customer_ops.choices import ServiceType
from customer_ops.personal_data import PersonalData, Scope
from customer_ops.write_rules import never_update, touch
from tickets.choices import (
    DisputedAgainst,
    DisputeStatus,
    DisputeType,
    IssueCategory,
    MessageType,
    Priority,
    RefundMode,
    RefundStatus,
    RefundType,
    SenderType,
    TicketStatus,
)


class Ticket(db.RuleBoundModel):
    """``customer_tickets``: customer support tickets for issues, complaints and queries."""

    ticket_id = models.TextField(
        unique=True,
        db_default=db.ReadableId("TKT", "customer_tickets_ticket_id_seq"),
        editable=False,
        help_text="Human-readable ticket id.",
    )
    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    order = models.ForeignKey(
        "customer_ops.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    service_type = models.TextField(choices=ServiceType.choices, null=True, blank=True)
    issue_category = models.TextField(choices=IssueCategory.choices)
    issue_subcategory = models.TextField(blank=True, default="", db_default="")
    subject = models.TextField()
    description = models.TextField(blank=True, default="", db_default="")
    attachments = ArrayField(models.TextField(), blank=True, default=list, db_default=[])
    priority = models.TextField(choices=Priority.choices, default=Priority.MEDIUM, db_default=Priority.MEDIUM)
    status = models.TextField(choices=TicketStatus.choices, default=TicketStatus.OPEN, db_default=TicketStatus.OPEN)
    assigned_to_agent = db.staff("assigned_to_agent_id")
    assigned_to_agent_name = models.TextField(blank=True, default="", db_default="")
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, default="", db_default="")
    resolution_time_minutes = models.IntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = db.staff("resolved_by")
    customer_satisfaction_rating = db.rating(null=True, blank=True)
    follow_up_required = models.BooleanField(default=False, db_default=False)
    follow_up_date = models.DateTimeField(null=True, blank=True)
    created_at = db.created_at()
    updated_at = db.updated_at()

    personal_data = PersonalData(
        fields={
            "subject": Scope.SUPPORT_CONTENT,
            "description": Scope.SUPPORT_CONTENT,
            "attachments": Scope.SUPPORT_CONTENT,
            "resolution": Scope.SUPPORT_CONTENT,
        }
    )

    class Meta:
        db_table = "customer_tickets"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_tickets", "service_type", ServiceType, null=True),
            db.enum_check("customer_tickets", "issue_category", IssueCategory),
            db.enum_check("customer_tickets", "priority", Priority),
            db.enum_check("customer_tickets", "status", TicketStatus),
            db.range_check("customer_tickets", "customer_satisfaction_rating", 1, 5),
            db.range_check("customer_tickets", "resolution_time_minutes", low=0),
        ]
        indexes = [
            # The ticket queue: open work by status and priority, and "my tickets".
            models.Index(fields=["status", "priority", "created_at"], name="customer_tickets_queue_idx"),
            models.Index(fields=["assigned_to_agent", "status"], name="customer_tickets_agent_idx"),
            models.Index(fields=["customer", "-created_at"], name="customer_tickets_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="customer_tickets_created_idx"),
        ]
        triggers = [never_update("ticket_id", "customer", "created_at"), touch()]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.subject}"


class TicketMessage(db.RuleBoundModel):
    """``customer_ticket_messages``: the conversation thread of a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="messages", db_index=False)
    message_text = models.TextField()
    message_type = models.TextField(choices=MessageType.choices, default=MessageType.TEXT, db_default=MessageType.TEXT)
    sender_type = models.TextField(choices=SenderType.choices)
    sender_id = models.BigIntegerField(null=True, blank=True)
    sender_name = models.TextField(blank=True, default="", db_default="")
    attachments = ArrayField(models.TextField(), blank=True, default=list, db_default=[])
    is_read = models.BooleanField(default=False, db_default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={
            "message_text": Scope.SUPPORT_CONTENT,
            "attachments": Scope.SUPPORT_CONTENT,
            "sender_name": Scope.SUPPORT_CONTENT,
        },
        customer_path="ticket__customer",
    )

    class Meta:
        db_table = "customer_ticket_messages"
        ordering = ["created_at", "id"]
        constraints = [
            db.enum_check("customer_ticket_messages", "message_type", MessageType),
            db.enum_check("customer_ticket_messages", "sender_type", SenderType),
        ]
        indexes = [
            # The thread in order, and the queue's unread-customer-messages count.
            models.Index(fields=["ticket", "created_at"], name="ticket_messages_thread_idx"),
            models.Index(
                fields=["ticket"],
                name="ticket_messages_unread_idx",
                condition=models.Q(is_read=False, sender_type="CUSTOMER"),
            ),
        ]
        triggers = [never_update("ticket", "message_text", "created_at")]

    def __str__(self) -> str:
        return f"{self.sender_type} message on ticket {self.ticket_id}"


class Dispute(db.RuleBoundModel):
    """``customer_disputes``: legal disputes raised by customers."""

    dispute_id = models.TextField(
        unique=True, db_default=db.ReadableId("DSP", "customer_disputes_dispute_id_seq"), editable=False
    )
    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="disputes", db_index=False
    )
    order = models.ForeignKey(
        "customer_ops.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes")
    dispute_type = models.TextField(choices=DisputeType.choices)
    dispute_reason = models.TextField()
    dispute_description = models.TextField(blank=True, default="", db_default="")
    disputed_against = models.TextField(choices=DisputedAgainst.choices)
    disputed_against_id = models.BigIntegerField(null=True, blank=True)
    evidence_urls = ArrayField(models.TextField(), blank=True, default=list, db_default=[])
    evidence_description = models.TextField(blank=True, default="", db_default="")
    disputed_amount = db.money()
    refund_amount = db.money(null=True, blank=True)
    dispute_status = models.TextField(
        choices=DisputeStatus.choices, default=DisputeStatus.OPEN, db_default=DisputeStatus.OPEN
    )
    resolution = models.TextField(blank=True, default="", db_default="")
    resolution_amount = db.money(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = db.staff("resolved_by")
    legal_case_number = models.TextField(blank=True, default="", db_default="")
    legal_notes = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()
    updated_at = db.updated_at()

    # The legal fields are the legal team's alone: they are left out of the history table,
    # so no history page can ever show them (changes to them are audited without values).
    history = HistoricalRecords(excluded_fields=["legal_case_number", "legal_notes"])

    personal_data = PersonalData(
        fields={
            "dispute_description": Scope.SUPPORT_CONTENT,
            "evidence_urls": Scope.SUPPORT_CONTENT,
            "evidence_description": Scope.SUPPORT_CONTENT,
        },
        keep_rows="Financial record: disputed and refunded amounts are kept; free text is redacted.",
    )

    class Meta:
        db_table = "customer_disputes"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_disputes", "dispute_type", DisputeType),
            db.enum_check("customer_disputes", "disputed_against", DisputedAgainst),
            db.enum_check("customer_disputes", "dispute_status", DisputeStatus),
            db.range_check("customer_disputes", "disputed_amount", low=0),
            db.range_check("customer_disputes", "refund_amount", low=0),
            db.range_check("customer_disputes", "resolution_amount", low=0),
            db.not_above("customer_disputes", "refund_amount", "disputed_amount"),
            db.not_above("customer_disputes", "resolution_amount", "disputed_amount"),
        ]
        indexes = [
            models.Index(fields=["dispute_status", "created_at"], name="customer_disputes_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="customer_disputes_customer_idx"),
        ]
        triggers = [never_update("dispute_id", "customer", "order", "created_at"), touch()]
        permissions = [("view_legal_dispute", "Can see and set a dispute's legal case number and notes")]

    def __str__(self) -> str:
        return self.dispute_id


class RefundRequest(db.RuleBoundModel):
    """``customer_refund_requests``: customer-initiated refund requests."""

    refund_request_id = models.TextField(
        unique=True, db_default=db.ReadableId("RFD", "customer_refund_requests_refund_request_id_seq"), editable=False
    )
    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="refund_requests", db_index=False
    )
    order = models.ForeignKey("customer_ops.Order", on_delete=models.PROTECT, related_name="refund_requests")  # indexed
    refund_type = models.TextField(choices=RefundType.choices)
    refund_reason = models.TextField()
    refund_reason_code = models.TextField(blank=True, default="", db_default="")
    refund_description = models.TextField(blank=True, default="", db_default="")
    requested_amount = db.money()
    approved_amount = db.money(null=True, blank=True)
    refund_items = models.JSONField(null=True, blank=True, help_text="Items for partial and item refunds.")
    refund_status = models.TextField(
        choices=RefundStatus.choices, default=RefundStatus.PENDING, db_default=RefundStatus.PENDING
    )
    processed_by = db.staff("processed_by")
    processed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, default="", db_default="")
    completed_at = models.DateTimeField(null=True, blank=True)
    refund_mode = models.TextField(choices=RefundMode.choices, null=True, blank=True)
    created_at = db.created_at()
    updated_at = db.updated_at()

    personal_data = PersonalData(
        fields={"refund_description": Scope.SUPPORT_CONTENT},
        keep_rows="Financial record: refunds are kept for accounting; free text is redacted.",
    )

    class Meta:
        db_table = "customer_refund_requests"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_refund_requests", "refund_type", RefundType),
            db.enum_check("customer_refund_requests", "refund_status", RefundStatus),
            db.enum_check("customer_refund_requests", "refund_mode", RefundMode, null=True),
            db.range_check("customer_refund_requests", "requested_amount", low=0),
            db.range_check("customer_refund_requests", "approved_amount", low=0),
            db.not_above("customer_refund_requests", "approved_amount", "requested_amount"),
        ]
        indexes = [
            models.Index(fields=["refund_status", "created_at"], name="refund_requests_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="refund_requests_customer_idx"),
        ]
        triggers = [
            never_update("refund_request_id", "customer", "order", "requested_amount", "created_at"),
            touch(),
        ]

    def __str__(self) -> str:
        return self.refund_request_id
