"""Stand-ins for the three platform tables this domain references.

``customers``, ``orders`` and ``customer_sessions`` are owned by other domains of the
platform (ARCHITECTURE.md, "Platform tables"); this project keeps them with exactly the
columns listed there so that the spec's foreign keys, the jobs and the tests have
something real to point at. They carry no write rules of this domain.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.indexes import BrinIndex, GinIndex, OpClass
from django.db import models
from django.db.models.functions import Cast, Now, Upper
from django.utils import timezone

from customer_ops import db
from customer_ops.choices import CustomerStatus, EventType, OrderStatus, ServiceType
from customer_ops.personal_data import ENUM, SCRUB, Export, Identifier, Keep, PersonalData, Scope
from customer_ops.write_rules import append_only, touch


class Customer(db.QuickLoad):
    """A customer of the platform (stand-in for the table the customer-core domain owns)."""

    full_name = models.TextField()
    email = models.EmailField(unique=True)
    phone = models.TextField(blank=True, default="", db_default="")
    status = models.TextField(
        choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE, db_default=CustomerStatus.ACTIVE
    )
    created_at = db.created_at()
    updated_at = db.updated_at()

    personal_data = PersonalData(
        fields={"full_name": Scope.PROFILE, "email": Scope.PROFILE, "phone": Scope.PROFILE},
        text={"status": ENUM},
        identifiers={"full_name": Identifier.NAME, "email": Identifier.EMAIL, "phone": Identifier.PHONE},
        customer_path="pk",
        keep_rows="The customer row is anonymised, not deleted: financial records and the audit trail point at it.",
        export=Export(columns="id full_name email phone status created_at updated_at"),
    )

    class Meta:
        db_table = "customers"
        ordering = ["-id"]
        constraints = [db.enum_check("customers", "status", CustomerStatus)]
        indexes = [
            # Admin search and customer autocomplete compare UPPER(col::text) LIKE '%...%':
            # trigram indexes on exactly that expression serve them.
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="customers_name_trgm"),
            GinIndex(
                OpClass(Upper(Cast("email", models.TextField())), name="gin_trgm_ops"), name="customers_email_trgm"
            ),
            GinIndex(OpClass(Upper("phone"), name="gin_trgm_ops"), name="customers_phone_trgm"),
            db.filter_index("status", "customers_status_idx", ordering=["-id"]),
            # The trust engine's hourly run: customers created since its last run (a first score).
            models.Index(fields=["created_at"], name="customers_created_idx"),
        ]
        triggers = [touch()]

    def __str__(self) -> str:
        from customer_ops.masking import viewer_masked  # masking reads the declarations of this module

        # Every page that names a customer by str() (lists, foreign keys, history, panels of
        # other tables) shows an analyst the id only: the name is a masked personal field.
        if viewer_masked():
            return f"customer #{self.pk}"
        return f"{self.full_name} (#{self.pk})"

    @property
    def first_name(self) -> str:
        return self.full_name.split(" ", 1)[0] if self.full_name else ""


class Order(db.QuickLoad):
    """An order of any service (stand-in for the orders domain's table)."""

    order_number = models.TextField(unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", db_index=False)
    service_type = models.TextField(choices=ServiceType.choices)
    merchant_id = models.BigIntegerField(null=True, blank=True, help_text="Null for rides.")
    status = models.TextField(choices=OrderStatus.choices, default=OrderStatus.PLACED, db_default=OrderStatus.PLACED)
    order_amount = db.money()
    discount_amount = db.money(default=0, db_default=0)
    tip_amount = db.money(default=0, db_default=0)
    customer_rating = db.rating(null=True, blank=True)
    delivery_address = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = db.updated_at()

    personal_data = PersonalData(
        fields={"delivery_address": Scope.ACTIVITY_LOCATION},
        text={"order_number": SCRUB, "service_type": ENUM, "status": ENUM},
        identifiers={"delivery_address": Identifier.ADDRESS},
        keep_rows="Financial record: orders are kept for accounting; the delivery address is redacted.",
        export=Export(
            columns=(
                "id order_number customer_id service_type merchant_id status order_amount discount_amount "
                "tip_amount customer_rating delivery_address created_at completed_at cancelled_at "
                "updated_at"
            )
        ),
    )

    class Meta:
        db_table = "orders"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("orders", "service_type", ServiceType),
            db.enum_check("orders", "status", OrderStatus),
            db.range_check("orders", "order_amount", low=0),
            db.range_check("orders", "discount_amount", low=0),
            db.range_check("orders", "tip_amount", low=0),
            db.range_check("orders", "customer_rating", 1, 5),
        ]
        indexes = [
            # The customer's recent orders (customer page) and the daily jobs' per-customer scans;
            # with the status, the trust engine's order counts are an index-only scan (fraud.jobs).
            models.Index(fields=["customer", "-created_at"], include=["status"], name="orders_customer_created_idx"),
            # The trust engine's hourly run: orders placed or changed since its last run.
            models.Index(fields=["updated_at"], include=["customer_id"], name="orders_updated_idx"),
            # Daily jobs select one UTC day of orders. Covering: the dashboard's figures of the
            # days no job has covered yet (orders, statuses, amounts, customers) are an
            # index-only scan.
            models.Index(
                fields=["created_at"],
                name="orders_created_idx",
                include=["customer_id", "service_type", "status", "order_amount"],
            ),
            # The admin's status filter in its default ordering.
            models.Index(fields=["status", "-created_at", "-id"], name="orders_status_created_idx"),
            db.filter_index("service_type", "orders_service_created_idx"),
        ]
        triggers = [touch()]

    def __str__(self) -> str:
        return self.order_number


class CustomerSession(db.QuickLoad):
    """An app session (stand-in for the auth domain's table)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sessions", db_index=False)
    device_id = models.TextField(blank=True, default="", db_default="")
    device_type = models.TextField(blank=True, default="", db_default="")
    ip_address = models.TextField(blank=True, default="", db_default="")
    user_agent = models.TextField(blank=True, default="", db_default="")
    started_at = models.DateTimeField(default=db.timezone.now, db_default=db.Now())
    ended_at = models.DateTimeField(null=True, blank=True)

    personal_data = PersonalData(
        fields={
            "device_id": Scope.DEVICES_NETWORK,
            "ip_address": Scope.DEVICES_NETWORK,
            "user_agent": Scope.DEVICES_NETWORK,
        },
        text={"device_type": SCRUB},
        identifiers={
            "device_id": Identifier.DEVICE,
            "ip_address": Identifier.IP,
            "user_agent": Identifier.USER_AGENT,
        },
        export=Export(columns="id customer_id device_id device_type ip_address user_agent started_at ended_at"),
    )

    class Meta:
        db_table = "customer_sessions"
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="customer_sessions_ends_after_start",
                violation_error_message="A session cannot end before it starts.",
            )
        ]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="customer_sessions_cust_idx"),
            models.Index(fields=["started_at"], name="customer_sessions_started_idx"),
            models.Index(fields=["device_id"], name="customer_sessions_device_idx"),
            models.Index(fields=["ip_address"], name="customer_sessions_ip_idx"),
            db.filter_index("device_type", "sessions_device_type_idx", ordering=["-started_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} of customer {self.customer_id}"


# How long the outbox keeps an event: well past the webhook retry schedule (about three
# days), a month for a receiver's team to ask for a replay (Stripe keeps events 30 days).
# The purge (``api.webhooks.retention``) deletes only events whose deliveries are all
# finished. The ORM refuses every delete here (customer_ops.guards); only that SQL purges.
OUTBOX_RETENTION = dt.timedelta(days=30)


class OutboxEvent(db.RuleBoundModel):
    """An event other systems of the platform act on, written in the transaction of the
    change that caused it (a transactional outbox: ``customer_ops.events.emit``).

    A rolled-back change leaves no row; a committed row is delivered by the service API's
    webhook worker (``api.webhooks``). ``id`` orders events as they were written (the
    delivery order per customer); ``event_id`` is what receivers de-duplicate on.
    ``data`` holds ids and codes only, never personal data (the emitters build it from
    ids, enum codes, amounts and times), so erasure has nothing to do here and rows may be
    kept for the outbox's retention (:data:`OUTBOX_RETENTION`). Append-only until then.
    """

    event_id = models.UUIDField(unique=True, editable=False)
    event_type = models.TextField(choices=EventType.choices, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    api_version = models.TextField(editable=False)
    data = models.JSONField(default=dict, editable=False)

    personal_data = PersonalData(
        text={
            "event_type": ENUM,
            "api_version": Keep("API version code"),
            "data": Keep("ids, enum codes, amounts and times only: built by the emitting service"),
        },
        keep_rows="Ids and codes only; the other systems' delivery record (kept for the outbox retention).",
        export=Export(columns=(), withheld="Technical record of notifications to other systems: ids and codes."),
    )

    class Meta:
        db_table = "event_outbox"
        triggers = [*append_only(retention=OUTBOX_RETENTION)]
        constraints = [db.enum_check("event_outbox", "event_type", EventType)]
        indexes = [
            models.Index(fields=["customer", "id"], name="event_outbox_customer_idx"),
            # The retention purge (api.webhooks.retention): rows arrive in time order.
            BrinIndex(fields=["created_at"], name="event_outbox_created_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
