"""Shared fixtures. The rules the tests follow (presence with absence, refusals re-read what they
could have written, plan tests name the index) and their helpers: tests/README.md, tests/assertions.py."""

import contextlib

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections
from django.test import TransactionTestCase

from customer_ops.roles import Role
from tests.factories import UserFactory


def _connect_default_as(credentials: dict) -> dict:
    """Reconnect the ``default`` alias with other credentials; returns the previous ones."""
    connection = connections["default"]
    previous = {key: connection.settings_dict.get(key) for key in credentials}
    connection.close()
    connection.settings_dict.update(credentials)  # the same dict every thread's connection reads
    return previous


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The owner role created and migrated the test database (tests/settings.py); the tests
    then connect as the runtime role, as the web process and the jobs do."""
    with django_db_blocker.unblock():
        _no_autovacuum()
        owner = _connect_default_as(settings.TEST_RUNTIME_CREDENTIALS)
    yield
    with django_db_blocker.unblock():
        _connect_default_as(owner)  # the owner drops the test database


def _no_autovacuum() -> None:
    """Test harness only: the plan tests (tests/assertions.py ``explain``) read plans over a few
    rows, priced from the planner's defaults for never-analysed tables. Autovacuum, visiting
    after transactional tests commit and truncate, would leave statistics of "zero or one row"
    at moments nobody chose, and a plan priced for one row joins anything any way (the CI run
    of 2026-12-05 failed so). The test database's statistics come from the tests alone: their
    own ANALYZE, or none. Runs as the owner, before the switch to the runtime role."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            """
            DO $$ DECLARE t regclass; BEGIN
                FOR t IN SELECT oid FROM pg_class WHERE relkind IN ('r', 'm')
                    AND relnamespace = current_schema()::regnamespace AND relowner = current_user::regrole
                LOOP
                    EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', t);
                END LOOP;
            END $$
            """
        )


@contextlib.contextmanager
def _as_owner_through_the_truncate_triggers():
    """Test harness only: a transactional test's teardown empties every table with TRUNCATE,
    which the runtime role may not run and the logs' and history tables' triggers refuse.
    The flush runs as the owner with those statement triggers disabled for it (DDL only the
    owner may run); no session setting opens them, and no code outside the test suite
    does this."""
    owner = connections["owner"].settings_dict
    runtime = _connect_default_as({"USER": owner["USER"], "PASSWORD": owner.get("PASSWORD")})
    triggers = []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                """
                SELECT tgrelid::regclass::text, tgname FROM pg_trigger
                WHERE NOT tgisinternal AND tgenabled <> 'D' AND (tgtype & 32) = 32  -- TRUNCATE
                """
            )
            triggers = cursor.fetchall()
            for table, name in triggers:
                cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')
        yield
    finally:
        with connections["default"].cursor() as cursor:
            for table, name in triggers:
                cursor.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"')
        _connect_default_as(runtime)


_fixture_teardown = TransactionTestCase._fixture_teardown


def _flush_as_owner(self):
    with _as_owner_through_the_truncate_triggers():
        _fixture_teardown(self)


TransactionTestCase._fixture_teardown = _flush_as_owner


@pytest.fixture
def make_staff(db):
    """``make_staff(Role.AGENT)`` -> a staff user in that role's group."""

    def make(role: Role | None = None, **kwargs):
        user = UserFactory(**kwargs)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))
        return user

    return make


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


def pytest_collection_modifyitems(items):
    """A committed (``transaction=True``) test must also say ``serialized_rollback=True``:
    its flush empties the groups, permissions and content types the migrations made, and
    without the serialized copy the next such test loads them twice (IntegrityError) or
    the roles' tests run with no roles."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(f"{item.nodeid}: django_db(transaction=True) without serialized_rollback=True")
