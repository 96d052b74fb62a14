"""Production refuses what quietly undoes a safeguard (backoffice/checks.py), as an operator
meets it: ``manage.py check --deploy``, the ``migrate`` that ``make serve`` runs first, and
the web process's start (``backoffice.wsgi``). And web requests run under a statement
timeout that the jobs replace with their own (backoffice/db_timeouts.py)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from tests.production.env import database_url, production_env

ROOT = Path(__file__).resolve().parents[2]


def _two_roles(**extra) -> dict:
    return production_env(
        database_url=database_url(connection.settings_dict),
        DATABASE_OWNER_URL=database_url(connections["owner"].settings_dict),
        **extra,
    )


def _one_role(**extra) -> dict:
    return production_env(database_url=database_url(connection.settings_dict), **extra)


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "backoffice.settings"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _check_deploy(env: dict) -> subprocess.CompletedProcess:
    return _run(env, "manage.py", "check", "--deploy", "--fail-level", "ERROR")


@pytest.mark.django_db
def test_check_deploy_passes_with_two_roles_and_the_defaults():
    result = _check_deploy(_two_roles())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backoffice." not in result.stdout + result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("env", "error", "opt_out"),
    [
        (_one_role, "backoffice.database_roles.E", "ALLOW_SINGLE_DATABASE_ROLE"),
        (lambda **e: _two_roles(REQUIRE_2FA="false", **e), "backoffice.require_2fa.E", "ALLOW_NO_2FA"),
    ],
    ids=["one database role", "no second factor"],
)
def test_refused_unless_the_operator_opts_out(env, error, opt_out):
    refused = _check_deploy(env())
    assert refused.returncode != 0 and error in refused.stderr, refused.stdout + refused.stderr
    # make serve migrates before gunicorn starts: that step stops too, having migrated nothing.
    migrate = _run(env(), "manage.py", "migrate", "--check")
    assert migrate.returncode != 0 and error in migrate.stderr
    # The web process itself refuses to start (gunicorn imports backoffice.wsgi).
    start = _run(env(), "-c", "import backoffice.wsgi")
    assert start.returncode != 0 and "Refusing to start" in start.stderr and error in start.stderr
    # With the opt-out: a warning, at every start.
    accepted = _check_deploy(env(**{opt_out: "true"}))
    assert accepted.returncode == 0 and error.replace(".E", ".W") in accepted.stderr, accepted.stderr
    started = _run(env(**{opt_out: "true"}), "-c", "import backoffice.wsgi")
    assert started.returncode == 0, started.stderr
    assert error.replace(".E", ".W") in started.stderr


@pytest.mark.django_db
def test_a_trusted_https_header_needs_a_declared_proxy():
    refused = _check_deploy(_two_roles(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"))
    assert refused.returncode != 0 and "backoffice.proxy_header.E" in refused.stderr
    # Declared: trusted by default (no variable), and check --deploy is clean.
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    behind = _run(_two_roles(TRUSTED_PROXY_COUNT="1"), "-c", code)
    assert behind.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", behind.stderr
    alone = _run(_two_roles(), "-c", code)
    assert alone.stdout.strip() == "None", alone.stderr
    assert _check_deploy(_two_roles(TRUSTED_PROXY_COUNT="1")).returncode == 0


@pytest.mark.django_db
def test_the_web_process_connects_with_a_statement_timeout():
    code = (
        "import backoffice.wsgi; from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW statement_timeout'); print(c.fetchone()[0])"
    )
    assert _run(_two_roles(), "-c", code).stdout.strip() == "15s"
    assert _run(_two_roles(DATABASE_STATEMENT_TIMEOUT="2500"), "-c", code).stdout.strip() == "2500ms"


@pytest.mark.django_db
def test_a_job_sets_its_own_statement_timeout(settings):
    settings.JOB_STATEMENT_TIMEOUT = 1_234_000
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '15s'")  # as if the web's
        call_command("unblock_expired", stdout=io.StringIO())
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "1234s"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
