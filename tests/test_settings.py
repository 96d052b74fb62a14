"""Production settings are the default and refuse to start incomplete; development needs DEBUG=true.

Each test loads ``backoffice.settings`` in a fresh interpreter with exactly the environment
it names (the test process's own settings are the test settings, loaded once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.production.env import NOT_INHERITED

ROOT = Path(__file__).resolve().parents[1]
PROD_KEY = "x7Kq2mZp9Lw4Rt8Vn3Bc6Yh1Jd5Fs0Gg-productionlike!aQ7#eU2%"  # 50+ characters, random-looking
POOLED = "postgres://app@pgbouncer:6432/backoffice"
# A URL that is never connected to: loading settings and `check` do not touch the database.
PROD_ENV = {
    "SECRET_KEY": PROD_KEY,
    "ALLOWED_HOSTS": "backoffice.example.com",
    "DATABASE_URL": "postgres://backoffice_app@127.0.0.1:5432/postgres",
    "DATABASE_OWNER_URL": "postgres://backoffice_owner@127.0.0.1:5432/postgres",  # production refuses one role
}


def _env(**env) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return {**base, "DJANGO_SETTINGS_MODULE": "backoffice.settings", **env}


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=120
    )


def load_settings(*names: str, **env) -> dict:
    """The named settings as ``backoffice.settings`` computes them from ``env`` alone."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_unset_debug_selects_production_settings():
    loaded = load_settings(
        "DEBUG", "PRODUCTION", "REQUIRE_2FA", "SESSION_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "MIDDLEWARE", **PROD_ENV
    )
    assert loaded["DEBUG"] is False and loaded["PRODUCTION"] is True
    assert loaded["REQUIRE_2FA"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True and loaded["SECURE_SSL_REDIRECT"] is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in loaded["MIDDLEWARE"]


@pytest.mark.parametrize("debug", ["", "false", "0", "no"])
def test_anything_but_a_true_debug_is_production(debug):
    assert load_settings("DEBUG", "PRODUCTION", DEBUG=debug, **PROD_ENV) == {"DEBUG": False, "PRODUCTION": True}


def test_development_needs_debug_true_and_then_needs_nothing_else():
    loaded = load_settings("DEBUG", "PRODUCTION", "REQUIRE_2FA", "ALLOWED_HOSTS", DEBUG="true")
    assert loaded["DEBUG"] is True and loaded["PRODUCTION"] is False
    assert loaded["REQUIRE_2FA"] is False
    assert "127.0.0.1" in loaded["ALLOWED_HOSTS"]


# A missing DATABASE_OWNER_URL is a system check's error: tests/production/test_checks.py.
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    # One clear message naming what is missing, not a traceback.
    assert result.stderr.startswith("Refusing to start: Production settings"), result.stderr
    assert f"  {missing}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert [name for name in REQUIRED if f"  {name}: " in result.stderr] == [missing]


def test_without_debug_a_missing_database_url_never_starts_the_embedded_postgresql():
    env = {k: v for k, v in PROD_ENV.items() if k != "DATABASE_URL"}
    code = (
        "import sys\n"
        "from backoffice.env import MissingSetting\n"
        "try:\n    import backoffice.settings\nexcept MissingSetting:\n    print('refused')\n"
        "print('embedded' if 'backoffice.embedded_db' in sys.modules else 'no embedded')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(**env), capture_output=True, text=True)
    assert result.stdout.split() == ["refused", "no", "embedded"], result.stdout + result.stderr


def test_deploy_check_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_proxy_ssl_header_is_trusted_only_behind_a_declared_proxy():
    # Fail closed: no proxy declared, no header trusted (a client could claim HTTPS).
    assert load_settings("SECURE_PROXY_SSL_HEADER", **PROD_ENV) == {"SECURE_PROXY_SSL_HEADER": None}
    proxy = {**PROD_ENV, "TRUSTED_PROXY_COUNT": "1"}
    assert load_settings("SECURE_PROXY_SSL_HEADER", **proxy) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]
    }
    custom = load_settings("SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme", **proxy)
    assert custom == {"SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_SCHEME", "https"]}
    assert load_settings("SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="", **proxy) == {
        "SECURE_PROXY_SSL_HEADER": None
    }


def test_behind_pgbouncer_no_server_side_cursors_and_no_startup_options():
    direct = "postgres://app@db:5432/backoffice"
    pooled = load_settings(
        "DATABASES", DATABASE_POOLER="pgbouncer", DATABASE_DIRECT_URL=direct, **PROD_ENV | {"DATABASE_URL": POOLED}
    )["DATABASES"]
    for alias in ("default", "owner"):
        assert pooled[alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert "options" not in pooled[alias]["OPTIONS"]  # PgBouncer refuses startup options
    # The jobs' lock connection bypasses the pooler: a plain connection.
    assert pooled["direct"]["PORT"] == 5432 and pooled["direct"]["OPTIONS"] == {"options": "-c jit=off"}
    assert not pooled["direct"].get("DISABLE_SERVER_SIDE_CURSORS")
    plain = load_settings("DATABASES", **PROD_ENV)["DATABASES"]
    assert plain["default"]["OPTIONS"] == {"options": "-c jit=off"} and "direct" not in plain
    assert not plain["default"].get("DISABLE_SERVER_SIDE_CURSORS")


def test_an_unknown_pooler_is_refused():
    result = _manage("check", DATABASE_POOLER="odyssey", **PROD_ENV)
    assert result.returncode != 0 and "DATABASE_POOLER='odyssey'" in result.stderr
