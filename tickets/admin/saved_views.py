"""The queue's personal views: save the current filters, search and order under a name,
open one, delete one (tickets.saved_views). Owner only: another user's view is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from tickets import saved_views
from tickets.admin.common import admin_context
from tickets.forms import SaveViewForm
from tickets.models import SavedQueueView


def _require_queue(model_admin, request) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def save_view(model_admin, request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_queue(model_admin, request)
    form = SaveViewForm(request.POST, owner=request.user)
    if form.is_valid():
        query = saved_views.saved_query(QueryDict(form.cleaned_data["query"]))
        unsaved = SavedQueueView(owner=request.user, name=form.cleaned_data["name"], query=query)
        if saved_views.view_queryset(model_admin, request, unsaved) is None:
            form.add_error(None, "The queue refuses these filters: a field you may not read, or an invalid value.")
    if form.is_valid():
        view = saved_views.create_view(owner=request.user, name=unsaved.name, query=query)
        model_admin.message_user(request, f"View “{view.name}” saved.", messages.SUCCESS)
        return HttpResponseRedirect(saved_views.queue_url(view))
    context = {**admin_context(model_admin, request, None, "Save this view"), "form": form}
    return TemplateResponse(request, "admin/tickets/ticket/save_view.html", context)


def open_view(model_admin, request, view_id: int):
    _require_queue(model_admin, request)
    view = get_object_or_404(saved_views.views_of(request.user), pk=view_id)
    return HttpResponseRedirect(saved_views.queue_url(view))


def delete_view(model_admin, request, view_id: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_queue(model_admin, request)
    if not saved_views.delete_view(owner=request.user, view_id=view_id):
        raise Http404
    model_admin.message_user(request, "View deleted.", messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
