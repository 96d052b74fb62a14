"""Junk in a request is the client's error (400/404), never a server error (500).

One middleware, for every admin page and every custom view:

* a NUL byte anywhere in the path, the query string or a form value is refused with 400
  before any view runs (PostgreSQL refuses NUL in text, so it would surface as a 500 from
  whichever query first used the value);
* so is a ``__regex``/``__iregex`` lookup value that PostgreSQL cannot compile
  (``?status__regex=(``): Django passes it through, PostgreSQL alone knows its syntax and
  would refuse it when the list is counted (:func:`regex_problem`). Only a staff
  member's request can reach a list that uses the value, so only theirs is checked, after
  authentication: anyone else's costs no database work at all (an anonymous request with
  forty patterns that each take PostgreSQL 150-200 ms to compile held the database for
  seconds, issue 20). A staff request holds at most :data:`MAX_REGEX_PARAMETERS` patterns
  of at most :data:`MAX_REGEX_LENGTH` characters, each compiled under a local statement
  timeout of :data:`REGEX_CHECK_TIMEOUT_MS` in a savepoint that is always rolled back (the
  request's transaction stays usable and keeps its own timeout). The 400 says which pattern
  and why;
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
from django.db import DEFAULT_DB_ALIAS, DataError, OperationalError, connections, models, transaction
from django.http import Http404, HttpResponseBadRequest
from django.utils.datastructures import MultiValueDictKeyError

logger = logging.getLogger("django.request")

NUL = "\x00"
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement ended by statement_timeout
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

# Regular-expression lookups in a staff request. Nobody filters a list by more than a few
# hand-written patterns; the admin's own links never carry one.
MAX_REGEX_PARAMETERS = 5
MAX_REGEX_LENGTH = 200
# A pattern a person writes compiles in microseconds; PostgreSQL checks for the timeout while
# compiling, so a costly one is stopped here (at most MAX_REGEX_PARAMETERS times this per request).
REGEX_CHECK_TIMEOUT_MS = 100


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _holds_nul(request):
            raise BadRequest("A NUL byte is not allowed in a request.")
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
        # Here, not in __call__: process_view runs after AuthenticationMiddleware.
        if problem := regex_problem(request):
            # Answered here, not raised: Django's 400 page would not say what was wrong.
            logger.warning("Bad input on %s: %s", request.path, problem)
            return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
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


def regex_parameters(request) -> list[str]:
    return [v for key, values in request.GET.lists() if key.endswith("regex") for v in values]


def may_filter_lists(request) -> bool:
    """Whether the request is a signed-in staff member's, the only one an admin list (the
    only user of a ``__regex`` parameter) answers. Without a session cookie this reads
    nothing: ``request.user`` is then the anonymous user, made without a query."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def regex_problem(request) -> str | None:
    """What is wrong with the ``…regex`` parameters of a staff request (too many, too long, a
    pattern PostgreSQL refuses or cannot compile quickly), or ``None``; always ``None``, and
    no query, for any other request."""
    patterns = regex_parameters(request)
    if not patterns or not may_filter_lists(request):
        return None
    if len(patterns) > MAX_REGEX_PARAMETERS:
        return (
            f"At most {MAX_REGEX_PARAMETERS} regular-expression filters (…__regex) are allowed in one request; "
            f"this one has {len(patterns)}."
        )
    if too_long := next((p for p in patterns if len(p) > MAX_REGEX_LENGTH), None):
        return (
            f"A regular-expression filter is at most {MAX_REGEX_LENGTH} characters long; "
            f"{too_long[:40]!r}... has {len(too_long)}."
        )
    connection = connections[DEFAULT_DB_ALIAS]
    pattern = None
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # SET LOCAL: it ends with the savepoint, which is always rolled back (released, a
            # savepoint would hand the timeout on to the rest of the request's transaction).
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{REGEX_CHECK_TIMEOUT_MS}ms"])
            for pattern in patterns:
                cursor.execute("SELECT '' ~ %s", [pattern])
            transaction.set_rollback(True, using=connection.alias)
    except DataError:
        return f"Not a regular expression: {pattern[:80]!r}."
    except OperationalError as e:
        if getattr(e.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        return (
            f"The regular expression {pattern[:80]!r} is too costly to compile "
            f"(over {REGEX_CHECK_TIMEOUT_MS} ms); simplify it."
        )
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
