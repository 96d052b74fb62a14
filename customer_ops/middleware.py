from __future__ import annotations

from django.utils.functional import LazyObject, SimpleLazyObject, empty

from customer_ops.context import SYSTEM, _current, _viewer, actor_for_user, client_ip

__all__ = ["ActorMiddleware", "client_ip"]  # client_ip: imported from here by the access log


def _unwrapped(user):
    """The user object behind ``request.user``'s lazy wrappers (Django's and django-otp's,
    already evaluated by ``is_authenticated``): masking asks the viewer once a list row, and
    each attribute read through the two wrappers cost a few microseconds."""
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


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
        viewer = _viewer.set(_unwrapped(user) if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            _viewer.reset(viewer)
            _current.reset(token)
