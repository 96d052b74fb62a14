"""Exports (django-import-export): the ticket queue as CSV/XLSX, with its current filters."""

from __future__ import annotations

from import_export import fields, resources

from tickets.models import Ticket


class TicketQueueResource(resources.ModelResource):
    """The queue's columns; the queryset comes annotated from ``selectors.ticket_queue``."""

    customer_name = fields.Field(attribute="customer__full_name", column_name="customer")
    customer_email = fields.Field(attribute="customer__email", column_name="customer email")
    sla_due_at = fields.Field(attribute="sla_due_at", column_name="SLA due")
    sla_breached = fields.Field(column_name="SLA breached")
    unread_count = fields.Field(attribute="unread_count", column_name="unread customer messages")

    class Meta:
        model = Ticket
        fields = [
            "ticket_id",
            "customer_name",
            "customer_email",
            "subject",
            "service_type",
            "issue_category",
            "priority",
            "status",
            "assigned_to_agent_name",
            "created_at",
            "sla_due_at",
            "sla_breached",
            "unread_count",
            "resolved_at",
            "resolution_time_minutes",
            "customer_satisfaction_rating",
        ]
        export_order = fields

    def dehydrate_sla_breached(self, ticket) -> str:
        from django.utils import timezone

        due = getattr(ticket, "sla_due_at", None)
        return "yes" if due is not None and due < timezone.now() else "no"
