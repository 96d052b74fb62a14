"""An agent's own saved views of the queue (``ticket_saved_views``).

A view is the queue's query string (filters, search, order). It is never trusted: each
use goes through the queue's own change list again (opening it redirects to the queue;
the home tile builds the same change list without its results), so a field made
confidential after saving is refused there exactly as a typed URL is (a 400 from
``ConfidentialLookupsMixin``). Every view is read and written for its owner only.

Not audited: ``customer_audit_log`` records changes to a customer's data, and a view
changes nothing of a customer (as the team's macros are not audited either).
"""

from __future__ import annotations

from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, PAGE_VAR
from django.core.exceptions import FieldError, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import QueryDict

from customer_ops.keyed_urls import reverse_keys
from customer_ops.statements import STAND_IN, kept_rows
from tickets.admin.common import request_memo
from tickets.models import SavedQueueView

MAX_NAME = 60
# Per owner: the home page counts them all in one statement, which should stay small.
MAX_VIEWS = 20
# The queue's state that is no part of a view (the page shown, one-off flags).
NOT_SAVED = {PAGE_VAR, ALL_VAR, ERROR_FLAG, "_changelist_filters"}


def scrub_saved_searches(patterns: list[str], marker: str) -> int:
    """Erasure (registered in ``TicketsConfig.ready``): rewrite what the views' parameters say
    of the erased customer (a search for their email or name) with ``marker``. The query
    strings are URL-encoded: decoded here, matched by the erasure's own SQL function, one
    statement per pattern for every view at once (views are few: ``MAX_VIEWS`` per staff
    member). Returns how many views changed."""
    with transaction.atomic():
        views = list(SavedQueueView.objects.exclude(query="").select_for_update())
        pairs = [[(k, v) for k, vs in QueryDict(view.query).lists() for v in vs] for view in views]
        values = [v for view_pairs in pairs for _, v in view_pairs]
        scrubbed = values
        with connection.cursor() as cursor:
            for pattern in patterns:
                cursor.execute("SELECT erasure_scrub(%s::text[], %s, %s)", [scrubbed, pattern, marker])
                scrubbed = cursor.fetchone()[0]
        changed, position = 0, 0
        for view, view_pairs in zip(views, pairs, strict=True):
            new = scrubbed[position : position + len(view_pairs)]
            position += len(view_pairs)
            if new != [v for _, v in view_pairs]:
                query = QueryDict(mutable=True)
                for (key, _), value in zip(view_pairs, new, strict=True):
                    query.appendlist(key, value)
                view.query = query.urlencode()
                view.save(update_fields=["query"])
                changed += 1
        return changed


def views_of(user) -> QuerySet[SavedQueueView]:
    """The user's own views (ticket_saved_views_name_once, owner first)."""
    return SavedQueueView.objects.filter(owner=user)


def listed_for(user) -> list[SavedQueueView]:
    """:func:`views_of`, as the queue's bar lists them on every queue page: a statement
    compiled once per process (customer_ops.statements)."""
    return _views_of(pk=user.pk)


@kept_rows(SavedQueueView, "pk")
def _views_of():
    return SavedQueueView.objects.filter(owner_id=STAND_IN)


def saved_query(params: QueryDict) -> str:
    """The queue's query string as a view keeps it."""
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        if key not in NOT_SAVED:
            kept.setlist(key, values)
    return kept.urlencode()


def queue_url(view: SavedQueueView) -> str:
    return reverse_keys("admin:tickets_ticket_changelist") + ("?" + view.query if view.query else "")


def open_url(view: SavedQueueView) -> str:
    return reverse_keys("admin:tickets_ticket_saved_view", args=[view.pk])


def view_queryset(model_admin, request, view: SavedQueueView) -> QuerySet | None:
    """The queue's rows of ``view`` for ``request.user``, built by the queue's own change
    list (its filters, search and checks); ``None`` when the queue refuses the view now."""
    request_memo(request)  # before the copy, so that the copies share it
    probe = request.__class__.__new__(request.__class__)
    probe.__dict__.update(request.__dict__)
    probe.GET = QueryDict(view.query)
    probe.counting_only = True  # TicketAdmin.get_changelist: no results, no paging queries
    try:
        return model_admin.get_changelist_instance(probe).queryset
    except (DisallowedModelAdminLookup, IncorrectLookupParameters, FieldError, ValidationError, ValueError):
        return None


def create_view(*, owner, name: str, query: str) -> SavedQueueView:
    return SavedQueueView.objects.create(owner=owner, name=name.strip(), query=query)


def delete_view(*, owner, view_id: int) -> int:
    """Deletes the owner's view ``view_id``; 0 when it is not theirs (or gone)."""
    deleted, _ = views_of(owner).filter(pk=view_id).delete()
    return deleted
