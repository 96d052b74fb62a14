"""The support roles' and the legal team's sections of the home page (customer_ops.home).

Each tile counts with the queue's own view (``selectors.queue_view``) and the queue's agent
filter, and links to that view, so the figure is the number of rows the link opens.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Count, Exists, Min, OuterRef
from django.utils import timezone

from customer_ops.home import age, count_tile
from customer_ops.keyed_urls import reverse_keys
from customer_ops.registry import Tile, register_home
from customer_ops.roles import Role
from customer_ops.statements import kept_tuples
from tickets import saved_views, selectors
from tickets.admin.tickets import can_work_tickets
from tickets.choices import TicketStatus
from tickets.models import Dispute, RefundRequest, SlaEscalation, Ticket
from tickets.services import disputes
from tickets.services import refunds as refund_services


def queue_url(**params) -> str:
    return reverse_keys("admin:tickets_ticket_changelist") + "?" + urlencode(params)


def _tickets(view: str, user, now):
    """The queue's rows of ``view`` without the columns only the page shows (SLA times,
    unread counts): the views filter on the ticket's and ``tickets_queue_order``'s columns."""
    qs = Ticket.objects.all()
    if view == "escalated":
        qs = qs.annotate(escalated=Exists(SlaEscalation.objects.filter(ticket=OuterRef("pk"))))
    return selectors.queue_view(qs, view, user=user, now=now)


def _unassigned(user, now) -> Tile:
    return count_tile(
        "Unassigned, waiting",
        queue_url(queue="unassigned"),
        _tickets("unassigned", user, now),
        # The same rows by the ticket's columns: the first of customer_tickets_open_idx
        # (created_at order), without the SLA columns.
        age_of=Ticket.objects.filter(status=TicketStatus.OPEN, assigned_to_agent__isnull=True),
        age_label="oldest waiting",
    )


def agent_tiles(request) -> list[Tile]:
    user, now = request.user, timezone.now()
    me = {"agent": user.pk}
    return [
        count_tile("My open tickets", queue_url(queue="mine"), _tickets("mine", user, now)),
        count_tile(
            "My tickets: SLA due within the hour",
            queue_url(queue="at_risk", **me),
            _tickets("at_risk", user, now).filter(assigned_to_agent=user),
            state="due_soon",
        ),
        count_tile(
            "My tickets: SLA breached",
            queue_url(queue="breached", **me),
            _tickets("breached", user, now).filter(assigned_to_agent=user),
            state="breached",
        ),
        count_tile(
            "My follow-ups due today",
            queue_url(queue="follow_up_today", **me),
            _tickets("follow_up_today", user, now).filter(assigned_to_agent=user),
        ),
    ]


def unassigned_tiles(request) -> list[Tile]:
    return [_unassigned(request.user, timezone.now())]


def take_next_action(request) -> list[tuple[str, str]]:
    if not can_work_tickets(request.user):
        return []
    return [("Take next ticket", reverse_keys("admin:tickets_ticket_take_next"))]


register_home(
    key="tickets_agent",
    title="My tickets",
    roles=(Role.AGENT.value,),
    tiles=agent_tiles,
    order=10,
    permission="tickets.view_ticket",
)
# Agents and leads alike: one section, so a person in both groups sees it once.
register_home(
    key="tickets_unassigned",
    title="Waiting for an agent",
    roles=(Role.AGENT.value, Role.LEAD.value),
    tiles=unassigned_tiles,
    actions=take_next_action,
    order=11,
    permission="tickets.view_ticket",
)


def lead_tiles(request) -> list[Tile]:
    user, now = request.user, timezone.now()
    tiles = [
        count_tile(
            "SLA breached today",
            queue_url(queue="breached_today"),
            _tickets("breached_today", user, now),
            state="breached",
        ),
        count_tile("Escalated to lead, waiting", queue_url(queue="escalated"), _tickets("escalated", user, now)),
    ]
    if user.has_perm(refund_services.APPROVE):
        limit = refund_services.approval_limit(user)
        pending = selectors.awaiting_approval(RefundRequest.objects.all(), user=user, limit=limit)
        url = reverse_keys("admin:tickets_refundrequest_changelist") + "?" + urlencode({"approval": "mine"})
        label = "Refunds waiting for my approval" + (f" (up to {limit})" if limit is not None else "")
        tiles.append(count_tile(label, url, pending, age_of=pending, age_label="oldest waiting"))
    return tiles


@kept_tuples(Ticket)
def _open_per_agent():
    # A kept statement (customer_ops.statements): the lead's home page is opened all day.
    return (
        Ticket.objects.filter(status__in=selectors.OPEN_STATUSES, assigned_to_agent__isnull=False)
        .values_list(
            "assigned_to_agent",
            "assigned_to_agent__first_name",
            "assigned_to_agent__last_name",
            "assigned_to_agent__username",
        )
        .annotate(n=Count("pk"), oldest=Min("created_at"))
        .order_by("-n", "assigned_to_agent")
    )


def workload_tiles(request) -> list[Tile]:
    """Open tickets per agent: one grouped count over the open tickets (customer_tickets_open_idx)."""
    now = timezone.now()
    tiles = []
    for agent, first_name, last_name, username, n, oldest in _open_per_agent():
        name = f"{first_name} {last_name}".strip()
        tiles.append(
            Tile(
                label=name or username,
                url=queue_url(queue="open", agent=agent),
                count=n,
                detail=f"oldest {age(oldest, now)}",
            )
        )
    return tiles


register_home(
    key="tickets_lead",
    title="Team queue",
    roles=(Role.LEAD.value,),
    tiles=lead_tiles,
    order=20,
    permission="tickets.view_ticket",
)
register_home(
    key="tickets_workload",
    title="Open tickets per agent",
    roles=(Role.LEAD.value,),
    tiles=workload_tiles,
    order=21,
    permission="tickets.view_ticket",
)

# The nearest response deadlines shown beside the count.
NEAREST_DISPUTES = 3


def legal_tiles(request) -> list[Tile]:
    now = timezone.now()
    qs = disputes.action_required()
    tiles = [count_tile("Disputes needing action", reverse_keys("admin:tickets_dispute_action_required"), qs)]
    shown = Dispute.objects.only("pk", "dispute_id", "dispute_type", "created_at", "resolved_at")
    for dispute in disputes.ActionRequired(shown)[:NEAREST_DISPUTES]:
        deadline = disputes.dispute_deadline(dispute)
        remaining = deadline.remaining(now)
        when = f"due in {age(now, deadline.due_at)}" if remaining.total_seconds() > 0 else "overdue"
        tiles.append(
            Tile(
                label=f"{dispute.dispute_id}: {dispute.get_dispute_type_display()}",
                url=reverse_keys("admin:tickets_dispute_change", args=[dispute.pk]),
                value=when,
                detail=timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M"),
                state=deadline.state(now).value,
            )
        )
    return tiles


register_home(
    key="disputes_legal",
    title="Disputes",
    roles=(Role.LEGAL.value,),
    tiles=legal_tiles,
    order=50,
    permission="tickets.view_dispute",
)


def saved_view_tiles(request) -> list[Tile]:
    """The user's own queue views, each counted by the queue's own change list (so a view
    refused now shows as refused)."""
    model_admin = admin.site._registry[Ticket]
    tiles = []
    for view in saved_views.views_of(request.user):
        url = saved_views.open_url(view)
        qs = saved_views.view_queryset(model_admin, request, view)
        if qs is None:
            tiles.append(Tile(label=view.name, url=url, value="refused", detail="uses a field you may not read"))
        else:
            tiles.append(count_tile(view.name, url, qs))
    return tiles


register_home(
    key="tickets_saved_views",
    title="My views",
    roles=(Role.AGENT.value, Role.LEAD.value),
    tiles=saved_view_tiles,
    order=12,
    permission="tickets.view_ticket",
)
