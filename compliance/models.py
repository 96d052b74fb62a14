"""Compliance tables of the spec: consent, data deletion requests and the audit log."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from compliance.choices import (
    AccessKind,
    AccessRequestStatus,
    ActorType,
    AuditAction,
    ConsentMethod,
    ConsentStatus,
    ConsentType,
    ErasureState,
    RefusalReason,
    RequestStatus,
    VerificationMethod,
)
from customer_ops import db
from customer_ops.personal_data import ENUM, READABLE_ID, SCRUB, Export, Identifier, Keep, PersonalData, Scope
from customer_ops.write_rules import NO_TRUNCATE, NoTruncate, StrictTrigger, append_only, never_update


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
        text={"consent_type": ENUM, "consent_status": ENUM, "consent_method": ENUM, "consent_text": SCRUB},
        identifiers={"ip_address": Identifier.IP, "user_agent": Identifier.USER_AGENT},
        keep_rows="Proof of consent is kept (GDPR art. 7(1)); network details are redacted.",
        export=Export(
            columns=(
                "id customer_id consent_type consent_status consent_method ip_address user_agent "
                "consent_text created_at"
            )
        ),
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
            # The admin's list filters.
            db.filter_index("consent_type", "consent_log_type_idx"),
            db.filter_index("consent_status", "consent_log_status_idx"),
            db.filter_index("consent_method", "consent_log_method_idx"),
        ]
        triggers = [*append_only()]

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

    personal_data = PersonalData(
        text={
            "request_id": READABLE_ID,
            "request_reason": SCRUB,
            "request_status": ENUM,
            "rejection_reason": SCRUB,
            "deletion_scope": ENUM,
        },
        keep_rows="Audit trail: the request itself is the record of the erasure.",
        export=Export(
            columns=(
                "id customer_id request_id request_reason request_status requested_at processed_at "
                "completed_at rejection_reason deletion_scope created_at"
            ),
            withheld="processed_by_id: the staff member who processed it (art. 15(4)).",
        ),
    )

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
        indexes = [
            models.Index(fields=["request_status", "requested_at"], name="deletion_requests_status_idx"),
            models.Index(fields=["-requested_at", "-id"], name="deletion_requests_order_idx"),  # the admin list's order
        ]
        permissions = [("process_datadeletionrequest", "Can approve, reject and run GDPR erasures")]
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
        fields={
            "old_value": Scope.PROFILE,
            "new_value": Scope.PROFILE,
            "actor_name": Scope.PROFILE,
            "ip_address": Scope.DEVICES_NETWORK,
            "user_agent": Scope.DEVICES_NETWORK,
        },
        # The actor columns are the customer's own data only when the customer acted;
        # a staff member's name and IP stay (they are the trail of who changed what).
        only_where={
            "actor_name": models.Q(actor_type=ActorType.CUSTOMER),
            "ip_address": models.Q(actor_type=ActorType.CUSTOMER),
            "user_agent": models.Q(actor_type=ActorType.CUSTOMER),
        },
        text={"action_type": ENUM, "action_field": SCRUB, "action_reason": SCRUB, "actor_type": ENUM},
        identifiers={"ip_address": Identifier.IP, "user_agent": Identifier.USER_AGENT},
        keep_rows="Audit trail: kept; old and new values and the customer's own network details are redacted.",
        export=Export(
            columns=(
                "id customer_id action_type action_field old_value new_value actor_type actor_name "
                "ip_address user_agent created_at"
            ),
            withheld="Staff actors' id, name and network details (only_where: given when the customer acted) and "
            "action_reason, the staff member's internal reasoning, which may record fraud suspicions (art. 15(4), "
            "art. 23(1)(d)).",
        ),
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
            db.filter_index("action_type", "audit_log_action_idx"),  # the admin's list filter
        ]
        triggers = [*append_only()]

    def __str__(self) -> str:
        return f"{self.action_type} {self.action_field} on customer {self.customer_id}"


class AccessLog(db.RuleBoundModel):
    """``compliance_staff_access_log``: who looked at a customer's personal data.

    The spec's audit log records changes (its action types have no "view"); this log of
    the project's own records reads: opening a customer's page, downloading a data export
    or an erasure certificate, revealing a masked field. Append-only, like the spec's logs,
    through the same write-rule machinery.
    """

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="access_entries", db_index=False
    )
    kind = models.TextField(choices=AccessKind.choices)
    detail = models.TextField(blank=True, default="", db_default="", help_text="What was seen (a field, a format).")
    ip_address = models.TextField(blank=True, default="", db_default="")
    user_agent = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    personal_data = PersonalData(
        # The network columns are the staff member's: scrubbing leaves them unless they hold
        # one of the customer's identifiers.
        text={"kind": ENUM, "detail": SCRUB, "ip_address": SCRUB, "user_agent": SCRUB},
        keep_rows="Audit trail of staff access: staff member, time and what was seen; no customer values.",
        export=Export(
            columns=(), withheld="Security record of which staff member opened what: names staff (art. 15(4))."
        ),
    )

    class Meta:
        db_table = "compliance_staff_access_log"
        verbose_name = "personal-data access"
        verbose_name_plural = "personal-data access log"
        ordering = ["-created_at", "-id"]
        constraints = [db.enum_check("compliance_staff_access_log", "kind", AccessKind)]
        indexes = [
            # Compliance filters by customer and by staff member, newest first.
            models.Index(fields=["customer", "-created_at"], name="staff_access_customer_idx"),
            models.Index(fields=["staff", "-created_at"], name="staff_access_staff_idx"),
            models.Index(fields=["-created_at", "-id"], name="staff_access_created_idx"),
            db.filter_index("kind", "staff_access_kind_idx"),  # the admin's list filter
        ]
        permissions = [
            ("export_customer_data", "Can download a customer's data export (right of access)"),
            ("reveal_personal_data", "Can reveal a masked personal field (recorded)"),
        ]
        triggers = [*append_only()]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: customer {self.customer_id} by staff {self.staff_id}"


# The erasure's own record: table and column names, row counts, digests; no personal values.
ERASURE_RECORD = Keep("the erasure's own record: table and column names and counts, no personal values")


class ErasureRun(models.Model):
    """The state of one request's erasure: the plan approved, progress per table, the outcome.

    Progress is committed with each chunk (:mod:`compliance.erasure`), so a killed run is
    resumed where it stopped and nothing is counted twice. The certificate's digest is the
    SHA-256 of the canonical JSON of ``plan`` and ``outcome``.
    """

    request = models.OneToOneField(DataDeletionRequest, on_delete=models.PROTECT, related_name="erasure")
    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="erasure_runs", db_index=False
    )
    state = models.TextField(choices=ErasureState.choices, default=ErasureState.RUNNING)
    plan = models.JSONField(default=dict)
    progress = models.JSONField(default=dict)
    outcome = models.JSONField(default=dict, blank=True)
    digest = models.TextField(blank=True, default="")
    # The customer's identifiers, gathered with the plan, scrubbed from free text while the
    # run lasts (a resumed run needs them); set to null when the erasure completes. The
    # certificate keeps their counts and a keyed digest only.
    identifiers = models.JSONField(null=True, blank=True)
    chunks = models.IntegerField(default=0)
    started_at = models.DateTimeField(default=db.timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    personal_data = PersonalData(
        text={
            "state": ENUM,
            "plan": ERASURE_RECORD,
            "progress": ERASURE_RECORD,
            "outcome": ERASURE_RECORD,
            "digest": Keep("SHA-256 of the plan and the outcome"),
            "identifiers": Keep("what the running erasure scrubs; emptied when it completes"),
        },
        keep_rows="Audit trail of the erasure itself: counts per table, no personal values.",
        export=Export(
            columns=(), withheld="Internal record of how an erasure ran (counts, digests); the request is given."
        ),
    )

    class Meta:
        db_table = "compliance_erasure_runs"
        constraints = [db.enum_check("compliance_erasure_runs", "state", ErasureState)]
        indexes = [models.Index(fields=["customer"], name="erasure_runs_customer_idx")]

    def __str__(self) -> str:
        return f"Erasure of {self.request}"


class AccessRequest(models.Model):
    """A customer's right-of-access request (GDPR art. 15), filed by the privacy portal (a
    calling system) or recorded by a compliance officer; not a spec table.

    Decided once under four eyes (:mod:`compliance.services`): whoever recorded it may not
    approve it. Approval is the officer's go-ahead for the customer data export
    (``compliance.export``), which the request's page offers; producing that export
    completes the request (``access_request_export``): ``completed_at`` and ``export_log``,
    the access-log row of the download (who, when, which format). Until then an approved
    request stays open and its deadline runs. ``updated_at`` is the version a decision
    checks (``expected_version``).
    """

    request_id = models.TextField(
        unique=True, db_default=db.ReadableId("ACC", "compliance_access_requests_request_id_seq"), editable=False
    )
    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="access_requests", db_index=False
    )
    request_reason = models.TextField(blank=True, default="", db_default="")
    status = models.TextField(
        choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING, db_default=AccessRequestStatus.PENDING
    )
    requested_at = models.DateTimeField(default=db.timezone.now, db_default=db.Now())
    # Who recorded it: a staff member, or (``recorded_by`` empty) the calling system named here.
    recorded_by = db.staff("recorded_by")
    recorded_via = models.TextField(blank=True, default="", db_default="", help_text="The calling system, if any.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = db.staff("decided_by")
    rejection_reason = models.TextField(blank=True, default="", db_default="")
    completed_at = models.DateTimeField(null=True, blank=True)
    # The export that answered the request: its row in the staff access log. No database FK,
    # as for the outbox's deliveries: the log is append-only (its triggers refuse DELETE and
    # TRUNCATE, so the row cannot go), and its own TRUNCATE trigger must be what refuses.
    export_log = models.OneToOneField(
        AccessLog,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="answered_request",
    )
    created_at = db.created_at()
    updated_at = models.DateTimeField(auto_now=True)

    personal_data = PersonalData(
        text={
            "request_id": READABLE_ID,
            "request_reason": SCRUB,
            "status": ENUM,
            "recorded_via": SCRUB,
            "rejection_reason": SCRUB,
        },
        keep_rows="Record of the request and its decision (accountability, art. 5(2)); free text is scrubbed.",
        export=Export(
            columns=(
                "id request_id customer_id request_reason status requested_at decided_at rejection_reason "
                "completed_at created_at"
            ),
            withheld="recorded_by_id, decided_by_id, recorded_via and export_log_id: the staff members and systems "
            "that handled it (art. 15(4)).",
        ),
    )

    class Meta:
        db_table = "compliance_access_requests"
        ordering = ["-requested_at", "-id"]
        constraints = [
            db.enum_check("compliance_access_requests", "status", AccessRequestStatus),
            # The database's backstop for access_request_export: a completed request names
            # the export that answered it, and only a completed one does.
            models.CheckConstraint(
                condition=models.Q(
                    status=AccessRequestStatus.COMPLETED, completed_at__isnull=False, export_log__isnull=False
                )
                | (
                    ~models.Q(status=AccessRequestStatus.COMPLETED)
                    & models.Q(completed_at__isnull=True, export_log__isnull=True)
                ),
                name="compliance_access_requests_completed_by_export",
                violation_error_message="A completed access request names its export, and only a completed one.",
            ),
        ]
        indexes = [
            # the deadline filters and the home tiles: open requests (PENDING, APPROVED) by age
            models.Index(fields=["status", "requested_at"], name="access_requests_status_idx"),
            models.Index(fields=["customer", "-requested_at"], name="access_requests_customer_idx"),
            models.Index(fields=["-requested_at", "-id"], name="access_requests_order_idx"),  # the admin list's order
        ]
        permissions = [("process_accessrequest", "Can approve or reject right-of-access requests")]

    def __str__(self) -> str:
        return self.request_id


class RequestHandling(models.Model):
    """How a data-subject request (a deletion or an access request) was handled beyond the
    spec's columns; not a spec table. One row per request, written by
    :mod:`compliance.dsr`: the identity verification approval needs, the one extension of
    the statutory deadline (GDPR art. 12(3)), and the refusal reason from the fixed list.
    """

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="request_handling", db_index=False
    )
    deletion_request = models.OneToOneField(
        DataDeletionRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="handling"
    )
    access_request = models.OneToOneField(
        AccessRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="handling"
    )
    verification_method = models.TextField(choices=VerificationMethod.choices, blank=True, default="")
    verification_reference = models.TextField(blank=True, default="")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = db.staff("verified_by")
    # The deadline after the one extension; empty: the statutory month applies.
    extended_until = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True, default="")
    customer_told_on = models.DateField(null=True, blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extended_by = db.staff("extended_by")
    refusal_reason = models.TextField(choices=RefusalReason.choices, blank=True, default="")
    created_at = db.created_at()

    personal_data = PersonalData(
        text={
            "verification_method": ENUM,
            "verification_reference": SCRUB,
            "extension_reason": SCRUB,
            "refusal_reason": ENUM,
        },
        keep_rows="Record of how the request was handled (accountability, art. 5(2)); free text is scrubbed.",
        export=Export(
            columns="verification_method verified_at extended_until customer_told_on refusal_reason",
            withheld="verification_reference, extension_reason and the staff ids: the officers' record (art. 15(4)).",
        ),
    )

    class Meta:
        db_table = "compliance_request_handling"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deletion_request__isnull=True) ^ models.Q(access_request__isnull=True),
                name="compliance_request_handling_one_request",
            ),
            models.CheckConstraint(
                condition=models.Q(verified_at__isnull=True) | ~models.Q(verification_method=""),
                name="compliance_request_handling_verified_how",
            ),
            models.CheckConstraint(
                condition=models.Q(extended_until__isnull=True)
                | (~models.Q(extension_reason="") & models.Q(customer_told_on__isnull=False)),
                name="compliance_request_handling_extension_why",
            ),
            models.CheckConstraint(
                condition=models.Q(verification_method__in=[*VerificationMethod.values, ""]),
                name="request_handling_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(refusal_reason__in=[*RefusalReason.values, ""]),
                name="request_handling_refusal_valid",
            ),
        ]
        indexes = [
            # the deadline filters and tiles: extended requests by their new deadline
            models.Index(fields=["extended_until"], name="request_handling_extended_idx"),
            models.Index(fields=["customer"], name="request_handling_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"Handling of {self.deletion_request or self.access_request}"


# --- the hash chain over the two audit logs (compliance/chain.py, docs/audit_chain.md) ----------


class ChainAppendOnly(StrictTrigger):
    """UPDATE and DELETE refused on a chain table, whoever has the right to try (the runtime
    role has none: ``backoffice_private_*``). ``forget_salt=True`` lets one change through: an
    entry's ``salt`` set to NULL with every other column unchanged, which the chain's own
    function does when an erasure redacts the row (compliance/chain.py)."""

    when = pgtrigger.Before
    operation = pgtrigger.Update | pgtrigger.Delete

    def __init__(self, *, forget_salt: bool = False, **kwargs):
        self.forget_salt = forget_salt
        super().__init__(**kwargs)

    def get_func(self, model):
        allowed = ""
        if self.forget_salt:
            kept = [f.column for f in model._meta.concrete_fields if f.column and f.column != "salt"]
            new, old = (", ".join(f'{row}."{column}"' for column in kept) for row in ("NEW", "OLD"))
            allowed = f"""
            IF TG_OP = 'UPDATE' AND NEW.salt IS NULL AND ROW({new}) IS NOT DISTINCT FROM ROW({old}) THEN
                RETURN NEW;
            END IF;"""
        return self.format_sql(
            allowed
            + """
            RAISE EXCEPTION '%: the audit chain is append-only, % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
            """
        )


class AuditChainEntry(models.Model):
    """One row of ``customer_audit_log`` or ``compliance_staff_access_log`` in the hash chain.

    Written only by the database: the logs' AFTER INSERT trigger (a SECURITY DEFINER function
    owned by the owner role) appends the entry in the inserting transaction. ``chain`` is one
    of ``compliance.chain.CHAINS`` chains (the inserting transaction's id modulo their number),
    ``seq`` its position there (1, 2, ...). ``hash`` covers ``prev`` (the previous entry's
    hash), the position, the row's non-personal values and ``digests``, one salted SHA-256 per
    personal column: so an erasure that redacts those columns leaves every hash valid. What is
    hashed, exactly: docs/audit_chain.md.
    """

    pk = models.CompositePrimaryKey("chain", "seq")
    chain = models.SmallIntegerField()
    seq = models.BigIntegerField()
    source = models.TextField(help_text="The log table the row is in.")
    row_id = models.BigIntegerField()
    # Random per entry, part of every digest; set to NULL when an erasure changes the row, so
    # the digests of the erased values can no longer be tested against guesses.
    salt = models.BinaryField(null=True)
    digests = ArrayField(models.BinaryField())
    prev = models.BinaryField()
    hash = models.BinaryField()

    class Meta:
        db_table = "backoffice_private_audit_chain"
        default_permissions = ()  # nobody edits it, not even a superuser in the admin
        constraints = [
            # One entry per row; also what the salt-forgetting trigger and the backfill look rows up by.
            models.UniqueConstraint(fields=["source", "row_id"], name="backoffice_private_audit_chain_row"),
            models.CheckConstraint(
                condition=models.Q(source__in=["customer_audit_log", "compliance_staff_access_log"]),
                name="backoffice_private_audit_chain_source_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(chain__gte=0, seq__gte=1), name="backoffice_private_audit_chain_position_valid"
            ),
        ]
        triggers = [ChainAppendOnly(name="chain_append_only", forget_salt=True), NoTruncate(name=NO_TRUNCATE)]

    def __str__(self) -> str:
        return f"chain {self.chain} #{self.seq}: {self.source} {self.row_id}"


class AuditChainCheckpoint(models.Model):
    """A chain's head (its last entry's position and hash) as the daily job
    ``checkpoint_audit_chain`` found it: an entry cut off the end of a chain after a
    checkpoint is missing from the chain the next verification reads."""

    chain = models.SmallIntegerField()
    seq = models.BigIntegerField()
    hash = models.BinaryField()
    recorded_at = models.DateTimeField(db_default=db.Now())

    class Meta:
        db_table = "backoffice_private_audit_chain_checkpoints"
        default_permissions = ()
        indexes = [models.Index(fields=["chain", "-seq"], name="audit_chain_checkpoints_idx")]
        triggers = [ChainAppendOnly(name="chain_append_only"), NoTruncate(name=NO_TRUNCATE)]

    def __str__(self) -> str:
        return f"chain {self.chain} at #{self.seq} ({self.recorded_at:%Y-%m-%d %H:%M})"


class ErasureRecipient(models.Model):
    """A system of the platform that received a completed erasure
    (``data_subject_request.completed``, GDPR art. 17(2) and 19) and must confirm it erased
    the customer too; not a spec table.

    Written by the webhook fan-out in the transaction of the completion (one row per
    subscribed system), confirmed by that system through the API (``erasure:confirm``), or
    waived by a compliance admin with the reason why not. A deletion request is fully
    closed when every recipient is confirmed or waived (:mod:`compliance.recipients`).
    """

    request = models.ForeignKey(DataDeletionRequest, on_delete=models.PROTECT, related_name="recipients")
    system = models.CharField(max_length=100, editable=False, help_text="The API client the event was sent to.")
    notified_at = models.DateTimeField(default=db.timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_by = db.staff("waived_by")
    waiver_reason = models.TextField(blank=True, default="")

    personal_data = PersonalData(
        customer_path="request__customer",
        text={"system": Keep("the name of an API client (a system of the platform)"), "waiver_reason": SCRUB},
        keep_rows="Audit trail of the erasure: which systems confirmed it.",
        export=Export(
            columns="system notified_at confirmed_at", withheld="waived_by_id, waiver_reason: staff's record"
        ),
    )

    class Meta:
        db_table = "compliance_erasure_recipients"
        constraints = [
            models.UniqueConstraint(fields=["request", "system"], name="compliance_erasure_recipients_once"),
            models.CheckConstraint(
                condition=models.Q(waived_at__isnull=True) | ~models.Q(waiver_reason=""),
                name="compliance_erasure_recipients_waiver_reason",
            ),
        ]
        # compliance's home tile: recipients still open (neither confirmed nor waived)
        indexes = [
            models.Index(
                fields=["notified_at"],
                name="erasure_recipients_open_idx",
                condition=models.Q(confirmed_at__isnull=True, waived_at__isnull=True),
            ),
            # the admin list: newest first, and its filter by system
            models.Index(fields=["-notified_at", "-id"], name="erasure_recipients_recent_idx"),
            models.Index(fields=["system", "-notified_at"], name="erasure_recipients_system_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.system} ({self.request_id})"

    @property
    def state(self) -> str:
        if self.confirmed_at:
            return "confirmed"
        return "waived" if self.waived_at else "unconfirmed"
