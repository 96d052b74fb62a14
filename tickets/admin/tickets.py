"""Admin of tickets: the queue (change list) and the ticket page (thread, reply, workflow).

Every write goes through ``tickets.services.tickets``; this module only reads requests,
validates forms and turns the services' errors into form errors, messages or 403s.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from customer_ops.admin_base import WRITES, BaseAdmin, EstimatedCountPaginator, ExportAdminMixin, RuleAwareAdmin
from customer_ops.deadlines import DueState, ticket_resolution_target
from customer_ops.models import Customer
from customer_ops.panels import customer_viewed, render_panels
from tickets import conf, forms, macros, selectors
from tickets.admin.common import ServiceOnlyHistoryAdmin, admin_context
from tickets.choices import TicketStatus
from tickets.models import InternalNote, Macro, RefundOrigin, SlaEscalation, Ticket, TicketMessage
from tickets.resources import TicketQueueResource
from tickets.services import tickets as services
from tickets.services.errors import Conflict, NotAllowed, StaleThread, SupportError


def can_work_tickets(user) -> bool:
    return user.has_perm(services.WORK) or user.has_perm(services.ASSIGN_ANY)


# action -> (the role check of its URL, its form)
ACTIONS = {
    "reply": (lambda u: u.has_perm(services.REPLY), forms.ReplyForm),
    "note": (lambda u: u.has_perm(services.NOTE), forms.NoteForm),
    "take": (can_work_tickets, forms.ConfirmForm),
    "assign": (lambda u: u.has_perm(services.ASSIGN_ANY), forms.AssignForm),
    "priority": (can_work_tickets, forms.PriorityForm),
    "resolve": (can_work_tickets, forms.ResolveForm),
    "reopen": (can_work_tickets, forms.ReopenForm),
    "follow-up": (can_work_tickets, forms.FollowUpForm),
    "close": (lambda u: u.has_perm(services.CLOSE), forms.ConfirmForm),
}


def run_action(action: str, ticket: Ticket, data: dict, user) -> str:
    """Call the service behind ``action``; returns the success message."""
    version = data.get("version")
    if action == "reply":
        services.ticket_reply(
            ticket=ticket,
            text=data["text"],
            attachments=data["attachments"],
            seen=(data["seen_message"], data["seen_note"]),
            actor=user,
        )
        return "Reply sent."
    if action == "note":
        services.ticket_add_note(ticket=ticket, body=data["body"], actor=user)
        return "Internal note added."
    if action == "take":
        services.ticket_assign(ticket=ticket, agent=user, actor=user, expected_version=version)
        return f"{ticket.ticket_id} is now yours."
    if action == "assign":
        services.ticket_assign(ticket=ticket, agent=data["agent"], actor=user, expected_version=version)
        return f"{ticket.ticket_id} assigned to {data['agent'].get_full_name() or data['agent'].get_username()}."
    if action == "priority":
        services.ticket_change_priority(ticket=ticket, priority=data["priority"], actor=user, expected_version=version)
        return "Priority changed."
    if action == "resolve":
        services.ticket_resolve(ticket=ticket, resolution=data["resolution"], actor=user, expected_version=version)
        return f"{ticket.ticket_id} resolved."
    if action == "reopen":
        services.ticket_reopen(ticket=ticket, reason=data["reason"], actor=user, expected_version=version)
        return f"{ticket.ticket_id} reopened."
    if action == "follow-up":
        services.ticket_schedule_follow_up(
            ticket=ticket, follow_up_date=data["follow_up_date"], actor=user, expected_version=version
        )
        return "Follow-up scheduled." if data["follow_up_date"] else "Follow-up cleared."
    if action == "close":
        services.ticket_close(ticket=ticket, actor=user, expected_version=version)
        return f"{ticket.ticket_id} closed."
    raise ValueError(action)


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
        staff = [(str(u.pk), u.get_full_name() or u.get_username()) for u in forms.support_staff()]
        return [("none", "Unassigned"), *staff]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(assigned_to_agent__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_agent_id=int(value))
        return queryset


# --- The queue and the ticket page -----------------------------------------------------


class QueuePaginator(EstimatedCountPaginator):
    """Sorts narrow rows, then loads the page's wide ones (a "deferred join").

    The queue's order (SLA due time, priority, age) is computed per ticket, so PostgreSQL
    sorts every ticket the filters let through. Sorting the ticket ids with just the sort
    key (a top-N heap of a few kB) instead of whole rows with their customer, agent,
    unread-count and escalation columns (an on-disk merge sort at 300,000 tickets) is
    several times faster; the second query loads the page's rows by primary key, so the
    unread counts and escalation flags are computed for the rows shown only.
    """

    def _get_page(self, object_list, *args, **kwargs):
        if isinstance(object_list, QuerySet) and object_list.query.is_sliced:
            ids = self._page_ids(object_list)
            rows = {t.pk: t for t in self.object_list.order_by().filter(pk__in=ids)}
            object_list = [rows[pk] for pk in ids if pk in rows]
        return super()._get_page(object_list, *args, **kwargs)

    @staticmethod
    def _page_ids(page_qs: QuerySet) -> list[int]:
        """The page's ids. In the queue's own order, every open ticket (its SLA due time set)
        comes before every resolved or closed one (NULLS LAST): a page is read from the
        open tickets first (``customer_tickets_open_idx``; what agents work, a small part of
        all tickets), and from the others only for the pages past the last open ticket.
        """
        bottom, top = page_qs.query.low_mark, page_qs.query.high_mark
        qs = page_qs.all()
        qs.query.clear_limits()
        if top is None or list(qs.query.order_by) != selectors.queue_ordering():
            return list(page_qs.values_list("pk", flat=True))
        open_ = qs.filter(status__in=selectors.OPEN_STATUSES)
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
    ]
    list_display_links = ["ticket_id"]
    list_filter = [QueueViewFilter, "status", "priority", "service_type", "issue_category", AgentFilter]
    # Each backed by an index: ticket_id unique; UPPER(...) trigram indexes on the customer's
    # name, email and phone (customer_ops) and on the subject (customer_tickets_subject_trgm).
    search_fields = ["=ticket_id", "customer__email", "customer__phone", "customer__full_name", "subject"]
    search_help_text = "Ticket id (exact), customer email, phone or name, or subject."
    list_per_page = 50
    list_max_show_all = 200
    paginator = QueuePaginator  # no exact COUNT over every ticket; sorts ids, then loads the page
    show_facets = admin.ShowFacets.NEVER
    actions = ["assign_to_me", "close_selected"]

    class Media:
        css = {"all": ["tickets/support.css"]}

    # --- permissions -------------------------------------------------------------------

    # Tickets arrive from the customer app; staff work them here. Fields change only through
    # the workflow actions of the ticket page; never deleted (ServiceOnlyHistoryAdmin).
    refused_writes = WRITES

    def has_work_permission(self, request):
        return can_work_tickets(request.user)

    def has_close_permission(self, request):
        return request.user.has_perm(services.CLOSE)

    def has_export_permission(self, request):
        return request.user.has_perm("tickets.export_ticket")

    # --- the queue ---------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.ticket_queue()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "queue_views": selectors.QUEUE_VIEWS,
            "can_take_next": can_work_tickets(request.user),
        }
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        return selectors.queue_ordering()

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).order_by(*selectors.queue_ordering())

    @admin.display(description="customer", ordering="customer__full_name")
    def customer_col(self, obj):
        return format_html("{}<br><small>{}</small>", obj.customer.full_name, obj.customer.email)

    @admin.display(description="subject")
    def subject_col(self, obj):
        return obj.subject[:80]

    @admin.display(description="priority", ordering="priority_rank")
    def priority_col(self, obj):
        return format_html('<span class="badge badge-{}">{}</span>', obj.priority.lower(), obj.get_priority_display())

    @admin.display(description="status", ordering="status")
    def status_col(self, obj):
        return format_html('<span class="status status-{}">{}</span>', obj.status.lower(), obj.get_status_display())

    @admin.display(description="agent", ordering="assigned_to_agent_name")
    def agent_col(self, obj):
        return obj.assigned_to_agent_name or format_html('<span class="muted">{}</span>', "unassigned")

    @admin.display(description="age", ordering="created_at")
    def age_col(self, obj):
        return timesince(obj.created_at).split(",")[0]

    @admin.display(description="SLA", ordering="sla_due_at")
    def sla_col(self, obj):
        now = timezone.now()
        due = obj.sla_due_at
        flag = format_html(' <span class="badge badge-escalated" title="{}">{}</span>', "Escalated to lead", "ESC")
        flag = flag if obj.escalated else ""
        if due is None:
            if obj.resolved_at is None:
                return "–"
            state = DueState.MET if obj.resolved_at <= obj.resolution_due else DueState.MISSED
            return format_html('<span class="badge badge-{}">{}</span>', state.value, state.value.replace("_", " "))
        if due < now:
            text = f"breached {timesince(due, now).split(',')[0]} ago"
            state = DueState.BREACHED
        else:
            text = f"due in {timesince(now, due).split(',')[0]}"
            state = DueState.DUE_SOON if (due - now).total_seconds() < 4 * 3600 else DueState.OK
        kind = "reply" if obj.first_response_at is None else "resolve"
        return format_html(
            '<span class="badge badge-{}" title="{} by {}">{} {}</span>{}',
            state.value,
            kind,
            timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
            kind,
            text,
            flag,
        )

    @admin.display(description="unread", ordering="unread_count")
    def unread_col(self, obj):
        if not obj.unread_count:
            return ""
        return format_html('<span class="badge badge-unread">{}</span>', obj.unread_count)

    # --- bulk actions: each ticket through the service ---------------------------------

    def _bulk(self, request, queryset, call, done: str):
        ok, failed = 0, []
        for ticket in queryset.order_by("pk"):
            try:
                call(ticket)
                ok += 1
            except SupportError as error:
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

    # --- URLs ---------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("take-next/", wrap(self.take_next_view), name="tickets_ticket_take_next"),
            # The ticket page once had a form here; its POST (a stale tab) gets a clear 403.
            path("<int:pk>/rate/", wrap(self.rating_refused_view), name="tickets_ticket_rate"),
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
        except SupportError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        if ticket is None:
            self.message_user(request, "No unassigned open tickets are waiting.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        self.message_user(request, f"{ticket.ticket_id} is now yours.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    def rating_refused_view(self, request, pk: int):
        """The satisfaction rating is the customer's (services.ticket_record_customer_rating):
        no staff member records it, whatever they post."""
        raise PermissionDenied("The satisfaction rating is the customer's own: staff cannot record it.")

    def action_view(self, request, pk: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        ticket = get_object_or_404(Ticket.objects.select_related("customer", "order"), pk=pk)
        allowed, form_class = ACTIONS[action]
        if not self.has_view_permission(request, ticket) or not allowed(request.user):
            raise PermissionDenied
        form = form_class(request.POST)
        if form.is_valid():
            try:
                done = run_action(action, ticket, form.cleaned_data, request.user)
            except NotAllowed:
                raise PermissionDenied from None
            except StaleThread as error:
                data = request.POST.copy()
                return self.render_ticket(request, pk, bound=(action, form), stale=(error, data))
            except Conflict as error:
                self.message_user(request, error.message, messages.ERROR)
                return self.render_ticket(request, pk)
            except SupportError as error:
                form.add_service_error(error)
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
        ticket = Ticket.objects.select_related("customer", "order").filter(pk=pk).first()
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
        version = forms.version_of(ticket)

        forms_ = {
            "reply": forms.ReplyForm(initial={"seen_message": seen[0], "seen_note": seen[1]}),
            "note": forms.NoteForm(),
            "take": forms.ConfirmForm(initial={"version": version}),
            "priority": forms.PriorityForm(initial={"version": version, "priority": ticket.priority}),
            "resolve": forms.ResolveForm(initial={"version": version, "resolution": ticket.resolution}),
            "reopen": forms.ReopenForm(initial={"version": version}),
            "follow-up": forms.FollowUpForm(
                initial={
                    "version": version,
                    "follow_up_date": ticket.follow_up_date and timezone.localtime(ticket.follow_up_date),
                }
            ),
            "close": forms.ConfirmForm(initial={"version": version}),
        }
        can_assign_any = user.has_perm(services.ASSIGN_ANY)
        if can_assign_any:
            forms_["assign"] = forms.AssignForm(initial={"version": version, "agent": ticket.assigned_to_agent_id})
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

        open_ = ticket.status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
        can_work = services.can_work(user, ticket)
        show = {
            "reply": can_work and user.has_perm(services.REPLY) and ticket.status != TicketStatus.CLOSED,
            "note": can_work and user.has_perm(services.NOTE),
            "take": open_ and can_work and ticket.assigned_to_agent_id != user.pk,
            "assign": open_ and can_assign_any,
            "priority": can_work and ticket.status != TicketStatus.CLOSED,
            "resolve": can_work and ticket.status == TicketStatus.IN_PROGRESS,
            "reopen": can_work and ticket.status == TicketStatus.RESOLVED,
            "follow-up": can_work and ticket.status != TicketStatus.CLOSED,
            "close": user.has_perm(services.CLOSE) and ticket.status == TicketStatus.RESOLVED,
        }
        macro_list = []
        if show["reply"]:
            values = macros.values_for(ticket, user)
            macro_list = [
                {"name": m.name, "body": macros.render(m.body, values)}
                for m in Macro.objects.filter(is_active=True).only("name", "body").order_by("name")
            ]
        request.current_ticket_pk = ticket.pk  # the tickets panel marks this one
        panels = render_panels(ticket.customer, request, only=conf.TICKET_SIDEBAR_PANELS)
        customer_viewed.send(sender=Customer, customer=ticket.customer, request=request)
        refunds = list(
            RefundOrigin.objects.filter(ticket=ticket)
            .select_related("refund")
            .only("refund__refund_request_id", "refund__refund_status", "refund__requested_amount", "ticket_id")
        )
        now = timezone.now()
        context = {
            **admin_context(self, request, ticket, f"{ticket.ticket_id}: {ticket.subject}"),
            "ticket": ticket,
            "entries": entries,
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
            "can_raise_refund": can_work and user.has_perm("tickets.add_refundrequest"),
            "media": self.media,
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
