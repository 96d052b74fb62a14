"""Reads shared by the queue, the ticket page, the panels, the export and the jobs."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from customer_ops import statements
from customer_ops.deadlines import TicketSla, target_expression, ticket_sla, ticket_sla_targets
from customer_ops.models import Customer
from tickets import conf
from tickets.choices import REFUND_APPROVED_STATUSES, MessageType, Priority, RefundStatus, SenderType, TicketStatus
from tickets.models import (
    Dispute,
    InternalNote,
    Macro,
    RefundOrigin,
    RefundRequest,
    SlaEscalation,
    Ticket,
    TicketMessage,
)
from tickets.queue_order import ensure_sla_targets, wanted_targets
from tickets.services.errors import SupportError
from tickets.workspace_models import TicketLink, TicketLinkKind, TicketMessageMove

OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
# Higher is more urgent; the queue sorts on it after the SLA due time.
PRIORITY_RANK = {p: rank for rank, p in enumerate(Priority.values)}


def priority_rank_expression():
    return Case(
        *[When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()],
        output_field=IntegerField(),
    )


def first_response_expression():
    """The ticket's first AGENT message time, from the ``tickets_first_response`` side table
    (a LEFT JOIN, kept by triggers: no subquery per ticket when the queue sorts on it)."""
    return F("first_reply__first_response_at")


def unread_count_subquery():
    """Unread customer messages of the ticket (served by the partial ``ticket_messages_unread_idx``)."""
    return Coalesce(
        Subquery(
            TicketMessage.objects.filter(ticket=OuterRef("pk"), sender_type=SenderType.CUSTOMER, is_read=False)
            .order_by()
            .values("ticket")
            .annotate(n=Count("*"))
            .values("n")
        ),
        0,
    )


def computed_sla_due():
    """The SLA due time computed from the ticket, its first reply and settings.SUPPORT_SLA:
    the definition ``tickets_queue_order`` keeps (triggers, migration 0072_queue_order), which
    the tests compare it with. Pages read the kept column (:func:`with_sla`)."""
    return Case(
        When(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED], then=None),
        When(
            first_reply__isnull=True,
            then=F("created_at") + target_expression("priority", ticket_sla_targets("first_response")),
        ),
        default=F("created_at") + target_expression("priority", ticket_sla_targets("resolution")),
    )


def with_sla(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate each ticket with its SLA due times.

    ``sla_due_at`` is the deadline the ticket works towards now: the first-response due
    time until an agent has replied, then the resolution due time; NULL once resolved. It
    is read from ``tickets_queue_order`` (one row per open ticket, kept by triggers, indexed
    in the queue's order), so a filter or an order on it is an index read; the others are
    computed from settings.SUPPORT_SLA for the rows shown.
    """
    ensure_sla_targets()
    return qs.annotate(
        first_response_at=first_response_expression(),
        first_response_due=F("created_at") + target_expression("priority", ticket_sla_targets("first_response")),
        resolution_due=F("created_at") + target_expression("priority", ticket_sla_targets("resolution")),
        sla_due_at=F("queue_slot__sla_due_at"),
    )


def watchers_subquery(since: dt.datetime, *, exclude_user_id: int | None = None):
    """The names of the staff (but ``exclude_user_id``) who have the ticket open since ``since``
    (``ticket_presence``), comma-separated; NULL when nobody: the queue's eye."""
    from django.contrib.postgres.aggregates import StringAgg
    from django.db.models.functions import Concat, NullIf, Trim

    from tickets.models import TicketPresence

    rows = TicketPresence.objects.filter(ticket=OuterRef("pk"), seen_at__gte=since)
    if exclude_user_id is not None:
        rows = rows.exclude(user_id=exclude_user_id)
    full = Trim(Concat("user__first_name", Value(" "), "user__last_name", output_field=CharField()))
    name = Coalesce(NullIf(full, Value("")), "user__username")
    names = StringAgg(name, ", ", order_by="user__first_name")
    return Subquery(rows.order_by().values("ticket").annotate(names=names).values("names"))


def queue_ordering() -> list:
    """Time to SLA breach, then priority, then age (oldest first)."""
    return [F("sla_due_at").asc(nulls_last=True), F("priority_rank").desc(), F("created_at").asc(), F("id").asc()]


def open_in_queue_order(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The open tickets of ``qs`` in the queue's order, read from ``tickets_queue_order_idx``
    (the same order as :func:`queue_ordering`: the side table's columns equal the ticket's
    for every open ticket), so a page is an index scan, not a sort of every open ticket."""
    return qs.filter(queue_slot__isnull=False).order_by(
        F("queue_slot__sla_due_at").asc(),
        F("queue_slot__priority_rank").desc(),
        F("queue_slot__created_at").asc(),
        F("id").asc(),
    )


def ticket_queue() -> QuerySet[Ticket]:
    """Every ticket with what the queue shows, in one query: SLA, unread count, escalation flag.

    A clone of a queryset built once per process and SLA settings: building its expressions
    took 1.4 ms of CPU, cloning it takes microseconds (the queue, its counts and the home
    pages start from it on every request)."""
    ensure_sla_targets()
    return _ticket_queue_built(wanted_targets()).all()


@functools.lru_cache(maxsize=8)  # per SLA settings (the tests change them); never evaluated itself
def _ticket_queue_built(sla: tuple) -> QuerySet[Ticket]:
    return (
        with_sla(Ticket.objects.all())
        .annotate(
            priority_rank=priority_rank_expression(),
            unread_count=unread_count_subquery(),
            escalated=Exists(SlaEscalation.objects.filter(ticket=OuterRef("pk"))),
        )
        .select_related("customer")
    )


# What the queue's rows show (TicketAdmin's columns; the agent's name is the ticket's own
# column): a page loads these only, not the description, attachment and resolution texts,
# the customer's other columns or the agent's user row.
QUEUE_ROW_COLUMNS = (
    "ticket_id",
    "customer",
    "customer__full_name",
    "customer__email",
    "subject",
    "priority",
    "status",
    "assigned_to_agent_name",
    "created_at",
    "resolved_at",
)


def queue_rows(ids: list[int], *, viewer_id: int, since: dt.datetime) -> list[Ticket]:
    """The queue's rows of the tickets ``ids``, in that order: :func:`ticket_queue`'s columns
    (:data:`QUEUE_ROW_COLUMNS` of the ticket and its customer, SLA, unread count, escalation
    flag) and who else (not ``viewer_id``) has each open since ``since``.

    One statement compiled once per process and SLA settings (customer_ops.statements):
    building and compiling this queryset took more of a queue page's CPU than PostgreSQL
    took to answer it. The page's filters are not in it: ``ids`` are the page's already.
    """
    ensure_sla_targets()
    statement = _queue_rows_statement(Ticket.objects.db, wanted_targets())
    rows = {ticket.pk: ticket for ticket in statement.fetch(pk=viewer_id, at=since, ids=ids)}
    return [rows[pk] for pk in ids if pk in rows]


@functools.lru_cache(maxsize=8)  # per database and SLA settings (the tests change them)
def _queue_rows_statement(alias: str, sla: tuple) -> statements.ModelStatement:
    queryset = (
        ticket_queue()
        .using(alias)
        .annotate(watchers=watchers_subquery(statements.TIME_STAND_IN, exclude_user_id=statements.STAND_IN))
        .only(*QUEUE_ROW_COLUMNS)
        .filter(statements.among_ids(Ticket))
        .order_by()
    )
    return statements.ModelStatement(queryset, {"pk", "at", "ids"})


# An email address typed or pasted into the queue's search box.
EMAIL_SHAPED = re.compile(r"[^@\s\"']+@[^@\s\"']+\.[^@\s\"']+")


def customers_by_email(term: str) -> list[int]:
    """The customers whose email is exactly ``term`` (as typed, or in lower or upper case),
    when ``term`` is one email address; [] otherwise. One probe of the unique email index."""
    term = term.strip()
    if not EMAIL_SHAPED.fullmatch(term):
        return []
    return list(Customer.objects.filter(email__in={term, term.lower(), term.upper()}).values_list("pk", flat=True))


# --- The queue's one-click views -------------------------------------------------------


def queue_view(qs: QuerySet[Ticket], view: str, *, user, now: dt.datetime | None = None) -> QuerySet[Ticket]:
    now = now or timezone.now()
    if view == "mine":
        return qs.filter(assigned_to_agent=user, status__in=OPEN_STATUSES)
    # The open views filter on tickets_queue_order, whose rows are the open tickets (see
    # TicketQueueSlot): the page is then a walk of its index in the queue's order.
    if view == "unassigned":  # OPEN and nobody's
        return qs.filter(queue_slot__unassigned=True)
    if view == "open":
        return qs.filter(queue_slot__isnull=False)
    if view == "breached":
        return qs.filter(queue_slot__sla_due_at__lt=now)
    if view == "escalated":
        return qs.filter(status__in=OPEN_STATUSES, escalated=True)
    if view == "follow_up":
        return qs.filter(follow_up_required=True, follow_up_date__lte=now).exclude(status=TicketStatus.CLOSED)
    # The home page's views (also reachable from the queue's filter list).
    if view == "at_risk":
        return _due_between(qs, now, now + AT_RISK)
    if view == "breached_today":
        return _due_between(qs, _midnight(now), now)
    if view == "follow_up_today":
        return qs.filter(follow_up_required=True, follow_up_date__lt=_midnight(now) + dt.timedelta(days=1)).exclude(
            status=TicketStatus.CLOSED
        )
    return qs


def _due_between(qs: QuerySet[Ticket], start: dt.datetime, end: dt.datetime) -> QuerySet[Ticket]:
    """Open tickets whose SLA due time falls in [start, end): a range of
    ``tickets_queue_order_idx``, whatever the number of open tickets."""
    return qs.filter(queue_slot__sla_due_at__gte=start, queue_slot__sla_due_at__lt=end)


def _midnight(now: dt.datetime) -> dt.datetime:
    """The start of ``now``'s day in the site's time zone ("today" as staff read it)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


# "At risk": the SLA deadline falls within this window (the home page's agent tile).
AT_RISK = dt.timedelta(hours=1)


QUEUE_VIEWS = [
    ("mine", "My open tickets"),
    ("unassigned", "Unassigned"),
    ("open", "All open"),
    ("breached", "SLA breached"),
    ("escalated", "Escalated to lead"),
    ("follow_up", "Follow-ups due"),
]
# Views the home page's tiles link to; the queue's filter offers them too.
HOME_VIEWS = [
    ("at_risk", "SLA due within the hour"),
    ("breached_today", "SLA breached today"),
    ("follow_up_today", "Follow-ups due today"),
]


def next_unassigned(qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The unassigned open tickets an agent may take, most urgent first (for "take next")."""
    qs = with_sla(qs if qs is not None else Ticket.objects.all())
    return open_in_queue_order(qs.filter(queue_slot__unassigned=True))


# --- The ticket page -------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadEntry:
    kind: str  # "message" or "note"
    obj: TicketMessage | InternalNote
    is_new: bool = False
    origin: str = ""  # the ticket_id it was written on, when that is another ticket (merged or split)

    @property
    def created_at(self) -> dt.datetime:
        return self.obj.created_at


# The ticket and every ticket merged into it, transitively (``ticket_links``, kind MERGED;
# ticket_links_target_idx): the tickets whose thread the page shows. A merge refuses a
# ticket already merged, so the links form a tree and the recursion ends.
_FAMILY_SQL = """
    WITH RECURSIVE family(id) AS (
        SELECT %s::bigint
        UNION
        SELECT l.source_id FROM ticket_links l JOIN family f ON l.target_id = f.id WHERE l.kind = 'MERGED'
    )
    SELECT id FROM family
"""


def thread_family(ticket: Ticket | int) -> RawSQL:
    """The ids of the tickets whose thread ``ticket``'s page shows, as a subquery."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    return RawSQL(_FAMILY_SQL, (pk,))


def thread_messages(ticket: Ticket | int) -> QuerySet[TicketMessage]:
    """The messages shown on ``ticket``: its own and its merged tickets', except those split
    off to another ticket, plus those split off to it (``ticket_message_moves``)."""
    # Two indexed reads united, not one OR across the join: PostgreSQL cannot serve
    # "on these tickets or moved to them" from an index and would read every message.
    own = TicketMessage.objects.filter(ticket_id__in=thread_family(ticket), move__isnull=True).values("pk")
    moved_in = TicketMessageMove.objects.filter(to_ticket_id__in=thread_family(ticket)).values("message_id")
    return TicketMessage.objects.filter(pk__in=own.union(moved_in, all=True)).annotate(origin=F("ticket__ticket_id"))


def thread_notes(ticket: Ticket | int) -> QuerySet[InternalNote]:
    """The internal notes shown on ``ticket``: its own and its merged tickets'."""
    return InternalNote.objects.filter(ticket_id__in=thread_family(ticket)).annotate(origin=F("ticket__ticket_id"))


def thread_disputes(ticket: Ticket | int) -> QuerySet[Dispute]:
    """The disputes raised on ``ticket`` and on the tickets merged into it (a dispute keeps
    its ``ticket_id``: the merge links, it does not move). What every role that may see
    disputes sees: never the legal fields. One query (customer_disputes' ticket index)."""
    return (
        Dispute.objects.filter(ticket_id__in=thread_family(ticket))
        .annotate(origin=F("ticket__ticket_id"))
        .only("pk", "dispute_id", "dispute_type", "dispute_status", "disputed_amount", "ticket_id")
        .order_by("created_at", "id")
    )


def ticket_thread(ticket: Ticket, *, new_after: tuple[int, int] | None = None) -> list[ThreadEntry]:
    """Messages and internal notes in order (two queries, whatever the thread length),
    those of the tickets merged into this one included (``origin`` names their ticket).

    ``new_after`` = (last message id, last note id) the agent had seen: entries after
    them are flagged ``is_new`` (a stale reply shows what changed).
    """
    seen_message, seen_note = new_after or (None, None)
    own = ticket.ticket_id

    def origin(obj) -> str:
        return "" if obj.origin == own else obj.origin

    messages = [
        ThreadEntry("message", m, is_new=seen_message is not None and m.pk > seen_message, origin=origin(m))
        for m in _thread_messages_in_order(pk=ticket.pk)
    ]
    notes = [
        ThreadEntry("note", n, is_new=seen_note is not None and n.pk > seen_note, origin=origin(n))
        for n in _thread_notes_in_order(pk=ticket.pk)
    ]
    return sorted(chain(messages, notes), key=lambda e: (e.created_at, e.kind, e.obj.pk))


# --- The ticket page's reads, each a statement compiled once per process ------------------
# (customer_ops.statements: every agent opens many ticket pages; building and compiling these
# querysets cost more CPU than PostgreSQL took to answer them.)


@statements.kept_rows(Macro)
def active_macros():
    """The canned replies the ticket page offers, by name."""
    return Macro.objects.filter(is_active=True).only("name", "body").order_by("name")


@statements.kept_rows(TicketMessage, "pk")
def _thread_messages_in_order():
    return thread_messages(statements.STAND_IN).order_by("created_at", "id")


@statements.kept_rows(InternalNote, "pk")
def _thread_notes_in_order():
    return thread_notes(statements.STAND_IN).order_by("created_at", "id")


@statements.kept_rows(Ticket, "pk")
def _page_ticket():
    return Ticket.objects.select_related("customer", "order").filter(pk=statements.STAND_IN).order_by()[:1]


def page_ticket(pk: int) -> Ticket | None:
    """The ticket with its customer and order (the ticket page's first read); None if none."""
    return next(iter(_page_ticket(pk=pk)), None)


@statements.kept_rows(Dispute, "pk")
def _thread_disputes():
    return thread_disputes(statements.STAND_IN)


def disputes_on_thread(ticket: Ticket) -> list[Dispute]:
    """:func:`thread_disputes`' rows."""
    return _thread_disputes(pk=ticket.pk)


@statements.kept_rows(RefundOrigin, "pk")
def _thread_refunds():
    return (
        RefundOrigin.objects.filter(ticket_id__in=thread_family(statements.STAND_IN))
        .select_related("refund")
        .only("refund__refund_request_id", "refund__refund_status", "refund__requested_amount", "ticket_id")
    )


def refunds_on_thread(ticket: Ticket) -> list[RefundOrigin]:
    """The refunds raised from ``ticket`` and from the tickets merged into it."""
    return _thread_refunds(pk=ticket.pk)


@statements.kept_rows(TicketLink, "pk")
def _links():
    return (
        TicketLink.objects.filter(Q(source=statements.STAND_IN) | Q(target=statements.STAND_IN))
        .select_related("source", "target")
        .only("kind", "source__ticket_id", "source__status", "target__ticket_id", "target__status")
        .order_by("created_at", "id")
    )


def ticket_links(ticket: Ticket) -> list[tuple[str, Ticket]]:
    """What the ticket page says of the ticket's merges and splits: (label, other ticket),
    one query."""
    labels = {
        (TicketLinkKind.MERGED, True): "Merged into",
        (TicketLinkKind.MERGED, False): "Merged here:",
        (TicketLinkKind.SPLIT, True): "Split from",
        (TicketLinkKind.SPLIT, False): "Split off into",
    }
    found = []
    for link in _links(pk=ticket.pk):
        outgoing = link.source_id == ticket.pk
        found.append((labels[(link.kind, outgoing)], link.target if outgoing else link.source))
    return found


def thread_entries_after(ticket: Ticket, seen: tuple[int, int]) -> list[ThreadEntry]:
    """The entries of the thread newer than ``seen`` (the live thread's update: two queries)."""
    messages = [
        ThreadEntry("message", m, is_new=True, origin="" if m.origin == ticket.ticket_id else m.origin)
        for m in thread_messages(ticket).filter(id__gt=seen[0]).order_by("created_at", "id")
    ]
    notes = [
        ThreadEntry("note", n, is_new=True, origin="" if n.origin == ticket.ticket_id else n.origin)
        for n in thread_notes(ticket).filter(id__gt=seen[1]).order_by("created_at", "id")
    ]
    return sorted(chain(messages, notes), key=lambda e: (e.created_at, e.kind, e.obj.pk))


_LIVE_VERSION_SQL = f"""
    SELECT (SELECT max(m.id) FROM customer_ticket_messages m
             WHERE (m.ticket_id IN ({_FAMILY_SQL})
                    AND NOT EXISTS (SELECT 1 FROM ticket_message_moves v WHERE v.message_id = m.id))
                OR m.id IN (SELECT v.message_id FROM ticket_message_moves v
                             WHERE v.to_ticket_id IN ({_FAMILY_SQL}))),
           (SELECT max(n.id) FROM ticket_internal_notes n WHERE n.ticket_id IN ({_FAMILY_SQL}))
"""


def live_thread_version(ticket: Ticket | int) -> tuple[int, int]:
    """(last message id, last note id) of the thread as shown, in one query: what the live
    page compares with what it shows, and the stale-reply check with what the form carried."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_VERSION_SQL, (pk, pk, pk))
        last_message, last_note = cursor.fetchone()
    return last_message or 0, last_note or 0


def thread_version(entries: list[ThreadEntry]) -> tuple[int, int]:
    """(last message id, last note id): what a reply form carries to detect a changed thread."""
    last_message = max((e.obj.pk for e in entries if e.kind == "message"), default=0)
    last_note = max((e.obj.pk for e in entries if e.kind == "note"), default=0)
    return last_message, last_note


def sla_for(ticket: Ticket, entries: list[ThreadEntry] | None = None) -> TicketSla:
    """The ticket's SLA; pass the thread already loaded to spare the query."""
    if entries is not None:
        agent_times = [
            e.obj.created_at for e in entries if e.kind == "message" and e.obj.sender_type == SenderType.AGENT
        ]
        first_response_at = min(agent_times, default=None)
    else:
        first_response_at = (
            TicketMessage.objects.filter(ticket=ticket, sender_type=SenderType.AGENT)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
    return ticket_sla(
        priority=ticket.priority,
        created_at=ticket.created_at,
        first_response_at=first_response_at,
        resolved_at=ticket.resolved_at,
    )


# --- Refunds ---------------------------------------------------------------------------


def committed_refunds(order_id: int, *, exclude_pk: int | None = None) -> Decimal:
    """What the order's other refund requests already claim: approved amounts, or the
    requested amount while pending; rejected requests claim nothing."""
    qs = RefundRequest.objects.filter(order_id=order_id).exclude(refund_status=RefundStatus.REJECTED)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    total = qs.aggregate(total=Sum(Coalesce("approved_amount", "requested_amount")))["total"]
    return total or Decimal("0.00")


def approved_refunds(order_id: int) -> Decimal:
    """What the order's refund requests have been approved for (approved, processing or
    completed; an approved amount left empty counts as requested), as the database's
    ``refunds_within_paid`` trigger sums it: never more than the order was paid."""
    total = RefundRequest.objects.filter(order_id=order_id, refund_status__in=REFUND_APPROVED_STATUSES).aggregate(
        total=Sum(Coalesce("approved_amount", "requested_amount"))
    )["total"]
    return total or Decimal("0.00")


def refundable_amount(order) -> Decimal:
    """What the order still allows to be refunded."""
    return max(order.order_amount - committed_refunds(order.pk), Decimal("0.00"))


def recent_refunds_total(customer_id: int, *, days: int) -> Decimal:
    """What the customer was refunded or asked for, but rejected requests, in the last ``days``."""
    return _refunds_total_since(pk=customer_id, at=timezone.now() - dt.timedelta(days=days)) or Decimal("0.00")


@statements.kept_value(RefundRequest, "pk", "at")
def _refunds_total_since():
    return (
        RefundRequest.objects.filter(customer_id=statements.STAND_IN, created_at__gte=statements.TIME_STAND_IN)
        .exclude(refund_status=RefundStatus.REJECTED)
        .values("customer_id")
        .annotate(total=Sum(Coalesce("approved_amount", "requested_amount")))
        .values("total")
        .order_by()
    )


def awaiting_approval(qs: QuerySet[RefundRequest], *, user, limit: Decimal | None) -> QuerySet[RefundRequest]:
    """Pending requests ``user`` may decide: not raised by themselves, and within their
    approval ``limit`` (None: any amount) together with what is already approved on the
    same order (``refund_approve`` refuses both: the limit is per order, so that a large
    refund cannot pass as several small requests)."""
    qs = qs.filter(refund_status=RefundStatus.PENDING).exclude(origin__raised_by=user)
    if limit is None:
        return qs
    on_order = (
        RefundRequest.objects.filter(order_id=OuterRef("order_id"), refund_status__in=REFUND_APPROVED_STATUSES)
        .order_by()
        .values("order_id")
        .annotate(total=Sum(Coalesce("approved_amount", "requested_amount")))
        .values("total")
    )
    return qs.alias(approved_on_order=Coalesce(Subquery(on_order), Decimal("0.00"))).filter(
        requested_amount__lte=limit - F("approved_on_order")
    )


def open_ticket_count(customer_id: int) -> int:
    return _open_tickets(pk=customer_id) or 0


@statements.kept_value(Ticket, "pk")
def _open_tickets():
    return (
        Ticket.objects.filter(customer_id=statements.STAND_IN, status__in=OPEN_STATUSES)
        .values("customer_id")
        .annotate(n=Count("*"))
        .values("n")
        .order_by()
    )


# --- The customer's view (the customer channel of the service API) ----------------------

# What the customer sees of the thread: their own messages and the agents' replies. SYSTEM
# messages are the console's bookkeeping (assignments, status changes, naming staff);
# internal notes live in their own table, never read here.
CUSTOMER_VISIBLE_SENDERS = (SenderType.CUSTOMER, SenderType.AGENT)
CUSTOMER_VISIBLE_TYPES = (MessageType.TEXT, MessageType.IMAGE, MessageType.FILE)
# The only columns read: never sender_id (a staff user's id when an agent wrote).
CUSTOMER_THREAD_COLUMNS = (
    "id",
    "created_at",
    "sender_type",
    "sender_name",
    "message_type",
    "message_text",
    "attachments",
)


def _ticket_pk(ticket: Ticket | int) -> int:
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise SupportError("A ticket is named by its id.", field="ticket")
    return pk


def customer_thread(ticket: Ticket | int, *, after: int | None, limit: int) -> tuple[list[dict], int | None]:
    """A page of the customer-visible thread, oldest first: messages with an id above
    ``after`` (the previous page's cursor), at most ``limit``; and the cursor of the next
    page (None on the last). One query, served by the messages' primary key per ticket."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= conf.CUSTOMER_THREAD_PAGE_MAX:
        raise SupportError(f"limit is a whole number from 1 to {conf.CUSTOMER_THREAD_PAGE_MAX}.", field="limit")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 0):
        raise SupportError("after is the cursor of the previous page.", field="after")
    rows = TicketMessage.objects.filter(
        ticket_id=_ticket_pk(ticket),
        sender_type__in=CUSTOMER_VISIBLE_SENDERS,
        message_type__in=CUSTOMER_VISIBLE_TYPES,
    )
    if after is not None:
        rows = rows.filter(id__gt=after)
    page = list(rows.order_by("id").values(*CUSTOMER_THREAD_COLUMNS)[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    entries = [
        {
            "id": row["id"],
            "created_at": row["created_at"],
            "sender": row["sender_type"],
            "sender_name": row["sender_name"],
            "message_type": row["message_type"],
            "text": row["message_text"],
            "attachments": list(row["attachments"] or []),
        }
        for row in page
    ]
    return entries, (page[-1]["id"] if more else None)


def customer_ticket_status(ticket: Ticket) -> dict:
    """What the customer may know of their ticket: no assignee, no staff id or name, no
    priority (the queue's own ordering)."""
    status = ticket.status
    return {
        "ticket_id": ticket.ticket_id,
        "status": status,
        "service_type": ticket.service_type,
        "category": ticket.issue_category,
        "subcategory": ticket.issue_subcategory,
        "subject": ticket.subject,
        "order_id": ticket.order_id,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "resolved_at": ticket.resolved_at,
        "resolution": ticket.resolution if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) else "",
        "rating": ticket.customer_satisfaction_rating,
        "may_write": status != TicketStatus.CLOSED,
        "may_rate": status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        and ticket.customer_satisfaction_rating is None,
    }
