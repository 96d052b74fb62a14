"""The queue's bulk actions: a form page for the step's input, then a result page that lists,
per ticket, what was done or why it was refused (tickets.services.bulk)."""

from __future__ import annotations

from django.contrib.admin import helpers
from django.contrib.messages import WARNING
from django.template.response import TemplateResponse

from tickets import conf, forms
from tickets.admin.common import admin_context
from tickets.services import bulk

FORMS = {
    "assign": (forms.BulkAssignForm, "Assign the selected tickets"),
    "priority": (forms.BulkPriorityForm, "Change the priority of the selected tickets"),
    "note": (forms.BulkNoteForm, "Add an internal note to the selected tickets"),
    "resolve": (forms.BulkResolveForm, "Resolve the selected tickets with a canned reply"),
}


def run(model_admin, request, queryset, operation: str):
    form_class, title = FORMS[operation]
    tickets = list(queryset.order_by("pk")[: conf.BULK_MAX + 1])
    if len(tickets) > conf.BULK_MAX:
        model_admin.message_user(request, f"Select at most {conf.BULK_MAX} tickets for one bulk step.", WARNING)
        return None
    form = form_class(request.POST if "apply" in request.POST else None)
    context = {
        **admin_context(model_admin, request, None, title),
        "form": form,
        "tickets": tickets,
        "operation": operation,
        "action_name": request.POST.get("action"),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media,
    }
    if form.is_bound and form.is_valid():
        outcomes = bulk.ticket_bulk(tickets=tickets, operation=operation, values=form.cleaned_data, actor=request.user)
        context["outcomes"] = outcomes
        context["done"] = sum(o.done for o in outcomes)
        context["title"] = f"{title}: result"
    return TemplateResponse(request, "admin/tickets/ticket/bulk.html", context)
