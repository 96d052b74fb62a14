"""The ``/api/`` path: cheap, cookie-free, capped, and problem+json to the end.

:class:`ApiMiddleware` stands right after ``SecurityMiddleware`` (HTTPS, HSTS still apply).
For a request under :data:`PREFIX` it:

* drops the ``Cookie`` header: the API authenticates by bearer token alone, so a browser's
  session never reaches it (no CSRF question, no session, OTP, axes or actor lookup: the
  later middleware find no cookie and do no database work);
* refuses a body over ``API_MAX_BODY_BYTES`` (by its ``Content-Length``, before it is read)
  with 413;
* turns what Django and ninja answer in plain text or HTML outside the API's handlers (a
  method the path does not take: 405; ninja's root page: 404) into problem+json.

Unknown paths under ``/api/`` reach :func:`not_found` (the last URL pattern of the prefix).
"""

from __future__ import annotations

from django.conf import settings
from django.views.decorators.csrf import csrf_exempt

from api.errors import CONTENT_TYPE, problem

PREFIX = "/api/"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024  # 5,000 log rows are ~1.5 MB; below Django's own 2.5 MB cap


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        request.META.pop("HTTP_COOKIE", None)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem(400, "Content-Length is not a number.")
        if length > max_body_bytes():
            return problem(
                413,
                f"The body has {length:,} bytes; at most {max_body_bytes():,} are accepted. Send a smaller batch.",
                kind="body-too-large",
            )
        response = self.get_response(request)
        if response.status_code in (404, 405) and not response.get("Content-Type", "").startswith(CONTENT_TYPE):
            return _as_problem(request, response)
        return response


def _as_problem(request, response):
    """ninja's plain 405 and its root's 404 page, as problem details."""
    if response.status_code == 404:
        return not_found(request)
    allowed = response.get("Allow", "")
    return problem(
        405,
        f"{request.method} is not allowed here; allowed: {allowed or 'none'}.",
        headers={"Allow": allowed} if allowed else None,
    )


@csrf_exempt
def not_found(request, *args, **kwargs):
    return problem(404, f"No API endpoint at {request.path[:200]}.", kind="not-found")
