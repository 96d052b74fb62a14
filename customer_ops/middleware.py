from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from customer_ops.context import SYSTEM, _current, _viewer, actor_for_user, client_ip

__all__ = ["ActorMiddleware", "client_ip"]  # client_ip: imported from here by the access log


class ActorMiddleware:
    """Makes the request's staff member, IP and user agent the current audit actor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = SimpleLazyObject(
                lambda: actor_for_user(
                    user, ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
                )
            )
        else:
            actor = SYSTEM
        token = _current.set(actor)
        viewer = _viewer.set(user if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            _viewer.reset(viewer)
            _current.reset(token)
