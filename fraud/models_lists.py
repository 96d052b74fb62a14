"""Lists (Stripe Radar's block and review lists): device ids, IP addresses and ranges, email
domains. A login or activity row that matches a live entry raises a suspicious activity,
once per customer and entry (``fraud_list_hits``, ``fraud.lists``). Not spec tables.

IP entries are PostgreSQL ``cidr`` (a single address is a /32 or /128) matched with ``<<=``
against the log rows' addresses through GiST ``inet_ops`` indexes on
``fraud_inet(ip_address)`` (migration 0016: the logs keep the spec's TEXT column; the
function reads a malformed value as NULL instead of failing the insert).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from customer_ops import db
from customer_ops.personal_data import Export, PersonalData
from fraud.choices import ListKind


class CidrField(models.Field):
    """A PostgreSQL ``cidr`` column (an IP network; Python value: its text, e.g. 10.0.0.0/8)."""

    description = "IP network (cidr)"

    def db_type(self, connection):
        return "cidr"


class ListEntry(models.Model):
    """``fraud_list_entries``: one listed device id, IP address or range, or email domain,
    with why it is listed, who added it and until when (empty: no expiry)."""

    kind = models.TextField(choices=ListKind.choices)
    value = models.TextField(help_text="The device id, the IP address or range (CIDR), or the email domain.")
    network = CidrField(null=True, blank=True, editable=False)
    reason = models.TextField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = db.created_at()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the entry does not expire.")

    class Meta:
        db_table = "fraud_list_entries"
        verbose_name_plural = "list entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("fraud_list_entries", "kind", ListKind),
            # An IP entry is a network; the others match by their text value.
            models.CheckConstraint(
                condition=models.Q(kind=ListKind.IP_RANGE, network__isnull=False)
                | (~models.Q(kind=ListKind.IP_RANGE) & models.Q(network__isnull=True)),
                name="fraud_list_entries_network_iff_ip",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="fraud_list_entries_reason_required"),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="list_entries_created_idx"),  # the admin list's order
            db.filter_index("kind", "list_entries_kind_idx"),  # its filter
            models.Index(fields=["value"], name="list_entries_value_idx"),  # its exact-key search
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class ListHit(models.Model):
    """``fraud_list_hits``: a customer matched a list entry, and the suspicious activity that
    was raised for it. Unique per (entry, customer): the job and the ingest path raise once."""

    entry = models.ForeignKey(ListEntry, on_delete=models.PROTECT, related_name="hits", db_index=False)
    customer = models.ForeignKey("customer_ops.Customer", on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey("fraud.SuspiciousActivity", on_delete=models.PROTECT, related_name="+")
    created_at = db.created_at()

    personal_data = PersonalData(
        keep_rows="Which list entry a customer matched: ids and a time, kept for fraud prevention.",
        export=Export(columns=(), withheld="Fraud-prevention record (art. 23(1)(d))."),
    )

    class Meta:
        db_table = "fraud_list_hits"
        constraints = [
            models.UniqueConstraint(fields=["entry", "customer"], name="fraud_list_hits_once_per_customer"),
        ]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} matched list entry #{self.entry_id}"
