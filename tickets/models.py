"""Support tables of the spec: tickets, their messages, disputes and refund requests."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords

from customer_ops import db
from customer_ops.choices import ServiceType
from customer_ops.personal_data import ENUM, READABLE_ID, SCRUB, Export, PersonalData, Scope
from customer_ops.write_rules import never_update, touch
from tickets.choices import (
    CLOSED_DISPUTE_STATUSES,
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
from tickets.triggers import QueueRebuildOnTargets, QueueSlotOnFirstReply, QueueSlotOnTicket, refunds_within_paid


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

    # Full-row history ("who changed what" on the admin's History page). Historical rows
    # copy the personal columns below: GDPR erasure must redact them too.
    history = HistoricalRecords(table_name="customer_tickets_history")

    personal_data = PersonalData(
        fields={
            "subject": Scope.SUPPORT_CONTENT,
            "description": Scope.SUPPORT_CONTENT,
            "attachments": Scope.SUPPORT_CONTENT,
            "resolution": Scope.SUPPORT_CONTENT,
        },
        text={
            "ticket_id": READABLE_ID,
            "service_type": ENUM,
            "issue_category": ENUM,
            "issue_subcategory": SCRUB,
            "priority": ENUM,
            "status": ENUM,
            "assigned_to_agent_name": SCRUB,
        },
        export=Export(
            columns=(
                "id ticket_id customer_id order_id service_type issue_category issue_subcategory subject "
                "description attachments priority status assigned_at resolution resolution_time_minutes "
                "resolved_at customer_satisfaction_rating follow_up_required follow_up_date created_at "
                "updated_at"
            ),
            withheld="The agents' ids and names (art. 15(4)).",
        ),
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
            # The queue's open views sort the open tickets only (a small part of all tickets).
            models.Index(
                fields=["created_at", "id"],
                name="customer_tickets_open_idx",
                condition=models.Q(status__in=["OPEN", "IN_PROGRESS"]),
            ),
            # The ticket queue: open work by status and priority, and "my tickets".
            models.Index(fields=["status", "priority", "created_at"], name="customer_tickets_queue_idx"),
            models.Index(fields=["assigned_to_agent", "status"], name="customer_tickets_agent_idx"),
            models.Index(fields=["customer", "-created_at"], name="customer_tickets_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="customer_tickets_created_idx"),
            # The dashboard's "resolved per day" and "median resolution time" charts.
            models.Index(
                fields=["resolved_at"],
                include=["issue_category", "resolution_time_minutes", "service_type"],
                name="customer_tickets_resolved_idx",
                condition=models.Q(resolved_at__isnull=False),
            ),
            # The queue's "resolved by" filter (the team report's links), with the week's range.
            models.Index(
                fields=["resolved_by", "resolved_at"],
                name="tickets_resolved_by_idx",
                condition=models.Q(resolved_by__isnull=False),
            ),
            # The queue's search on subject (admin search compares UPPER(subject) LIKE '%...%').
            GinIndex(OpClass(Upper("subject"), name="gin_trgm_ops"), name="customer_tickets_subject_trgm"),
            # The queue's "follow-ups due" view.
            models.Index(
                fields=["follow_up_date"],
                name="customer_tickets_followup_idx",
                condition=models.Q(follow_up_required=True),
            ),
            # The admin's list filters.
            db.filter_index("priority", "tickets_priority_idx"),
            db.filter_index("service_type", "tickets_service_idx"),
            db.filter_index("issue_category", "tickets_category_idx"),
        ]
        triggers = [
            never_update("ticket_id", "customer", "created_at"),
            touch(),
            QueueSlotOnTicket(name="queue_slot"),  # tickets_queue_order follows status and priority
        ]
        permissions = [
            ("work_ticket", "Can work own and unassigned tickets"),
            ("assign_ticket", "Can assign tickets to any agent"),
            ("close_ticket", "Can close resolved tickets"),
            ("export_ticket", "Can export the ticket queue"),
        ]

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
        text={"message_type": ENUM, "sender_type": ENUM},
        customer_path="ticket__customer",
        export=Export(
            columns=(
                "id ticket_id message_text message_type sender_type sender_name attachments is_read read_at created_at"
            ),
            withheld="sender_id: a staff user id when an agent wrote (art. 15(4)); the name the customer saw is given.",
        ),
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
            # The admin's list of all messages, in the model's (created_at, id) order.
            models.Index(fields=["created_at", "id"], name="ticket_messages_created_idx"),
            models.Index(
                fields=["ticket"],
                name="ticket_messages_unread_idx",
                condition=models.Q(is_read=False, sender_type="CUSTOMER"),
            ),
            # The first agent reply (first-response SLA) of each ticket in the queue.
            models.Index(
                fields=["ticket", "created_at"],
                name="ticket_messages_agent_idx",
                condition=models.Q(sender_type="AGENT"),
            ),
            # The admin's list filters, in the list's (created_at, id) order.
            db.filter_index("sender_type", "ticket_msgs_sender_idx", ordering=["created_at", "id"]),
            db.filter_index("message_type", "ticket_msgs_type_idx", ordering=["created_at", "id"]),
            db.filter_index("is_read", "ticket_msgs_read_idx", ordering=["created_at", "id"]),
        ]
        triggers = [never_update("ticket", "message_text", "created_at")]

    def __str__(self) -> str:
        return f"{self.sender_type} message on ticket {self.ticket_id}"


class TicketFirstResponse(models.Model):
    """When an agent first replied to the ticket (its first-response SLA is then met).

    A side table of ``customer_tickets`` (not a spec column), kept by statement-level
    triggers on ``customer_ticket_messages`` (migration 0060): every writer of AGENT
    messages (the reply service, the customer app, bulk loads) keeps it exact. The queue
    joins it instead of running a subquery per ticket to sort on the SLA due time.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="first_reply")
    first_response_at = models.DateTimeField()

    class Meta:
        db_table = "tickets_first_response"
        triggers = [QueueSlotOnFirstReply(name="queue_slot")]  # the due time moves to the resolution target

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.first_response_at:%Y-%m-%d %H:%M}"


class SlaTarget(models.Model):
    """``settings.SUPPORT_SLA`` as rows, for the database's triggers to compute due times.

    Written only by ``tickets.queue_order.sync_sla_targets`` (after every migrate, and by the
    queue before its first read in a process whose settings differ); any change rewrites
    every open ticket's row of ``tickets_queue_order`` (a statement trigger).
    """

    priority = models.TextField(primary_key=True, choices=Priority.choices)
    priority_rank = models.SmallIntegerField()  # higher is more urgent (selectors.PRIORITY_RANK)
    first_response = models.DurationField()
    resolution = models.DurationField()

    class Meta:
        db_table = "tickets_sla_targets"
        triggers = [QueueRebuildOnTargets(name="queue_rebuild")]

    def __str__(self) -> str:
        return f"{self.priority}: {self.first_response} / {self.resolution}"


class TicketQueueSlot(db.QuickLoad):
    """An open ticket's place in the queue: its SLA due time, priority rank and age.

    A side table of ``customer_tickets`` (the spec's table keeps its columns): one row per
    OPEN or IN_PROGRESS ticket, none for the others, kept by triggers on the ticket, its
    first reply and the SLA targets (tickets/triggers.py), never written by Python. The
    queue's open views read their first page from ``tickets_queue_order_idx``, in the
    queue's own order, instead of sorting every open ticket. The views filter on this
    table's columns (the row's existence is "open"), not on the ticket's: the planner
    cannot know that every row here is an open ticket, and would sort rather than walk the
    index for a filter it believes rare.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="queue_slot")
    sla_due_at = models.DateTimeField()  # first-response due until an agent replied, then resolution due
    priority_rank = models.SmallIntegerField()
    created_at = models.DateTimeField()  # the ticket's (never updated)
    unassigned = models.BooleanField()  # OPEN and nobody's: the "Unassigned" view and "take next"

    class Meta:
        db_table = "tickets_queue_order"
        indexes = [
            # selectors.queue_ordering() over the open tickets: due time, priority (most
            # urgent first), age, id. The "SLA breached" and "due within the hour" views are
            # a range of its first key.
            models.Index(
                fields=["sla_due_at", "-priority_rank", "created_at", "ticket"], name="tickets_queue_order_idx"
            ),
            models.Index(
                fields=["sla_due_at", "-priority_rank", "created_at", "ticket"],
                name="tickets_queue_unassigned_idx",
                condition=models.Q(unassigned=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: due {self.sla_due_at:%Y-%m-%d %H:%M}"


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
        text={
            "dispute_id": READABLE_ID,
            "dispute_type": ENUM,
            "dispute_reason": SCRUB,
            "disputed_against": ENUM,
            "dispute_status": ENUM,
            "resolution": SCRUB,
            "legal_case_number": SCRUB,
            "legal_notes": SCRUB,
        },
        keep_rows="Financial record: disputed and refunded amounts are kept; free text is redacted.",
        export=Export(
            columns=(
                "id dispute_id customer_id order_id ticket_id dispute_type dispute_reason "
                "dispute_description disputed_against evidence_urls evidence_description disputed_amount "
                "refund_amount dispute_status resolution resolution_amount resolved_at created_at "
                "updated_at"
            ),
            withheld="legal_case_number and legal_notes: legal professional privilege (UK DPA 2018 sch. 2 para. 19); "
            "disputed_against_id (a merchant or driver) and resolved_by_id (staff): art. 15(4).",
        ),
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
            models.Index(fields=["-created_at", "-id"], name="disputes_created_idx"),  # the admin list's order
            # "Action required" (services.disputes.ActionRequired): each type's open disputes, oldest first.
            models.Index(
                fields=["dispute_type", "created_at", "id"],
                name="disputes_open_due_idx",
                condition=~models.Q(dispute_status__in=CLOSED_DISPUTE_STATUSES),
            ),
            # The trust engine's hourly run: disputes raised or decided since its last run.
            models.Index(fields=["updated_at"], include=["customer"], name="disputes_updated_idx"),
            db.filter_index("dispute_type", "disputes_type_idx"),
            db.filter_index("disputed_against", "disputes_against_idx"),
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

    # Historical rows copy refund_description: GDPR erasure must redact them too.
    history = HistoricalRecords(table_name="customer_refund_requests_history")

    personal_data = PersonalData(
        fields={"refund_description": Scope.SUPPORT_CONTENT},
        text={
            "refund_request_id": READABLE_ID,
            "refund_type": ENUM,
            "refund_reason": SCRUB,
            "refund_reason_code": SCRUB,
            "refund_items": SCRUB,
            "refund_status": ENUM,
            "rejection_reason": SCRUB,
            "refund_mode": ENUM,
        },
        keep_rows="Financial record: refunds are kept for accounting; free text is redacted.",
        export=Export(
            columns=(
                "id refund_request_id customer_id order_id refund_type refund_reason refund_reason_code "
                "refund_description requested_amount approved_amount refund_items refund_status "
                "processed_at rejection_reason completed_at refund_mode created_at updated_at"
            ),
            withheld="processed_by_id: the staff member who decided (art. 15(4)).",
        ),
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
            models.Index(fields=["-created_at", "-id"], name="refund_requests_created_idx"),  # the admin list's order
            # The trust engine's hourly run: refund requests raised or decided since its last run.
            models.Index(fields=["updated_at"], include=["customer"], name="refund_requests_updated_idx"),
            db.filter_index("refund_type", "refunds_type_idx"),
            db.filter_index("refund_mode", "refunds_mode_idx"),
        ]
        triggers = [
            never_update("refund_request_id", "customer", "order", "requested_amount", "created_at"),
            touch(),
            refunds_within_paid(),  # approved refunds of an order <= what it was paid
        ]
        permissions = [
            ("approve_refundrequest", "Can approve or reject refund requests"),
            ("process_refundrequest", "Can process and complete approved refunds"),
        ]

    def __str__(self) -> str:
        return self.refund_request_id


# --- This project's own tables (not in the spec) ---------------------------------------


class InternalNote(db.QuickLoad):
    """A note between staff on a ticket.

    Kept in a table of its own, never in ``customer_ticket_messages``: whatever sends the
    thread to the customer reads that table only, so a note can never reach the customer.
    Notes are never edited (the service only creates them; the admin offers no change).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="internal_notes", db_index=False)
    author = db.staff("author_id")
    author_name = models.TextField(blank=True, default="", db_default="")
    body = models.TextField()
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={"body": Scope.SUPPORT_CONTENT},
        text={"author_name": SCRUB},
        customer_path="ticket__customer",
        export=Export(
            columns=(),
            withheld="Staff-internal working notes, never sent to the customer: they record staff opinions and fraud "
            "suspicions and name staff (art. 15(4), art. 23(1)(d)); the customer's own words are in the messages.",
        ),
    )

    class Meta:
        db_table = "ticket_internal_notes"
        ordering = ["created_at", "id"]
        indexes = [
            # The ticket page's thread.
            models.Index(fields=["ticket", "created_at"], name="ticket_internal_notes_thr_idx"),
            models.Index(fields=["created_at", "id"], name="ticket_internal_notes_crt_idx"),  # the admin list's order
        ]

    def __str__(self) -> str:
        return f"Internal note on ticket {self.ticket_id}"


class Macro(db.QuickLoad):
    """A canned reply, kept by leads, inserted into the reply box on the ticket page.

    ``body`` may use the placeholders of :data:`tickets.macros.PLACEHOLDERS`, e.g.
    ``{{ customer_first_name }}`` and ``{{ order_number }}``.
    """

    name = models.TextField(unique=True)
    body = models.TextField()
    is_active = models.BooleanField(default=True, db_default=True)
    created_by = db.staff("created_by")
    created_at = db.created_at()
    updated_at = db.updated_at()

    class Meta:
        db_table = "ticket_macros"
        ordering = ["name"]
        indexes = [
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="ticket_macros_name_trgm"),
            db.filter_index("is_active", "ticket_macros_active_idx", ordering=["name"]),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from tickets.macros import check_placeholders

        check_placeholders(self.body)


class RefundOrigin(models.Model):
    """Who raised a refund request, and from which ticket (the spec has no column for either).

    Read by the approval rule "a lead never approves their own request" and by the
    ticket page's list of refunds raised from it.
    """

    refund = models.OneToOneField(
        RefundRequest, on_delete=models.PROTECT, primary_key=True, related_name="origin", db_column="refund_id"
    )
    raised_by = db.staff("raised_by")
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="refund_origins"
    )  # indexed: the ticket page lists them
    created_at = db.created_at()

    class Meta:
        db_table = "refund_request_origins"

    def __str__(self) -> str:
        return f"Origin of refund {self.refund_id}"


class SlaKind(models.TextChoices):
    FIRST_RESPONSE = "FIRST_RESPONSE", "First response"
    RESOLUTION = "RESOLUTION", "Resolution"


class SlaEscalation(models.Model):
    """One row per ticket and SLA target it breached: the escalation job's record and the
    lead's flag. The unique key makes the job idempotent (each breach escalates once)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="sla_escalations", db_index=False)
    kind = models.TextField(choices=SlaKind.choices)
    due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(default=db.timezone.now, db_default=db.Now())
    from_priority = models.TextField(choices=Priority.choices)
    to_priority = models.TextField(choices=Priority.choices)

    personal_data = PersonalData(
        text={"kind": ENUM, "from_priority": ENUM, "to_priority": ENUM},
        customer_path="ticket__customer",
        keep_rows="SLA record of a ticket: times and priority codes, no personal columns.",
        export=Export(columns=(), withheld="Internal service-level record of the support team's own work."),
    )

    class Meta:
        db_table = "ticket_sla_escalations"
        ordering = ["-escalated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="ticket_sla_escalations_once"),
            db.enum_check("ticket_sla_escalations", "kind", SlaKind),
        ]
        indexes = [
            models.Index(fields=["-escalated_at", "-id"], name="sla_escalations_created_idx"),  # the admin list's order
            db.filter_index("kind", "sla_escalations_kind_idx", ordering=["-escalated_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} breach of ticket {self.ticket_id}"


# --- The dashboard's support figures, pre-aggregated by tickets.jobs.run_ticket_daily ---------


# Upper bounds (exclusive) of the resolution-time buckets of support_ticket_daily's histogram,
# in minutes: half-octaves, so that the bucket holding a median holds a small share of the
# tickets. Bucket i holds [EDGES[i-1], EDGES[i]); the last one is open-ended. Changing them
# needs a full rebuild (run_daily_jobs over every day).
RESOLUTION_BUCKET_EDGES = sorted({int(2 ** (k / 2)) for k in range(1, 41)})


class TicketDaily(models.Model):
    """``support_ticket_daily``: tickets opened (by ``created_at``) and resolved (by
    ``resolved_at``) per UTC day, service and category, so that the dashboard's support charts
    read a few rows a day instead of every ticket of the range. Tickets without a service
    have ``service_type`` NULL. ``resolution_histogram[i]`` counts the day's resolved tickets
    whose resolution time falls in bucket ``i`` (``RESOLUTION_BUCKET_EDGES``): the median's
    bucket is found here, its exact value in ``ResolutionMinutesDaily``."""

    day = models.DateField()
    service_type = models.TextField(choices=ServiceType.choices, null=True)
    issue_category = models.TextField(choices=IssueCategory.choices)
    opened = models.IntegerField(default=0, db_default=0)
    resolved = models.IntegerField(default=0, db_default=0)
    resolution_histogram = ArrayField(models.IntegerField(), default=list, db_default=[])
    updated_at = db.updated_at()

    # No personal_data declaration: platform-wide counts, no customer column.

    class Meta:
        db_table = "support_ticket_daily"
        verbose_name_plural = "support daily figures"
        ordering = ["-day", "service_type", "issue_category"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "issue_category"],
                name="support_ticket_daily_unique",
                nulls_distinct=False,
            ),
            db.enum_check("support_ticket_daily", "service_type", ServiceType, null=True),
            db.enum_check("support_ticket_daily", "issue_category", IssueCategory),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type or '-'} {self.issue_category}"


class ResolutionMinutesDaily(models.Model):
    """``support_resolution_minutes_daily``: a per-minute histogram of the resolution times
    of the tickets resolved each UTC day, per service and category. ``resolution_time_minutes``
    is a whole number, so the median of any range is exact: the dashboard finds the bucket
    that holds the middle ticket(s) in ``TicketDaily.resolution_histogram`` and reads only
    that bucket's minutes here (tickets.charts.median_resolution_by_category), the value
    ``percentile_cont(0.5)`` over the tickets gives."""

    day = models.DateField()
    service_type = models.TextField(choices=ServiceType.choices, null=True)
    issue_category = models.TextField(choices=IssueCategory.choices)
    minutes = models.IntegerField()
    tickets = models.IntegerField()

    # No personal_data declaration: platform-wide counts, no customer column.

    class Meta:
        db_table = "support_resolution_minutes_daily"
        ordering = ["-day", "service_type", "issue_category", "minutes"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "issue_category", "minutes"],
                name="support_resolution_minutes_daily_unique",
                nulls_distinct=False,
            ),
            db.enum_check("support_resolution_minutes_daily", "service_type", ServiceType, null=True),
            db.enum_check("support_resolution_minutes_daily", "issue_category", IssueCategory),
            models.CheckConstraint(condition=models.Q(tickets__gt=0), name="support_resolution_minutes_daily_positive"),
        ]
        indexes = [
            # The median's second query: one category's minutes within one bucket, over a range of days.
            models.Index(
                fields=["issue_category", "minutes", "day"],
                include=["service_type", "tickets"],
                name="support_resolution_minutes_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.issue_category} {self.minutes} min: {self.tickets}"


# The buckets of support_category_daily's histogram: eighth-octaves (each about 9% wider than
# the last, against 41% for RESOLUTION_BUCKET_EDGES), so that the bucket holding a median holds
# about a quarter of the tickets a half-octave bucket would, and the median's second query
# reads that many fewer minute rows. Changing them needs a full rebuild.
CATEGORY_BUCKET_EDGES = sorted({int(2 ** (k / 8)) for k in range(1, 161)})


class CategoryDaily(models.Model):
    """``support_category_daily``: the resolution times of the tickets resolved each UTC day,
    per category, over every service, as a histogram over the finer ``CATEGORY_BUCKET_EDGES``,
    for the dashboard's default view (every service): the median's first query reads one row
    a day per category (not one per service and category), and its second query reads only
    the minutes of a bucket a quarter as wide. ``resolution_histogram[i]`` counts bucket
    ``i``. Filled by ``tickets.jobs.run_ticket_daily`` with the per-service tables."""

    day = models.DateField()
    issue_category = models.TextField(choices=IssueCategory.choices)
    resolution_histogram = ArrayField(models.IntegerField())
    updated_at = db.updated_at()

    # No personal_data declaration: platform-wide counts, no customer column.

    class Meta:
        db_table = "support_category_daily"
        verbose_name_plural = "support category daily figures"
        ordering = ["-day", "issue_category"]
        constraints = [
            models.UniqueConstraint(fields=["day", "issue_category"], name="support_category_daily_unique"),
            db.enum_check("support_category_daily", "issue_category", IssueCategory),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.issue_category}"


class RefundDaily(models.Model):
    """``support_refund_daily``: refund requests per UTC day (of ``created_at``) and service
    (of their order), with the amounts requested and approved, so that the dashboard's
    "refund amounts per day" chart filtered by a service reads a row a day instead of
    joining a year of refunds to the orders. Filled by ``tickets.jobs.run_ticket_daily``."""

    day = models.DateField()
    service_type = models.TextField(choices=ServiceType.choices)
    refunds = models.IntegerField(default=0, db_default=0)
    requested = models.DecimalField(max_digits=16, decimal_places=2, default=0, db_default=0)
    approved = models.DecimalField(max_digits=16, decimal_places=2, default=0, db_default=0)
    updated_at = db.updated_at()

    # No personal_data declaration: platform-wide sums, no customer column.

    class Meta:
        db_table = "support_refund_daily"
        verbose_name_plural = "support refund daily figures"
        ordering = ["-day", "service_type"]
        constraints = [
            models.UniqueConstraint(fields=["day", "service_type"], name="support_refund_daily_unique"),
            db.enum_check("support_refund_daily", "service_type", ServiceType),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type}"


# The agent's workspace (merge and split links, presence, saved views, the team report).
from tickets.models_hourly import CategoryResolvedDaily, TicketHourly  # noqa: E402,F401  (the live support days)
from tickets.workspace_models import (  # noqa: E402, F401
    AgentWeekly,
    CategoryWeekly,
    PresenceState,
    SavedQueueView,
    TicketLink,
    TicketLinkKind,
    TicketMessageMove,
    TicketPresence,
)
