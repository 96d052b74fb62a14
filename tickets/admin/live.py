"""The ticket page's live parts: who else has it open, and the new thread entries.

``tickets/static/tickets/live.js`` posts to :func:`presence_view` every
``conf.presence_poll_seconds()`` (a plain file under the strict CSP). One request does both
jobs. Its cost, measured by ``tests/tickets/test_workspace_live.py``: the session and the
user (2 queries, as every admin request), the ticket (1), the heartbeat upsert (1), who
else is here (1), the thread's version (1); and only when something is new, the new
entries (2). The permission check reads the user's permissions once (2 queries).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse

from customer_ops.errors import DomainError
from tickets import selectors
from tickets.admin.common import thread_html
from tickets.models import PresenceState, Ticket
from tickets.services import presence


def _seen(request) -> tuple[int, int] | None:
    try:
        seen = int(request.POST.get("seen_message", "")), int(request.POST.get("seen_note", ""))
    except ValueError:
        return None
    return seen if min(seen) >= 0 else None


def presence_view(model_admin, request, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    ticket = Ticket.objects.filter(pk=pk).only("pk", "ticket_id", "status", "updated_at").first()
    if ticket is None:
        return JsonResponse({"title": "No such ticket."}, status=404)
    seen = _seen(request)
    if seen is None:
        return JsonResponse({"title": "seen_message and seen_note are the last ids shown."}, status=400)
    try:
        state = request.POST.get("state", PresenceState.VIEWING)
        presence.presence_beat(ticket=ticket, state=state, actor=request.user)
    except DomainError as error:
        return JsonResponse({"title": error.message}, status=400)
    others = presence.present_on(ticket, exclude_user=request.user)
    version = selectors.live_thread_version(ticket)
    body = {
        "present": [{"name": p.name, "state": p.state.lower(), "doing": p.doing} for p in others],
        "seen": list(version),
        "status": ticket.get_status_display(),
        "version": ticket.updated_at.isoformat(),
        "entries": "",
        "new": 0,
    }
    if version[0] > seen[0] or version[1] > seen[1]:
        entries = selectors.thread_entries_after(ticket, seen)
        body["new"] = len(entries)
        body["entries"] = "".join(thread_html(entries, request))
    return JsonResponse(body)
