"""Admin of tickets and their messages (the support console)."""

from django.contrib import admin

from customer_ops.admin_base import RuleAwareAdmin
from tickets.models import Ticket, TicketMessage


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    fields = ["created_at", "sender_type", "sender_name", "message_type", "message_text", "is_read", "read_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # replies go through the ticket's reply workflow


@admin.register(Ticket)
class TicketAdmin(RuleAwareAdmin):
    list_display = ["ticket_id", "customer", "subject", "priority", "status", "assigned_to_agent", "created_at"]
    list_filter = ["status", "priority", "service_type", "issue_category"]
    search_fields = ["=ticket_id", "subject", "=customer__email"]
    list_select_related = ["customer", "assigned_to_agent"]
    autocomplete_fields = ["customer", "order"]
    raw_id_fields = ["assigned_to_agent", "resolved_by"]
    readonly_fields = ["ticket_id", "created_at", "updated_at"]
    inlines = [TicketMessageInline]


@admin.register(TicketMessage)
class TicketMessageAdmin(RuleAwareAdmin):
    list_display = ["id", "ticket", "sender_type", "sender_name", "message_type", "is_read", "created_at"]
    list_filter = ["sender_type", "message_type", "is_read"]
    search_fields = ["=ticket__ticket_id"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]
    readonly_fields = ["created_at"]
