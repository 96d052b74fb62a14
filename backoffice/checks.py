"""Production refuses configurations that quietly undo a safeguard, unless the operator says so.

Each is a system check: ``manage.py check --deploy`` reports it, and because it is also a
plain (untagged) check with production settings, ``make serve`` stops at its ``migrate``
step, before gunicorn starts. An explicit opt-out variable turns the error into a warning
that every start repeats (``backoffice/wsgi.py`` logs it too), so the choice stays visible.

* One database role: the web process's role owns the tables, so its raw SQL (one SQL
  injection) could disable or drop the write-rule triggers. Opt-out:
  ``ALLOW_SINGLE_DATABASE_ROLE=true``.
* ``REQUIRE_2FA=false``: staff sign in with a password alone. Opt-out: ``ALLOW_NO_2FA=true``.
* A trusted HTTPS header with no proxy declared: ``SECURE_PROXY_SSL_HEADER`` set while
  ``TRUSTED_PROXY_COUNT`` is 0 means any client can claim HTTPS. No opt-out: declare the
  proxy (the header is only trusted by default when ``TRUSTED_PROXY_COUNT`` >= 1).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from backoffice.env import env_bool

logger = logging.getLogger("backoffice")


def _refusal(id: str, message: str, hint: str, opt_out: str) -> checks.CheckMessage:
    if env_bool(opt_out):
        return checks.Warning(f"{message} ({opt_out}=true: accepted by the operator).", id=f"{id}.W")
    return checks.Error(message, hint=f"{hint} Or set {opt_out}=true to run like this anyway.", id=f"{id}.E")


def production_problems() -> list[checks.CheckMessage]:
    """What production refuses (errors) or accepts under an opt-out (warnings)."""
    if not settings.PRODUCTION:  # not DEBUG: pytest turns DEBUG off in tests, which stay development
        return []
    found = []
    if settings.DATABASE_RUNTIME_ROLE is None:
        found.append(
            _refusal(
                "backoffice.database_roles",
                "One database role does everything: the web process's role owns the tables, so its SQL could "
                "disable the write-rule triggers",
                "Set DATABASE_OWNER_URL to a second role that owns the tables and runs the migrations "
                "(README, 'Database roles': manage.py create_db_roles).",
                "ALLOW_SINGLE_DATABASE_ROLE",
            )
        )
    if not settings.REQUIRE_2FA:
        found.append(
            _refusal(
                "backoffice.require_2fa",
                "REQUIRE_2FA is off: staff sign in with a password alone",
                "Unset REQUIRE_2FA (production's default is on).",
                "ALLOW_NO_2FA",
            )
        )
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and settings.TRUSTED_PROXY_COUNT < 1:
        found.append(
            checks.Error(
                "SECURE_PROXY_SSL_HEADER is trusted but TRUSTED_PROXY_COUNT=0 says no proxy is in front: any client "
                "could claim HTTPS with that header",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front (the header is then trusted by "
                "default), or set SECURE_PROXY_SSL_HEADER= (empty).",
                id="backoffice.proxy_header.E",
            )
        )
    return found


def check_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return production_problems()


def register() -> None:
    # Untagged: migrate, collectstatic and check run it (so make serve stops), --deploy too.
    checks.register(check_production)


def warn_at_start() -> None:
    """Every start of the web process repeats what the operator accepted; refuses what they did not."""
    problems = production_problems()
    errors = [p for p in problems if p.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start:\n" + "\n".join(f"  {p.id}: {p.msg}. {p.hint or ''}" for p in errors)
        )
    for problem in problems:
        logger.warning("%s: %s", problem.id, problem.msg)
