"""Distinctive identifiers planted in every free-text column of every table, and found again.

Used by the free-text erasure test (tests/compliance/test_erasure_free_text.py) and by
``bench/erasure.py``. The columns come from the database catalog (:func:`text_columns`),
not from a list: a new text, JSON or array column is planted and scanned without anyone
editing this file. Only the way to make one row of each table for a customer is written
here (:data:`BUILDERS`); the test fails when a table with text columns and customer rows
has no builder.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models

from tests import factories as f
from tests.compliance.factories import AccessLogFactory
from tests.tickets.factories import InternalNoteFactory

TEXT_TYPES = ("text", "character varying", "character", "jsonb", "json", "ARRAY")


def text_columns() -> dict[str, dict[str, dict]]:
    """table -> column -> {type, max_length, element} for every text, JSON and array column
    of every ordinary or partitioned table (partitions are scanned through their parent)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length, c.udt_name
            FROM information_schema.columns c
            JOIN pg_class t ON t.relname = c.table_name AND t.relnamespace = current_schema()::regnamespace
            WHERE c.table_schema = current_schema() AND NOT t.relispartition AND t.relkind IN ('r', 'p')
              AND c.data_type = ANY(%s)
            ORDER BY c.table_name, c.ordinal_position
            """,
            [list(TEXT_TYPES)],
        )
        found: dict[str, dict[str, dict]] = {}
        for table, column, data_type, max_length, udt in cursor.fetchall():
            found.setdefault(table, {})[column] = {"type": data_type, "max_length": max_length, "udt": udt}
    return found


@dataclass(frozen=True)
class Identity:
    """Everything a customer is known by, distinct per ``tag`` (no two identities share a part)."""

    tag: str

    @property
    def first(self) -> str:
        return f"Zebu{self.tag}lon"

    @property
    def last(self) -> str:
        return f"Quix{self.tag}field"

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first.lower()}.q{self.tag}@unique-erasure.test"

    @property
    def _digits(self) -> str:
        return str(int(hashlib.sha256(self.tag.encode()).hexdigest(), 16))[:6]

    @property
    def phone(self) -> str:
        return f"+44 7700 {self._digits}"

    def phone_formats(self) -> list[str]:
        """The same number as people write it (international, national, dotted, 00-prefixed)."""
        d = self._digits
        return [
            f"+447700{d}",
            f"07700 {d}",
            f"(0)7700-{d[:3]}-{d[3:]}",
            f"0044 7700 {d}",
            f"+44.7700.{d[:3]}.{d[3:]}",
        ]

    @property
    def ip(self) -> str:
        return f"203.0.113.{int(self._digits[:2]) + 100}"

    @property
    def ip2(self) -> str:
        return f"2001:db8::{self._digits[:4]}"

    @property
    def device(self) -> str:
        return f"dev-{self.tag}-7f3a9c"

    @property
    def user_agent(self) -> str:
        return f"ZebPhone/{self._digits[:2]}.{self.tag} (Quixos 17)"

    @property
    def address(self) -> str:
        return f"{self._digits[:2]} Quixote Lane {self.tag}, Zebtown"

    def searched(self) -> list[str]:
        """What a scan looks for: each identifier and each way the phone was written."""
        return [
            self.first,
            self.last,
            self.email,
            self.email.split("@")[0],
            self.ip,
            self.ip2,
            self.device,
            self.user_agent,
            self.address,
            self.phone,
            *self.phone_formats(),
        ]

    def phone_regex(self) -> str:
        """The phone's national digits with anything non-digit between them."""
        national = f"7700{self._digits}"
        return "(?<![0-9])" + "[^0-9a-z]{0,3}".join(national) + "(?![0-9])"

    def sentence(self, column: str) -> str:
        phone = self.phone_formats()[int(hashlib.md5(column.encode()).hexdigest(), 16) % 5]
        return (
            f"[{column}] {self.first.upper()} {self.last} called from {phone} ({self.email}); "
            f"ip {self.ip} / {self.ip2}, device {self.device}, ua '{self.user_agent}', "
            f"ship to {self.address}. Mr {self.last.lower()} again."
        )

    def short(self, column: str, limit: int) -> str:
        return f"{self.last} {self.phone_formats()[0]} {column}"[:limit]

    def json(self, column: str) -> dict:
        return {
            "note": self.sentence(column),
            "contact": {"phone": self.phone_formats()[1], "emails": [self.email], "ip": self.ip},
            self.device: {"seen": 3},
            "count": 1,
        }


# Columns that hold the identifiers themselves (the sources the erasure gathers from):
# planted with the clean value, not with a sentence.
SOURCES = {
    ("customers", "full_name"): "name",
    ("customers", "email"): "email",
    ("customers", "phone"): "phone",
    ("orders", "delivery_address"): "address",
}
SOURCE_COLUMNS = {"ip_address": "ip", "device_id": "device", "user_agent": "user_agent"}


def planted_value(identity: Identity, table: str, column: str, info: dict):
    source = SOURCES.get((table, column)) or SOURCE_COLUMNS.get(column)
    if source == "ip" and table == "customer_login_history":
        source = "ip2"  # the customer's second address, known from their logins
    if source:
        return getattr(identity, source)
    if info["type"] in ("jsonb", "json"):
        return identity.json(f"{table}.{column}")
    if info["type"] == "ARRAY":
        if info["udt"] != "_text":
            return None  # an array of numbers holds no text
        return [identity.sentence(f"{table}.{column}"), f"https://files.test/{identity.email}.jpg"]
    if info["max_length"] and info["max_length"] < 200:
        return identity.short(f"{table}.{column}", info["max_length"])
    return identity.sentence(f"{table}.{column}")


def text_kwargs(model: type[models.Model], identity: Identity, catalog: dict) -> dict:
    """Planted values for every free-text field of ``model`` (enums and generated ids keep theirs)."""
    columns = catalog.get(model._meta.db_table, {})
    values = {}
    for field in model._meta.concrete_fields:
        if field.column not in columns or field.choices or field.is_relation or not field.editable:
            continue
        if isinstance(field, ArrayField) and field.base_field.choices:
            continue
        value = planted_value(identity, model._meta.db_table, field.column, columns[field.column])
        if field.unique and (model._meta.db_table, field.column) not in SOURCES:
            value = f"{value} #{next(_unique)}"
        if value is not None:
            values[field.name] = value
    return values


_unique = itertools.count(1)


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def plant(identity: Identity, *, staff, other_customer=None) -> dict:
    """A customer with one row or more in every table that can hold a customer's rows, every
    free-text column of each holding ``identity``'s identifiers; returns the rows made."""
    catalog = text_columns()

    def kw(label: str, **extra) -> dict:
        return {**text_kwargs(_model(label), identity, catalog), **extra}

    customer = f.CustomerFactory(**kw("customer_ops.Customer"))
    other_customer = other_customer or f.CustomerFactory()
    made: dict[str, list] = {}

    def add(label: str, row) -> None:
        made.setdefault(label, []).append(row)

    orders = [
        f.OrderFactory(**kw("customer_ops.Order", customer=customer, order_amount=Decimal("30.00"))),
        f.OrderFactory(**kw("customer_ops.Order", customer=customer, order_amount=Decimal("12.50"))),
    ]
    for order in orders:
        add("customer_ops.Order", order)
    session = f.CustomerSessionFactory(**kw("customer_ops.CustomerSession", customer=customer))
    add("customer_ops.CustomerSession", session)
    ticket = f.TicketFactory(**kw("tickets.Ticket", customer=customer, order=orders[0]))
    ticket.save()  # a second history row
    add("tickets.Ticket", ticket)
    add("tickets.TicketMessage", f.TicketMessageFactory(**kw("tickets.TicketMessage", ticket=ticket)))
    add(
        "tickets.TicketMessage",
        f.TicketMessageFactory(**kw("tickets.TicketMessage", ticket=ticket, sender_type="AGENT")),
    )
    add("tickets.InternalNote", InternalNoteFactory(**kw("tickets.InternalNote", ticket=ticket, author=staff)))
    dispute = f.DisputeFactory(
        **kw("tickets.Dispute", customer=customer, order=orders[0], ticket=ticket, dispute_status="RESOLVED")
    )
    add("tickets.Dispute", dispute)
    add(
        "tickets.RefundRequest",
        f.RefundRequestFactory(
            **kw("tickets.RefundRequest", customer=customer, order=orders[1], refund_status="REJECTED")
        ),
    )
    add("fraud.TrustScore", f.TrustScoreFactory(customer=customer))
    alert = f.FraudAlertFactory(**kw("fraud.FraudAlert", customer=customer, is_resolved=True))
    add("fraud.FraudAlert", alert)
    add("fraud.AlertReview", _model("fraud.AlertReview").objects.create(**kw("fraud.AlertReview", alert=alert)))
    add("fraud.Block", f.BlockFactory(**kw("fraud.Block", customer=customer, is_unblocked=True)))
    add("fraud.SuspiciousActivity", f.SuspiciousActivityFactory(**kw("fraud.SuspiciousActivity", customer=customer)))
    add(
        "fraud.VerificationHistory",
        f.VerificationHistoryFactory(
            **kw("fraud.VerificationHistory", customer=customer, verification_status="FAILED")
        ),
    )
    add("analytics.ActivityLog", f.ActivityLogFactory(**kw("analytics.ActivityLog", customer=customer)))
    add(
        "analytics.LoginHistory",
        f.LoginHistoryFactory(**kw("analytics.LoginHistory", customer=customer, session=session)),
    )
    add("analytics.DailyAnalytics", f.DailyAnalyticsFactory(customer=customer))
    add("analytics.ServiceAnalytics", f.ServiceAnalyticsFactory(customer=customer))
    add("analytics.OrdersSummary", f.OrdersSummaryFactory(customer=customer))
    referral = f.ReferralFactory(
        **kw("analytics.Referral", referred_customer=customer, referrer_customer=other_customer)
    )
    add("analytics.Referral", referral)
    reward = f.ReferralRewardFactory(**kw("analytics.ReferralReward", referral=referral, customer=customer))
    add("analytics.ReferralReward", reward)
    add(
        "analytics.RewardHold",
        _model("analytics.RewardHold").objects.create(**kw("analytics.RewardHold", reward=reward)),
    )
    add("compliance.ConsentLog", f.ConsentLogFactory(**kw("compliance.ConsentLog", customer=customer)))
    deletion = f.DataDeletionRequestFactory(
        **kw("compliance.DataDeletionRequest", customer=customer, request_status="REJECTED")
    )
    add("compliance.DataDeletionRequest", deletion)
    add(
        "compliance.RequestHandling",
        _model("compliance.RequestHandling").objects.create(
            **kw(
                "compliance.RequestHandling",
                customer=customer,
                deletion_request=deletion,
                verification_method="ID_DOCUMENT",
                verified_at=deletion.requested_at,
                verified_by=staff,
                extended_until=deletion.requested_at,
                customer_told_on=deletion.requested_at.date(),
            )
        ),
    )
    add(
        "compliance.ErasureRecipient",
        f.ErasureRecipientFactory(**kw("compliance.ErasureRecipient", request=deletion, waived_by=staff)),
    )
    for actor_type in ("CUSTOMER", "AGENT"):
        add(
            "compliance.AuditLog",
            f.AuditLogFactory(
                **kw("compliance.AuditLog", customer=customer, actor_type=actor_type, action_type="UPDATE")
            ),
        )
    add("compliance.AccessLog", AccessLogFactory(**kw("compliance.AccessLog", customer=customer, staff=staff)))
    add(
        "compliance.AccessRequest",
        _model("compliance.AccessRequest").objects.create(
            **kw("compliance.AccessRequest", customer=customer, status="REJECTED", recorded_by=staff)
        ),
    )
    escalation = _model("tickets.SlaEscalation")
    from django.utils import timezone

    add(
        "tickets.SlaEscalation",
        escalation.objects.create(
            ticket=ticket, kind="RESOLUTION", due_at=timezone.now(), from_priority="LOW", to_priority="HIGH"
        ),
    )
    _plant_history_reasons(identity, customer, catalog)
    return {"customer": customer, "rows": made, "orders": orders, "dispute": dispute, "ticket": ticket}


def _plant_history_reasons(identity: Identity, customer, catalog: dict) -> None:
    """simple-history's own free-text column (``history_change_reason``), given by staff."""
    from simple_history.models import registered_models

    for base in registered_models.values():
        attribute = getattr(base._meta, "simple_history_manager_attribute", None)
        if not attribute:
            continue
        history = getattr(base, attribute).model
        table = history._meta.db_table
        info = catalog.get(table, {}).get("history_change_reason")
        if info is None:
            continue
        path = "customer" if any(f.name == "customer" for f in history._meta.fields) else None
        if path is None:
            continue
        value = planted_value(identity, table, "history_change_reason", info)
        # History is append-only (customer_ops/history_rules.py): the reason is planted the
        # way staff give one, on a new history row written by a save.
        for row in base.objects.filter(customer_id=customer.pk):
            row._change_reason = value
            row.save()


def scan(values: list[str], regexes: list[str] = ()) -> list[str]:
    """``table.column: value`` for every text, JSON and array column of every table of the
    database holding one of ``values`` (case-insensitive) or matching one of ``regexes``."""
    hits = []
    with connection.cursor() as cursor:
        for table, columns in text_columns().items():
            for column in columns:
                cursor.execute(
                    f"SELECT v FROM unnest(%s::text[]) AS v WHERE EXISTS "
                    f'(SELECT 1 FROM "{table}" WHERE strpos(lower("{column}"::text), lower(v)) > 0)',
                    [list(values)],
                )
                hits += [f"{table}.{column}: {value}" for (value,) in cursor.fetchall()]
                for regex in regexes:
                    cursor.execute(f'SELECT 1 FROM "{table}" WHERE "{column}"::text ~* %s LIMIT 1', [regex])
                    if cursor.fetchone():
                        hits.append(f"{table}.{column}: /{regex}/")
    return hits
