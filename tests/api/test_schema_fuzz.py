"""schemathesis against the served schema (issue 22): every operation, with a valid token
holding every scope, a fixed seed and a bounded number of examples, in positive and negative
modes. No 500, and no response outside the schema (status, content type, body, headers).

The requests run in-process through the WSGI application, inside the test's transaction,
so the fuzzer's writes are rolled back; some operations get a real customer and ticket to
find (``_known``) so the fuzzer reaches past the 404s. ``FUZZ_EXAMPLES`` raises the bound
for a longer run (``bench/`` style): ``FUZZ_EXAMPLES=500 make test``-free, e.g.
``FUZZ_EXAMPLES=500 pytest tests/api/test_schema_fuzz.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from customer_ops.scopes import API_SCOPES
from tests.factories import CustomerFactory, TicketFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]
TRIED: dict[str, int] = {}


# Loaded when the module is imported (pytest-django has set Django up by then): the schema
# as served, through the WSGI application that the examples then call.
# A body over the size cap is refused with 413 before it is read: a rejection too.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]}}}
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db):
    # The WSGI handler closes "old" connections when a request starts and ends; inside the
    # test's transaction that would close the test's own connection.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(make_token):
    return make_token(tuple(API_SCOPES), rate_limit_per_minute=1_000_000)[1]


@pytest.fixture
def known(db):
    """A customer and a ticket of theirs: the examples name them some of the time."""
    customer = CustomerFactory()
    return customer, TicketFactory(customer=customer)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same examples every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_within_its_schema(case, token, known):
    customer, ticket = known
    if not case.meta.generation.mode.is_negative and hash(str(case.body)) % 2:
        # Half the valid examples name a customer and ticket that exist (a fixed choice per example).
        if case.path_parameters and "ticket" in case.path_parameters:
            case.path_parameters["ticket"] = ticket.ticket_id
        for part in (case.body, case.query):
            if isinstance(part, dict) and "customer_id" in part:
                part["customer_id"] = customer.pk
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    label = f"{case.operation.method.upper()} {case.operation.path}"
    TRIED[label] = TRIED.get(label, 0) + 1


def test_the_fuzzer_sees_every_operation():
    """The parametrised test above covers every operation the schema serves."""
    from api.v1 import api

    served = {
        f"{method.upper()} {path}" for path, methods in api.get_openapi_schema()["paths"].items() for method in methods
    }
    assert len(served) >= 13
    if TRIED:  # run with the parametrised test (not alone): each operation got its examples
        assert set(TRIED) == served, served ^ set(TRIED)
        print(f"\nschemathesis: {len(TRIED)} operations, {sum(TRIED.values())} examples: {TRIED}")
