import pytest

from analytics.selectors import shared_signals
from tests.factories import ActivityLogFactory, CustomerFactory, CustomerSessionFactory, LoginHistoryFactory


@pytest.mark.django_db
def test_shared_signals_finds_a_shared_device_and_ip_across_logs():
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    LoginHistoryFactory(customer=a, device_id="dev-1", ip_address="1.1.1.1")
    CustomerSessionFactory(customer=b, device_id="dev-1", ip_address="2.2.2.2")
    ActivityLogFactory(customer=b, device_id="dev-9", ip_address="1.1.1.1")
    LoginHistoryFactory(customer=c, device_id="dev-3", ip_address="3.3.3.3")

    assert shared_signals(a.pk, b.pk) == {"device_id": ["dev-1"], "ip_address": ["1.1.1.1"]}
    assert shared_signals(a.pk, c.pk) == {"device_id": [], "ip_address": []}
