"""``reverse()`` for integer keys at the cost of a string join.

Django's ``reverse()`` matches the view name's patterns on every call (about 50 µs); the
ticket page called it 36 times, once per ``{% url %}`` tag, most of them the same few views
with another key. :func:`reverse_keys` reverses each view name once per process (per
number of keys, script prefix, URL conf and current app) with stand-ins for the keys, and
puts the keys in their places afterwards. Anything else (keyword arguments, strings,
negative numbers, a view whose converters would change a stand-in) goes to ``reverse()``.
The template tag ``{% url %}`` uses it (:mod:`customer_ops.templatetags.keyed_url`).
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# Stand-ins for up to five integer keys: digits only (any int or path converter takes
# them), all of one length and distinct, so none is part of another.
_STAND_INS = ("7310486259", "6310486259", "5310486259", "4310486259", "3310486259")


@lru_cache(maxsize=2048)
def _pieces(viewname: str, keys: int, current_app, prefix: str, urlconf) -> tuple[str, ...] | None:
    """The URL split around its stand-ins, or ``None`` when they do not come out verbatim
    (or the view takes no such arguments)."""
    stand_ins = _STAND_INS[:keys]
    try:
        url = reverse(viewname, urlconf=urlconf, args=stand_ins, current_app=current_app)
    except NoReverseMatch:
        return None
    pieces = []
    for stand_in in stand_ins:
        if url.count(stand_in) != 1:
            return None
        head, url = url.split(stand_in)
        pieces.append(head)
    return (*pieces, url)


def reverse_keys(viewname, args=(), kwargs=None, current_app=None) -> str:
    """``reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)``."""
    plain = (
        not kwargs
        and isinstance(viewname, str)
        and len(args) <= len(_STAND_INS)
        and all(type(arg) is int and arg >= 0 for arg in args)
    )
    if plain:
        pieces = _pieces(viewname, len(args), current_app, get_script_prefix(), get_urlconf())
        if pieces is not None:
            out = [pieces[0]]
            for arg, piece in zip(args, pieces[1:], strict=True):
                out += (str(arg), piece)
            return "".join(out)
    return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
