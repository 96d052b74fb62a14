"""Test settings: the project's settings with what the tests need set.

The environment still decides the database: ``DATABASE_URL`` if set, else the embedded
PostgreSQL. Never SQLite.

Roles (customer_ops/db_roles.py): the owner role creates and migrates the test database,
then the tests connect as the runtime role (tests/conftest.py switches ``default`` after
setup), the way the web process and the jobs do. With a single-role ``DATABASE_URL`` the
suite makes two test roles on that server when the server allows it (a superuser or a
CREATEROLE role); otherwise it runs as that one role and the runtime-role tests skip.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")

from backoffice.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

TEST_OWNER_ROLE = "backoffice_test_owner"
TEST_RUNTIME_ROLE = "backoffice_test_runtime"
TEST_ROLE_PASSWORD = "backoffice-test-only"  # noqa: S105  (roles that own nothing but test databases)


def _test_roles(entry: dict) -> tuple[dict, dict] | None:
    """Make the two test roles with ``entry``'s (single, administrator) role, if it may."""
    import psycopg

    from customer_ops.db_roles import _create_role

    params = {k: entry[v] for k, v in {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}.items()}
    params = {k: v for k, v in params.items() if v}
    # Roles belong to the server, not to a database: the URL's database need not exist yet
    # (pytest-django creates test_<name> beside it), so fall back to the maintenance database.
    for dbname in (entry["NAME"], "postgres"):
        try:
            with psycopg.connect(dbname=dbname, autocommit=True, **params) as conn:
                cursor = conn.cursor()
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if not cursor.fetchone()[0]:
                    return None  # the runtime-role tests skip
                _create_role(cursor, TEST_OWNER_ROLE, TEST_ROLE_PASSWORD, createdb=True)
                _create_role(cursor, TEST_RUNTIME_ROLE, TEST_ROLE_PASSWORD, createdb=False)
                break
        except psycopg.Error:
            continue
    else:
        return None
    credentials = {"PASSWORD": TEST_ROLE_PASSWORD}
    return {**credentials, "USER": TEST_OWNER_ROLE}, {**credentials, "USER": TEST_RUNTIME_ROLE}


_runtime = {"USER": DATABASES["default"].get("USER"), "PASSWORD": DATABASES["default"].get("PASSWORD")}  # noqa: F405
_owner = {"USER": DATABASES["owner"].get("USER"), "PASSWORD": DATABASES["owner"].get("PASSWORD")}  # noqa: F405
if DATABASE_RUNTIME_ROLE is None:  # noqa: F405  (one role in DATABASE_URL)
    _roles = _test_roles(DATABASES["default"])  # noqa: F405
    if _roles:
        _owner, _runtime = _roles
        DATABASES["owner"].update(_owner)  # noqa: F405
DATABASE_RUNTIME_ROLE = _runtime["USER"] if _runtime["USER"] != _owner["USER"] else None
# The owner creates and migrates the test database; then tests/conftest.py connects
# "default" as TEST_RUNTIME_CREDENTIALS.
DATABASES["default"].update(_owner)  # noqa: F405
TEST_RUNTIME_CREDENTIALS = _runtime

# A second alias standing in for a read replica: a mirror of the test database, so the
# router can be tested with two real connections (backoffice/db_router.py).
DATABASES["replica"] = {**DATABASES["default"], **_runtime, "TEST": {"MIRROR": "default"}}  # noqa: F405
# Off by default in tests: a TestCase's uncommitted rows are invisible to a second
# connection. The router's own tests switch it on with committed (transactional) data.
READ_REPLICA_ENABLED = False
