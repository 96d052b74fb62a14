"""The API's own records of its use.

* Every call is counted per client and minute by the token check itself (``api_usage``,
  :mod:`api.auth`): the read statistics, and the rate limit's window.
* Every write call (any method but GET/HEAD/OPTIONS) of an authenticated client is logged
  in ``api_calls``: the operation, the status and the ids of the rows it wrote, which the
  handler names with :func:`affected`. Never the body or the query string: they hold
  personal data (issue 22, item 6).
"""

from __future__ import annotations

import functools

from api.models import ApiCall

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_IDS = 5000  # a batch's ids; past that the log keeps the first ones and says how many


def affected(request, ids) -> None:
    """Name the rows a write call wrote (ids or readable ids such as ticket ids), for its log."""
    request.affected_ids = [*getattr(request, "affected_ids", []), *(str(i) for i in ids)]


def record(request, operation: str, status: int) -> None:
    system = getattr(request, "calling_system", None)
    if system is None or request.method in READ_METHODS:
        return
    ids = getattr(request, "affected_ids", [])
    if len(ids) > MAX_IDS:
        ids = [*ids[: MAX_IDS - 1], f"… {len(ids) - MAX_IDS + 1} more"]
    ApiCall.objects.create(
        client_id=system.client_id, operation=operation, method=request.method, status=status, affected_ids=ids
    )


def logged(run):
    """ninja "view" decorator (around authentication, validation and the handler): logs a
    write call once its response is known, and marks a replayed one."""

    @functools.wraps(run)
    def wrapper(request, *args, **kwargs):
        response = run(request, *args, **kwargs)
        if getattr(request, "idempotent_replay", False):
            response["Idempotent-Replayed"] = "true"
        operation = getattr(run, "__self__", None)
        name = getattr(getattr(operation, "view_func", None), "__name__", request.path)
        record(request, name, response.status_code)
        return response

    return wrapper
