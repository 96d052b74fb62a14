import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from backoffice.db_router import read_replica
from customer_ops.models import Customer
from tests.factories import CustomerFactory


@override_settings(READ_REPLICA_ENABLED=True)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True, serialized_rollback=True)
def test_reads_go_to_the_replica_only_inside_read_replica():
    customer = CustomerFactory()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        with read_replica():
            assert Customer.objects.get(pk=customer.pk).email == customer.email
        Customer.objects.get(pk=customer.pk)  # outside: the primary
    assert len(on_replica.captured_queries) == 1


@override_settings(READ_REPLICA_ENABLED=True)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True, serialized_rollback=True)
def test_writes_always_go_to_the_primary():
    with CaptureQueriesContext(connections["replica"]) as on_replica, read_replica():
        CustomerFactory()
    assert on_replica.captured_queries == []


@pytest.mark.django_db
def test_disabled_replica_reads_the_primary(django_assert_num_queries):
    with read_replica(), django_assert_num_queries(1):
        Customer.objects.exists()
