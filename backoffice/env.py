"""Reading the environment for the settings, and the one error that refuses to start.

``MissingSetting`` is what ``manage.py`` (and so ``make serve``, cron jobs) turns into a
one-paragraph message instead of a traceback: a missing variable is an operator's mistake,
not a bug.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class MissingSetting(ImproperlyConfigured):
    """Production settings were selected (``DEBUG`` is not ``true``) without a required variable."""

    @classmethod
    def check(cls, required: dict[str, tuple[object, str]]) -> None:
        """``{"SECRET_KEY": (value, "what to set it to"), ...}``: raise naming every empty one."""
        missing = [f"  {name}: {hint}" for name, (value, hint) in required.items() if not value]
        if missing:
            raise cls(
                "Production settings (DEBUG is not true) need these environment variables, which are not set:\n"
                + "\n".join(missing)
                + "\nFor development, set DEBUG=true (make run and make test do)."
            )
