"""The environment of a production process started by a test (``make serve``, a cron job, settings)."""

from __future__ import annotations

import os
import secrets
from urllib.parse import quote

# Variables of the test process that must not leak into a production child: the test
# settings module, DEBUG=true from `make test`, and anything the tests' own settings read.
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "DATABASE_REPLICA_URL",
    "DATABASE_POOLER",
    "DATABASE_DIRECT_URL",
    "REQUIRE_2FA",
    "STATIC_ROOT",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "TRUSTED_PROXY_COUNT",
    "ALLOW_SINGLE_DATABASE_ROLE",
    "ALLOW_NO_2FA",
    "DATABASE_STATEMENT_TIMEOUT",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
}


def database_url(settings_dict: dict, name: str | None = None) -> str:
    """A ``DATABASE_URL`` for the server of a Django connection (TCP or, for the embedded
    PostgreSQL, its socket directory), naming database ``name`` (default: the same)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = settings_dict.get("PORT") or ""
    netloc = f"{credentials}@{host}" + (f":{port}" if port else "")
    return f"postgres://{netloc}/{quote(name or settings_dict['NAME'], safe='')}"


def production_env(*, database_url: str, **extra: str) -> dict[str, str]:
    """Production settings as an operator would give them: DEBUG unset (the default), a
    random SECRET_KEY, the host the test talks to."""
    base = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return {
        **base,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        **extra,
    }
