"""Junk in a request is the client's error (400/404), never a server error (500).

One middleware, for every admin page and every custom view:

* a NUL byte anywhere in the path, the query string or a form value is refused with 400
  before any view runs (PostgreSQL refuses NUL in text, so it would surface as a 500 from
  whichever query first used the value);
* so is a ``__regex``/``__iregex`` lookup value that PostgreSQL cannot compile
  (``?status__regex=(``): Django passes it through, PostgreSQL alone knows its syntax and
  would refuse it when the list is counted. It is asked, in a savepoint (the request's
  transaction stays usable), only when such a parameter is present;
* an object id in the URL (``<path:object_id>``, ``<pk>``, ``<customer_id>``, ...) that
  cannot be an id of the view's model (``abc``, a number past the column's range) is a 404
  before the view looks it up (``Model.objects.get(pk="abc")`` raises ``ValueError``);
* what Django and PostgreSQL raise on a value that got through anyway is a 400
  (:data:`BAD_INPUT_ERRORS`: ``IncorrectLookupParameters`` from a change-list filter built
  outside the change list view, e.g. by the filtered export; ``ValueError`` on "abc" for an
  id in a form Django re-renders; ``DataError``; ...).

The change list itself answers the bad filter values Django detects with the stock "?e=1" page.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from django.contrib.admin.options import BaseModelAdmin, IncorrectLookupParameters
from django.core.exceptions import BadRequest, FieldError, ValidationError
from django.db import DEFAULT_DB_ALIAS, DataError, connections, models, transaction
from django.http import Http404
from django.utils.datastructures import MultiValueDictKeyError

logger = logging.getLogger("django.request")

NUL = "\x00"
BAD_INPUT_ERRORS = (
    IncorrectLookupParameters,
    ValidationError,
    FieldError,
    MultiValueDictKeyError,
    DataError,
    OverflowError,
    ValueError,
)
# URL parameters that name a row; ``object_id``/``pk``/``id`` are the view's model's, the
# others (``customer_id``) are ids of another table: all tables here have bigint ids.
OWN_ID_KWARGS = ("object_id", "pk", "id")


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _holds_nul(request):
            raise BadRequest("A NUL byte is not allowed in a request.")
        if bad := _bad_regex(request):
            raise BadRequest(f"Not a regular expression: {bad[:80]!r}.")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        model = _model_of(view_func)
        for name, value in view_kwargs.items():
            if name in OWN_ID_KWARGS and model is not None:
                field = model._meta.pk
            elif name.endswith("_id") or name in OWN_ID_KWARGS:
                field = models.BigIntegerField()
            else:
                continue
            if not is_valid_value(field, value):
                raise Http404(f"No {name} {str(value)[:40]!r}.")
        return None

    def process_exception(self, request, exception):
        # What Django and PostgreSQL raise on a value they could not take (a lookup or a field
        # name that does not exist, a number past a column's range, "abc" for an id, a missing
        # parameter). Logged with the traceback: a 400 here can still point at a bug.
        if isinstance(exception, BAD_INPUT_ERRORS):
            logger.warning("Bad input on %s: %s", request.path, exception, exc_info=exception)
            raise BadRequest(str(exception)[:200]) from exception
        return None


def _holds_nul(request) -> bool:
    if NUL in request.path or NUL in unquote_plus(request.META.get("QUERY_STRING", "")):
        return True
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        # (Uploaded files may hold any bytes; only form fields are checked.)
        return any(NUL in key or any(NUL in v for v in values) for key, values in request.POST.lists())
    return False


def _bad_regex(request) -> str | None:
    patterns = [v for key, values in request.GET.lists() if key.endswith("regex") for v in values]
    if not patterns:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    for pattern in patterns:
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute("SELECT '' ~ %s", [pattern])
        except DataError:
            return pattern
    return None


def _model_of(view_func):
    """The model of an admin view: Django's own views carry ``model_admin``; custom ones
    (``admin_site.admin_view(self.some_view)``) wrap a bound method of the ModelAdmin."""
    while view_func is not None:
        model_admin = getattr(view_func, "model_admin", None) or getattr(view_func, "__self__", None)
        if isinstance(model_admin, BaseModelAdmin):
            return model_admin.model
        view_func = getattr(view_func, "__wrapped__", None)
    return None


def is_valid_value(field, value: str) -> bool:
    """Whether ``value`` (from a URL) can be a value of ``field``: it converts, and a
    number fits the column (PostgreSQL would refuse a bigger one with a DataError)."""
    try:
        converted = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    if isinstance(field, models.IntegerField | models.AutoField):
        low, high = connections["default"].ops.integer_field_range(field.get_internal_type())
        if (low is not None and converted < low) or (high is not None and converted > high):
            return False
    return True
