"""``…__regex`` parameters cost the database nothing unless a staff member sends them, and a
bounded amount when one does (issue 20, part 3; customer_ops/bad_input.py).

The attack: an anonymous ``GET /admin/login/?a0__regex=(?:.{1,255}){1,255}0&a1__regex=…``
with forty patterns, each 150-200 ms of PostgreSQL's time to compile, ran 120 queries.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customer_ops import bad_input
from customer_ops.roles import Role
from tests.factories import FraudAlertFactory, UserFactory

pytestmark = pytest.mark.django_db

# (?:.{1,255}){1,255} takes PostgreSQL 150-400 ms to compile; with a second alternative,
# about a second. Each pattern is made unique: a backend caches the patterns it compiled.
_unique = itertools.count()


def costly(n: int = 40) -> dict[str, str]:
    """The issue's query string: ``n`` costly patterns under names no list has."""
    run = uuid.uuid4().hex[:8]
    return {f"a{i}__regex": f"(?:.{{1,255}}){{1,255}}{run}{i}" for i in range(n)}


def very_costly() -> str:
    return f"(?:.{{1,255}}){{1,255}}|(?:.{{1,254}}){{1,255}}|{uuid.uuid4().hex[:8]}{next(_unique)}"


def anonymous_paths() -> list[tuple[str, int]]:
    """The sign-in page, the admin index, every change list (from the registry) and the
    liveness probe, with what each answers an anonymous request."""
    lists = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]
    return [("/admin/login/", 200), ("/admin/", 302), ("/healthz", 200), *((url, 302) for url in lists)]


@pytest.mark.parametrize("count", [40, bad_input.MAX_REGEX_PARAMETERS])
def test_an_anonymous_request_with_costly_patterns_runs_no_query(client, django_assert_num_queries, count):
    # MAX_REGEX_PARAMETERS patterns pass the count cap: only the sign-in gate spares the database.
    paths = anonymous_paths()
    assert len(paths) > 20
    for path, status in paths:
        params = costly(count)
        with django_assert_num_queries(0):
            response = client.get(path, params)
        assert response.status_code == status, path
    assert "Log in" in client.get("/admin/login/", costly(count)).content.decode()


def test_a_signed_in_non_staff_user_s_patterns_cost_no_query(client, django_assert_num_queries):
    # Signed in (its session and user are read), but no admin list answers it: the patterns
    # add no query to what the same request costs without them.
    client.force_login(UserFactory(is_staff=False))
    client.get("/admin/fraud/fraudalert/")  # the session's first renewal out of the way
    with CaptureQueriesContext(connection) as plain:
        assert client.get("/admin/fraud/fraudalert/").status_code == 302
    with django_assert_num_queries(len(plain)):
        assert client.get("/admin/fraud/fraudalert/", costly(bad_input.MAX_REGEX_PARAMETERS)).status_code == 302


def test_a_bad_pattern_from_staff_is_a_400_not_a_500(client, make_staff):
    client.force_login(make_staff(Role.FRAUD))
    response = client.get("/admin/fraud/fraudalert/", {"alert_type__regex": "("})
    assert response.status_code == 400
    assert response.content.decode() == "Not a regular expression: '('."


def test_a_staff_pattern_filters_the_list_and_leaves_the_request_s_timeout_alone(client, make_staff):
    payment, _other = FraudAlertFactory(alert_type="PAYMENT_FRAUD"), FraudAlertFactory(alert_type="DEVICE_MISMATCH")
    client.force_login(make_staff(Role.FRAUD))
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/fraud/fraudalert/", {"alert_type__regex": "^PAY", "status": "all"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [payment]
    sql = [q["sql"] for q in queries]
    timeout = next(i for i, s in enumerate(sql) if "set_config('statement_timeout'" in s)
    check = next(i for i, s in enumerate(sql) if s.startswith("SELECT '' ~ "))
    assert f"'{bad_input.REGEX_CHECK_TIMEOUT_MS}ms'" in sql[timeout] and timeout < check
    # The check's savepoint is rolled back: the rest of the request (and of the test's
    # transaction, which the request ran in) keeps its own timeout.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before != f"{bad_input.REGEX_CHECK_TIMEOUT_MS}ms"


def test_a_costly_staff_pattern_is_stopped_by_the_statement_timeout(client, make_staff, django_assert_max_num_queries):
    # Compiled whole, the pattern takes about a second and then fails as "too complex" (a
    # DataError: "Not a regular expression"); the timeout stops it first.
    client.force_login(make_staff(Role.FRAUD))
    client.get("/admin/")  # the session and the user read once, so the count below is the check's
    with django_assert_max_num_queries(8):
        response = client.get("/admin/fraud/fraudalert/", {"alert_type__regex": very_costly()})
    assert response.status_code == 400
    assert f"too costly to compile (over {bad_input.REGEX_CHECK_TIMEOUT_MS} ms)" in response.content.decode()
    # The request's transaction is still usable.
    assert client.get("/admin/fraud/fraudalert/", {"alert_type__regex": "^PAY"}).status_code == 200


def test_staff_patterns_are_capped_in_number_and_length_before_any_is_compiled(client, make_staff):
    client.force_login(make_staff(Role.FRAUD))
    for params, message in [
        (costly(bad_input.MAX_REGEX_PARAMETERS + 1), f"At most {bad_input.MAX_REGEX_PARAMETERS} regular-expression"),
        (costly(40), "this one has 40"),
        ({"alert_type__regex": "x" * (bad_input.MAX_REGEX_LENGTH + 1)}, f"{bad_input.MAX_REGEX_LENGTH + 1}."),
    ]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/fraud/fraudalert/", params)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not [q for q in queries if "~" in q["sql"] or "statement_timeout" in q["sql"]]
