"""Admin of tickets: the queue (change list) and the ticket page (thread, reply, workflow).

Every write goes through ``tickets.services.tickets``; this module only reads requests,
validates forms and turns the services' errors into form errors, messages or 403s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from customer_ops import jinja2_env
from customer_ops.admin_base import WRITES, BaseAdmin, EstimatedCountPaginator, ExportAdminMixin, RuleAwareAdmin
from customer_ops.datetimes import here
from customer_ops.deadlines import DueState, ticket_resolution_target
from customer_ops.durations import since
from customer_ops.errors import DomainError
from customer_ops.models import Customer
from customer_ops.panels import customer_viewed, render_panels
from tickets import conf, forms, macros, saved_views, selectors
from tickets.admin import bulk, live, report
from tickets.admin import saved_views as saved_view_pages
from tickets.admin.common import ServiceOnlyHistoryAdmin, admin_context, request_memo, thread_html
from tickets.choices import Priority, TicketStatus
from tickets.models import InternalNote, Macro, SlaEscalation, Ticket, TicketMessage
from tickets.resources import TicketQueueResource
from tickets.services import links, presence
from tickets.services import tickets as services
from tickets.services.errors import StaleThread

PRIORITY_LABELS = dict(Priority.choices)
STATUS_LABELS = dict(TicketStatus.choices)


def can_work_tickets(user) -> bool:
    return user.has_perm(services.WORK) or user.has_perm(services.ASSIGN_ANY)


@dataclass(frozen=True)
class PageState:
    """What the ticket page's actions decide on: who looks, at which ticket, in which state."""

    user: object
    ticket: Ticket
    can_work: bool  # services.can_work: their own or an unassigned ticket; leads any
    version: str  # the ticket's updated_at, the forms' optimistic lock
    seen: tuple[int, int]  # the last message and note on screen

    @property
    def open(self) -> bool:
        return self.ticket.status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)

    @property
    def closed(self) -> bool:
        return self.ticket.status == TicketStatus.CLOSED


@dataclass(frozen=True)
class TicketAction:
    """One workflow action of the ticket page: its form, who may post it (the URL's role
    check; the service checks again), when the page shows it, the form's initial values,
    and the service call (returning the success message)."""

    form: type
    may: Callable[[object], bool]
    shown: Callable[[PageState], bool]
    initial: Callable[[PageState], dict]
    run: Callable[[Ticket, dict, object], str]

    def blank(self, state: PageState):
        return self.form(initial=self.initial(state))


def _versioned(state: PageState, **values) -> dict:
    return {"version": state.version, **values}


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


# The service call of each action: (ticket, the form's cleaned data, user) -> the success message.


def _reply(t: Ticket, d: dict, u) -> str:
    seen = (d["seen_message"], d["seen_note"])
    services.ticket_reply(ticket=t, text=d["text"], attachments=d["attachments"], seen=seen, actor=u)
    return "Reply sent."


def _note(t: Ticket, d: dict, u) -> str:
    services.ticket_add_note(ticket=t, body=d["body"], actor=u)
    return "Internal note added."


def _take(t: Ticket, d: dict, u) -> str:
    services.ticket_assign(ticket=t, agent=u, actor=u, expected_version=d.get("version"))
    return f"{t.ticket_id} is now yours."


def _assign(t: Ticket, d: dict, u) -> str:
    services.ticket_assign(ticket=t, agent=d["agent"], actor=u, expected_version=d.get("version"))
    return f"{t.ticket_id} assigned to {_name(d['agent'])}."


def _priority(t: Ticket, d: dict, u) -> str:
    services.ticket_change_priority(ticket=t, priority=d["priority"], actor=u, expected_version=d.get("version"))
    return "Priority changed."


def _resolve(t: Ticket, d: dict, u) -> str:
    services.ticket_resolve(ticket=t, resolution=d["resolution"], actor=u, expected_version=d.get("version"))
    return f"{t.ticket_id} resolved."


def _reopen(t: Ticket, d: dict, u) -> str:
    services.ticket_reopen(ticket=t, reason=d["reason"], actor=u, expected_version=d.get("version"))
    return f"{t.ticket_id} reopened."


def _follow_up(t: Ticket, d: dict, u) -> str:
    when = d["follow_up_date"]
    services.ticket_schedule_follow_up(ticket=t, follow_up_date=when, actor=u, expected_version=d.get("version"))
    return "Follow-up scheduled." if when else "Follow-up cleared."


def _close(t: Ticket, d: dict, u) -> str:
    services.ticket_close(ticket=t, actor=u, expected_version=d.get("version"))
    return f"{t.ticket_id} closed."


def _merge(t: Ticket, d: dict, u) -> str:
    link = links.ticket_merge(source=t, target=d["target"], actor=u, reason=d["reason"])
    return f"{t.ticket_id} merged into {link.target.ticket_id} and closed."


def _split(t: Ticket, d: dict, u) -> str:
    new = links.ticket_split(
        ticket=t, message=d["message"], with_following=d["with_following"], subject=d["subject"], actor=u
    )
    return f"Split off into a new ticket, {new.ticket_id}."


# The ticket page's actions, in the order of their URLs: the one table the URLs, the role
# checks, the page's forms and what each POST does are read from.
ACTIONS: dict[str, TicketAction] = {
    "reply": TicketAction(
        form=forms.ReplyForm,
        may=lambda u: u.has_perm(services.REPLY),
        shown=lambda s: s.can_work and s.user.has_perm(services.REPLY) and not s.closed,
        initial=lambda s: {"seen_message": s.seen[0], "seen_note": s.seen[1]},
        run=_reply,
    ),
    "note": TicketAction(
        form=forms.NoteForm,
        may=lambda u: u.has_perm(services.NOTE),
        shown=lambda s: s.can_work and s.user.has_perm(services.NOTE),
        initial=lambda s: {},
        run=_note,
    ),
    "take": TicketAction(
        form=forms.ConfirmForm,
        may=can_work_tickets,
        shown=lambda s: s.open and s.can_work and s.ticket.assigned_to_agent_id != s.user.pk,
        initial=_versioned,
        run=_take,
    ),
    "assign": TicketAction(
        form=forms.AssignForm,
        may=lambda u: u.has_perm(services.ASSIGN_ANY),
        shown=lambda s: s.open and s.user.has_perm(services.ASSIGN_ANY),
        initial=lambda s: _versioned(s, agent=s.ticket.assigned_to_agent_id),
        run=_assign,
    ),
    "priority": TicketAction(
        form=forms.PriorityForm,
        may=can_work_tickets,
        shown=lambda s: s.can_work and not s.closed,
        initial=lambda s: _versioned(s, priority=s.ticket.priority),
        run=_priority,
    ),
    "resolve": TicketAction(
        form=forms.ResolveForm,
        may=can_work_tickets,
        shown=lambda s: s.can_work and s.ticket.status == TicketStatus.IN_PROGRESS,
        initial=lambda s: _versioned(s, resolution=s.ticket.resolution),
        run=_resolve,
    ),
    "reopen": TicketAction(
        form=forms.ReopenForm,
        may=can_work_tickets,
        shown=lambda s: s.can_work and s.ticket.status == TicketStatus.RESOLVED,
        initial=_versioned,
        run=_reopen,
    ),
    "follow-up": TicketAction(
        form=forms.FollowUpForm,
        may=can_work_tickets,
        shown=lambda s: s.can_work and not s.closed,
        initial=lambda s: _versioned(
            s, follow_up_date=s.ticket.follow_up_date and timezone.localtime(s.ticket.follow_up_date)
        ),
        run=_follow_up,
    ),
    "close": TicketAction(
        form=forms.ConfirmForm,
        may=lambda u: u.has_perm(services.CLOSE),
        shown=lambda s: s.user.has_perm(services.CLOSE) and s.ticket.status == TicketStatus.RESOLVED,
        initial=_versioned,
        run=_close,
    ),
    # A lead, or the agent owning both tickets (links.ticket_merge checks the other ticket).
    "merge": TicketAction(
        form=forms.MergeForm,
        may=can_work_tickets,
        shown=lambda s: s.can_work and not s.closed,
        initial=lambda s: {},
        run=_merge,
    ),
    "split": TicketAction(
        form=forms.SplitForm,
        may=can_work_tickets,
        shown=lambda s: s.can_work and not s.closed,
        initial=lambda s: {},
        run=_split,
    ),
}


def run_action(action: str, ticket: Ticket, data: dict, user) -> str:
    """Call the service behind ``action``; returns the success message."""
    return ACTIONS[action].run(ticket, data, user)


# --- Queue filters ---------------------------------------------------------------------


class QueueViewFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"
    index_columns = ("status",)  # and the open-tickets and follow-up indexes of the views

    def lookups(self, request, model_admin):
        return selectors.QUEUE_VIEWS + selectors.HOME_VIEWS

    def queryset(self, request, queryset):
        if self.value():
            return selectors.queue_view(queryset, self.value(), user=request.user)
        return queryset


class AgentFilter(admin.SimpleListFilter):
    """Support staff only (one query), not every user of the site."""

    title = "agent"
    parameter_name = "agent"
    index_columns = ("assigned_to_agent_id",)

    def lookups(self, request, model_admin):
        memo = request_memo(request)  # once per request, however many saved views are counted
        if "support_staff" not in memo:
            # The names only (AbstractUser.get_full_name's wording), not whole user rows.
            memo["support_staff"] = [
                (str(pk), f"{first} {last}".strip() or username)
                for pk, first, last, username in forms.support_staff_names()
            ]
        return [("none", "Unassigned"), *memo["support_staff"]]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(assigned_to_agent__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_agent_id=int(value))
        return queryset


# --- The queue and the ticket page -----------------------------------------------------


class QueuePaginator(EstimatedCountPaginator):
    """A page of the queue is its tickets' ids, in the queue's order; the change list loads
    their rows (:func:`tickets.selectors.queue_rows`, one statement compiled once per
    process), so the unread counts, escalation flags and watchers are computed for the rows
    shown only, and the sorting query reads narrow index entries, not wide rows.

    The open tickets' order (SLA due time, priority, age) is read from an index of
    ``tickets_queue_order``; the resolved and closed tickets after them are sorted with
    just the sort key (a top-N heap of a few kB).
    """

    def _get_page(self, object_list, *args, **kwargs):
        if isinstance(object_list, QuerySet) and object_list.query.is_sliced:
            object_list = self._page_ids(object_list)
        return super()._get_page(object_list, *args, **kwargs)

    @staticmethod
    def _page_ids(page_qs: QuerySet) -> list[int]:
        """The page's ids. In the queue's own order, every open ticket (its SLA due time set)
        comes before every resolved or closed one (NULLS LAST): a page is read from the
        open tickets first, in order from ``tickets_queue_order_idx`` (an index scan that
        stops at the page's end, whatever the number of open tickets), and from the others
        only for the pages past the last open ticket.
        """
        bottom, top = page_qs.query.low_mark, page_qs.query.high_mark
        qs = page_qs.all()
        qs.query.clear_limits()
        if top is None or list(qs.query.order_by) != selectors.queue_ordering():
            return list(page_qs.values_list("pk", flat=True))
        open_ = selectors.open_in_queue_order(qs)
        ids = list(open_.values_list("pk", flat=True)[bottom:top])
        if len(ids) == top - bottom:
            return ids
        open_count = bottom + len(ids) if ids else open_.count()
        done = qs.exclude(status__in=selectors.OPEN_STATUSES)
        return ids + list(done.values_list("pk", flat=True)[max(bottom - open_count, 0) : top - open_count])


@admin.register(Ticket)
class TicketAdmin(ExportAdminMixin, ServiceOnlyHistoryAdmin):
    change_list_template = "admin/tickets/ticket/queue.html"
    resource_classes = [TicketQueueResource]
    list_display = [
        "ticket_id",
        "customer_col",
        "subject_col",
        "priority_col",
        "status_col",
        "agent_col",
        "age_col",
        "sla_col",
        "unread_col",
        "presence_col",
    ]
    list_display_links = ["ticket_id"]
    list_filter = [
        QueueViewFilter,
        "status",
        "priority",
        "service_type",
        "issue_category",
        AgentFilter,
        report.ResolvedWeekFilter,  # the team report's links
        report.ResolvedByFilter,
        report.ReportFigureFilter,
    ]
    # Each backed by an index: ticket_id unique; UPPER(...) trigram indexes on the customer's
    # name, email and phone (customer_ops) and on the subject (customer_tickets_subject_trgm).
    search_fields = ["=ticket_id", "customer__email", "customer__phone", "customer__full_name", "subject"]
    search_help_text = "Ticket id (exact), customer email, phone or name, or subject."
    list_per_page = 50
    list_max_show_all = 200
    paginator = QueuePaginator  # no exact COUNT over every ticket; sorts ids, then loads the page
    show_facets = admin.ShowFacets.NEVER
    actions = ["assign_to_me", "close_selected", "bulk_assign", "bulk_priority", "bulk_note", "bulk_resolve"]

    class Media:
        css = {"all": ["tickets/support.css"]}

    # --- permissions -------------------------------------------------------------------

    # Tickets arrive from the customer app; staff work them here. Fields change only through
    # the workflow actions of the ticket page; never deleted (ServiceOnlyHistoryAdmin).
    refused_writes = WRITES

    def has_work_permission(self, request):
        return can_work_tickets(request.user)

    def has_assign_permission(self, request):
        return request.user.has_perm(services.ASSIGN_ANY)

    def has_close_permission(self, request):
        return request.user.has_perm(services.CLOSE)

    def has_export_permission(self, request):
        return request.user.has_perm("tickets.export_ticket")

    # --- the queue ---------------------------------------------------------------------

    def get_search_results(self, request, queryset, search_term):
        # What agents paste most: a customer's email. Its exact match is one probe of the
        # unique email index; the trigram search would read every customer sharing the
        # address's trigrams ("@example.com": nearly everyone), so it runs only when no
        # customer has that exact address.
        customers = selectors.customers_by_email(search_term)
        if customers:
            return queryset.filter(customer_id__in=customers), False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        # The page's rows, with who else has each open now (the eye), are loaded by
        # QueueChangeList from their ids: this queryset filters and sorts.
        return selectors.ticket_queue()

    def changelist_view(self, request, extra_context=None):
        bar = {
            "current": request.GET.get("queue", ""),
            "queue_views": selectors.QUEUE_VIEWS,
            "saved_views": saved_views.listed_for(request.user),
            "query": request.GET.urlencode(),
            "can_take_next": can_work_tickets(request.user),
            "can_see_report": request.user.has_perm(report.PERMISSION),
        }
        # In Jinja2: Django's engine took 0.7 ms a page for the tabs and forms.
        queue_bar = jinja2_env.render("tickets/queue_bar.html", bar, request)
        return super().changelist_view(request, {**(extra_context or {}), "queue_bar": queue_bar})

    def get_ordering(self, request):
        return selectors.queue_ordering()

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).order_by(*selectors.queue_ordering())

    # The columns are written with f-strings and html.escape: format_html's per-argument
    # lazy-string checks were a visible share of a 50-row page's CPU (docs/scaling.md).

    @admin.display(description="customer", ordering="customer__full_name")
    def customer_col(self, obj):
        return SafeString(f"{escape(obj.customer.full_name)}<br><small>{escape(obj.customer.email)}</small>")

    @admin.display(description="subject")
    def subject_col(self, obj):
        return obj.subject[:80]

    @admin.display(description="priority", ordering="priority_rank")
    def priority_col(self, obj):
        label = escape(PRIORITY_LABELS.get(obj.priority, obj.priority))
        return SafeString(f'<span class="badge badge-{escape(obj.priority.lower())}">{label}</span>')

    @admin.display(description="status", ordering="status")
    def status_col(self, obj):
        label = escape(STATUS_LABELS.get(obj.status, obj.status))
        return SafeString(f'<span class="status status-{escape(obj.status.lower())}">{label}</span>')

    @admin.display(description="agent", ordering="assigned_to_agent_name")
    def agent_col(self, obj):
        return obj.assigned_to_agent_name or SafeString('<span class="muted">unassigned</span>')

    @admin.display(description="age", ordering="created_at")
    def age_col(self, obj):
        return since(obj.created_at)  # the largest unit only

    @admin.display(description="SLA", ordering="sla_due_at")
    def sla_col(self, obj):
        due = obj.sla_due_at
        if due is None:
            if obj.resolved_at is None:
                return "–"
            state = DueState.MET if obj.resolved_at <= obj.resolution_due else DueState.MISSED
            return SafeString(f'<span class="badge badge-{state.value}">{state.value.replace("_", " ")}</span>')
        now = timezone.now()
        if due < now:
            text = f"breached {since(due, now)} ago"
            state = DueState.BREACHED
        else:
            text = f"due in {since(now, due)}"
            state = DueState.DUE_SOON if (due - now).total_seconds() < 4 * 3600 else DueState.OK
        kind = "reply" if obj.first_response_at is None else "resolve"
        by = timezone.localtime(due, here()[0]).strftime("%Y-%m-%d %H:%M")  # the zone the rows hold
        flag = ' <span class="badge badge-escalated" title="Escalated to lead">ESC</span>' if obj.escalated else ""
        return SafeString(
            f'<span class="badge badge-{state.value}" title="{kind} by {by}">{kind} {escape(text)}</span>{flag}'
        )

    @admin.display(description="unread", ordering="unread_count")
    def unread_col(self, obj):
        if not obj.unread_count:
            return ""
        return SafeString(f'<span class="badge badge-unread">{int(obj.unread_count)}</span>')

    @admin.display(description="open by")
    def presence_col(self, obj):
        if not obj.watchers:
            return ""
        text = escape(f"Open now by {obj.watchers}")
        return SafeString(f'<span class="presence-eye" title="{text}" role="img" aria-label="{text}">👁</span>')

    # --- bulk actions: each ticket through the service ---------------------------------

    def _bulk(self, request, queryset, call, done: str):
        ok, failed = 0, []
        for ticket in queryset.order_by("pk"):
            try:
                call(ticket)
                ok += 1
            except DomainError as error:
                failed.append(error.message)
        if ok:
            self.message_user(request, f"{ok} ticket(s) {done}.", messages.SUCCESS)
        for message in failed[:10]:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Assign selected tickets to me", permissions=["work"])
    def assign_to_me(self, request, queryset):
        self._bulk(
            request,
            queryset,
            lambda t: services.ticket_assign(ticket=t, agent=request.user, actor=request.user),
            "assigned to you",
        )

    @admin.action(description="Close selected resolved tickets", permissions=["close"])
    def close_selected(self, request, queryset):
        self._bulk(request, queryset, lambda t: services.ticket_close(ticket=t, actor=request.user), "closed")

    # Bulk work: a form page, then the per-ticket result page (tickets.admin.bulk).

    @admin.action(description="Assign selected tickets to an agent…", permissions=["assign"])
    def bulk_assign(self, request, queryset):
        return bulk.run(self, request, queryset, "assign")

    @admin.action(description="Change the priority of selected tickets…", permissions=["work"])
    def bulk_priority(self, request, queryset):
        return bulk.run(self, request, queryset, "priority")

    @admin.action(description="Add an internal note to selected tickets…", permissions=["work"])
    def bulk_note(self, request, queryset):
        return bulk.run(self, request, queryset, "note")

    @admin.action(description="Resolve selected tickets with a canned reply…", permissions=["work"])
    def bulk_resolve(self, request, queryset):
        return bulk.run(self, request, queryset, "resolve")

    # --- URLs ---------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("take-next/", wrap(self.take_next_view), name="tickets_ticket_take_next"),
            # The ticket page once had a form here; its POST (a stale tab) gets a clear 403.
            path("<int:pk>/rate/", wrap(self.rating_refused_view), name="tickets_ticket_rate"),
            # The ticket page's heartbeat and live thread (tickets/static/tickets/live.js).
            path("<int:pk>/presence/", wrap(self.presence_view), name="tickets_ticket_presence"),
            path("team-report/", wrap(self.team_report_view), name="tickets_ticket_team_report"),
            path("views/save/", wrap(self.save_view_view), name="tickets_ticket_save_view"),
            path("views/<int:view_id>/", wrap(self.open_view_view), name="tickets_ticket_saved_view"),
            path("views/<int:view_id>/delete/", wrap(self.delete_view_view), name="tickets_ticket_delete_view"),
        ]
        for action in ACTIONS:
            custom.append(
                path(
                    f"<int:pk>/{action}/",
                    wrap(self.action_view),
                    {"action": action},
                    name=f"tickets_ticket_{action.replace('-', '_')}",
                )
            )
        return custom + super().get_urls()

    def take_next_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_work_tickets(request.user):
            raise PermissionDenied
        try:
            ticket = services.ticket_take_next(actor=request.user)
        except DomainError as error:
            self.show_refusal(request, error)
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        if ticket is None:
            self.message_user(request, "No unassigned open tickets are waiting.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        self.message_user(request, f"{ticket.ticket_id} is now yours.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    def team_report_view(self, request):
        return report.report_view(self, request)

    def save_view_view(self, request):
        return saved_view_pages.save_view(self, request)

    def open_view_view(self, request, view_id: int):
        return saved_view_pages.open_view(self, request, view_id)

    def delete_view_view(self, request, view_id: int):
        return saved_view_pages.delete_view(self, request, view_id)

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if getattr(request, "counting_only", False):  # tickets.saved_views: the rows, not a page
            return type("CountingChangeList", (changelist,), {"get_results": lambda self, request: None})

        class QueueChangeList(changelist):
            def get_results(self, request):
                # Both ways Django reads a page (a list that fits one page: the queryset;
                # QueuePaginator's page: its ids) end in the page's ids, whose rows are loaded
                # with what the queue shows.
                super().get_results(request)
                page = self.result_list
                ids = list(page.values_list("pk", flat=True)) if isinstance(page, QuerySet) else list(page)
                self.result_list = selectors.queue_rows(
                    ids, viewer_id=request.user.pk, since=presence.presence_cutoff()
                )

        return QueueChangeList

    def presence_view(self, request, pk: int):
        return live.presence_view(self, request, pk)

    def rating_refused_view(self, request, pk: int):
        """The satisfaction rating is the customer's (services.ticket_record_customer_rating):
        no staff member records it, whatever they post."""
        raise PermissionDenied("The satisfaction rating is the customer's own: staff cannot record it.")

    def action_view(self, request, pk: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        ticket = get_object_or_404(Ticket.objects.select_related("customer", "order"), pk=pk)
        if not self.has_view_permission(request, ticket) or not ACTIONS[action].may(request.user):
            raise PermissionDenied
        form = ACTIONS[action].form(request.POST)
        if form.is_valid():
            try:
                done = run_action(action, ticket, form.cleaned_data, request.user)
            except StaleThread as error:  # the reply is kept, beside the messages it missed
                data = request.POST.copy()
                return self.render_ticket(request, pk, bound=(action, form), stale=(error, data))
            except DomainError as error:
                if not self.show_refusal(request, error, form=form, not_allowed_403=True, conflict_reloads=True):
                    return self.render_ticket(request, pk)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[pk]))
        return self.render_ticket(request, pk, bound=(action, form))

    # --- the ticket page ----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self.render_ticket(request, int(object_id), mark_read=request.method == "GET")

    def render_ticket(self, request, pk: int, *, bound=None, stale=None, mark_read: bool = False):
        ticket = selectors.page_ticket(pk)
        if ticket is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        if not self.has_view_permission(request, ticket):
            raise PermissionDenied
        user = request.user
        if mark_read:
            services.ticket_mark_read(ticket=ticket, actor=user)
        new_after = None
        if stale is not None:
            new_after = stale[0].seen
        entries = selectors.ticket_thread(ticket, new_after=new_after)
        seen = selectors.thread_version(entries)
        sla = selectors.sla_for(ticket, entries)
        state = PageState(
            user=user,
            ticket=ticket,
            can_work=services.can_work(user, ticket),
            version=forms.version_of(ticket),
            seen=seen,
        )
        show = {name: action.shown(state) for name, action in ACTIONS.items()}
        # A blank form for each action the page shows (and the user may post).
        forms_ = {name: action.blank(state) for name, action in ACTIONS.items() if show[name] and action.may(user)}
        if bound is not None:
            action, form = bound
            forms_[action] = form
        if stale is not None:
            error, data = stale
            data["seen_message"], data["seen_note"] = seen
            reply = forms.ReplyForm(data)
            reply.is_valid()
            reply.add_error(None, error.message)
            forms_["reply"] = reply
        if "split" in forms_:
            forms_["split"].set_messages(entries)

        macro_list = []
        if show["reply"]:
            values = macros.values_for(ticket, user)
            macro_list = [{"name": m.name, "body": macros.render(m.body, values)} for m in selectors.active_macros()]
        request.current_ticket_pk = ticket.pk  # the tickets panel marks this one
        panels = render_panels(ticket.customer, request, only=conf.TICKET_SIDEBAR_PANELS)
        customer_viewed.send(sender=Customer, customer=ticket.customer, request=request)
        # The refunds raised from this ticket and from the tickets merged into it.
        refunds = selectors.refunds_on_thread(ticket)
        # Likewise the disputes (customer_disputes.ticket_id), for the roles that may see them.
        disputes = selectors.disputes_on_thread(ticket) if user.has_perm("tickets.view_dispute") else []
        now = timezone.now()
        context = {
            **admin_context(self, request, ticket, f"{ticket.ticket_id}: {ticket.subject}"),
            "ticket": ticket,
            "entries": entries,
            "thread": thread_html(entries, request),
            "sla": sla,
            "sla_rows": [
                ("First response", sla.first_response, sla.first_response.state(now)),
                ("Resolution", sla.resolution, sla.resolution.state(now)),
            ],
            "resolution_target": ticket_resolution_target(ticket.priority),
            "forms": {k.replace("-", "_"): v for k, v in forms_.items()},
            "show": {k.replace("-", "_"): v for k, v in show.items()},
            "macros": macro_list,
            "panels": panels,
            "refunds": refunds,
            "disputes": disputes,
            "can_raise_refund": state.can_work and user.has_perm("tickets.add_refundrequest"),
            "media": self.media,
            "links": selectors.ticket_links(ticket),
            "present": presence.present_on(ticket, exclude_user=user),
            "poll_seconds": conf.presence_poll_seconds(),
            "seen": seen,
            "version": state.version,
        }
        return TemplateResponse(request, "admin/tickets/ticket/workspace.html", context)


# --- Messages, notes, macros, escalations ----------------------------------------------


@admin.register(TicketMessage)
class TicketMessageAdmin(RuleAwareAdmin):
    """Read-only: messages are written by the reply workflow and the customer app."""

    list_display = ["id", "ticket", "sender_type", "sender_name", "message_type", "is_read", "created_at"]
    list_filter = ["sender_type", "message_type", "is_read"]
    search_fields = ["=ticket__ticket_id"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]
    readonly_fields = ["created_at"]
    paginator = EstimatedCountPaginator  # ticket_messages_created_idx serves the ordering
    show_facets = admin.ShowFacets.NEVER

    refused_writes = WRITES


@admin.register(InternalNote)
class InternalNoteAdmin(BaseAdmin):
    """Read-only: notes are added on the ticket page and never edited."""

    list_display = ["id", "ticket", "author_name", "created_at"]
    search_fields = ["=ticket__ticket_id"]
    list_select_related = ["ticket"]
    show_facets = admin.ShowFacets.NEVER

    refused_writes = WRITES


@admin.register(Macro)
class MacroAdmin(BaseAdmin):
    """Canned replies, kept by leads."""

    list_display = ["name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    fields = ["name", "body", "is_active"]
    readonly_fields = ["created_by"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "body" in form.base_fields:  # absent on the read-only page of a view-only role (agents)
            names = ", ".join("{{ %s }}" % name for name in macros.PLACEHOLDERS)  # noqa: UP031
            form.base_fields["body"].help_text = f"Placeholders: {names}."
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SlaEscalation)
class SlaEscalationAdmin(BaseAdmin):
    """The SLA job's record of escalated breaches (read-only)."""

    list_display = ["ticket", "kind", "due_at", "escalated_at", "from_priority", "to_priority"]
    list_filter = ["kind"]
    search_fields = ["=ticket__ticket_id"]
    list_select_related = ["ticket"]
    show_facets = admin.ShowFacets.NEVER

    refused_writes = WRITES
