"""Test settings: the project's settings with what the tests need set.

The environment still decides the database: ``DATABASE_URL`` if set, else the embedded
PostgreSQL. Never SQLite.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")

from backoffice.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# A second alias standing in for a read replica: a mirror of the test database, so the
# router can be tested with two real connections (backoffice/db_router.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
# Off by default in tests: a TestCase's uncommitted rows are invisible to a second
# connection. The router's own tests switch it on with committed (transactional) data.
READ_REPLICA_ENABLED = False
