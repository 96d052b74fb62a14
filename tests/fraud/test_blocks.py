"""is_blocked: the platform's access check, for every block type, scope and lifetime."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.models import AuditLog
from fraud.jobs import unblock_expired
from fraud.models import Block
from fraud.selectors import active_blocks, blocked_customer_ids, is_blocked
from tests.factories import BlockFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = dt.timedelta(days=1)
SERVICES = ["FOOD", "PARCEL", "RIDE"]


def _block(customer=None, **kwargs) -> Block:
    kwargs.setdefault("blocked_at", NOW - 10 * DAY)
    return BlockFactory(customer=customer or CustomerFactory(), **kwargs)


def _access(customer, *, payment=False):
    """{service or None: blocked?} for every service and the account as a whole."""
    return {s: is_blocked(customer, s, payment=payment) for s in [None, *SERVICES]}


ALL_BLOCKED = {None: True, "FOOD": True, "PARCEL": True, "RIDE": True}
NONE_BLOCKED = {None: False, "FOOD": False, "PARCEL": False, "RIDE": False}


def test_account_block_denies_everything_and_payments():
    b = _block(block_type="ACCOUNT_BLOCK", service_type=None)
    assert _access(b.customer) == ALL_BLOCKED
    assert _access(b.customer, payment=True) == ALL_BLOCKED


def test_service_block_for_one_service_denies_that_service_only():
    b = _block(block_type="SERVICE_BLOCK", service_type="FOOD")
    assert _access(b.customer) == {None: False, "FOOD": True, "PARCEL": False, "RIDE": False}


def test_service_block_without_a_service_type_denies_every_service():
    b = _block(block_type="SERVICE_BLOCK", service_type=None)
    assert _access(b.customer) == ALL_BLOCKED


def test_payment_block_denies_paying_not_access():
    one = _block(block_type="PAYMENT_BLOCK", service_type="RIDE")
    assert _access(one.customer) == NONE_BLOCKED
    assert _access(one.customer, payment=True) == {None: False, "FOOD": False, "PARCEL": False, "RIDE": True}
    every = _block(block_type="PAYMENT_BLOCK", service_type=None)
    assert _access(every.customer) == NONE_BLOCKED
    assert _access(every.customer, payment=True) == ALL_BLOCKED


def test_timed_block_applies_until_it_ends_and_permanent_block_always():
    timed = _block(blocked_until=NOW + DAY)
    permanent = _block(blocked_until=None)
    assert is_blocked(timed.customer, "FOOD") and is_blocked(permanent.customer, "FOOD")
    later = NOW + 2 * DAY
    assert not is_blocked(timed.customer, "FOOD", at=later)
    assert is_blocked(permanent.customer, "FOOD", at=later)
    assert not is_blocked(timed.customer, "FOOD", at=NOW - 20 * DAY)  # before it started


def test_expired_block_with_auto_unblock_no_longer_applies_even_before_the_job_runs():
    b = _block(blocked_until=NOW - DAY, auto_unblock=True)
    assert not b.is_unblocked
    assert not is_blocked(b.customer, "FOOD")


def test_expired_block_without_auto_unblock_applies_until_lifted_by_hand():
    b = _block(blocked_until=NOW - DAY, auto_unblock=False)
    assert is_blocked(b.customer, "FOOD")


def test_unblocked_block_no_longer_applies():
    b = _block(block_type="ACCOUNT_BLOCK", service_type=None, is_unblocked=True, unblocked_at=NOW)
    assert _access(b.customer, payment=True) == NONE_BLOCKED


def test_overlapping_blocks_any_one_in_force_is_enough():
    c = CustomerFactory()
    _block(c, service_type="FOOD", is_unblocked=True, unblocked_at=NOW)  # lifted
    _block(c, service_type="FOOD", blocked_until=NOW - DAY)  # expired, auto-unblock
    assert not is_blocked(c, "FOOD")
    _block(c, service_type=None, blocked_until=NOW + DAY)  # all services, in force
    assert _access(c) == ALL_BLOCKED
    assert not is_blocked(c, "FOOD", at=NOW + 2 * DAY)


def test_is_blocked_accepts_an_id_and_refuses_an_unknown_service():
    b = _block(service_type="FOOD")
    assert is_blocked(b.customer_id, "FOOD")
    with pytest.raises(ValueError):
        is_blocked(b.customer, "SPACE")


def test_bulk_form_answers_many_customers_in_one_query(django_assert_num_queries):
    food = _block(service_type="FOOD").customer
    account = _block(block_type="ACCOUNT_BLOCK", service_type=None).customer
    ride = _block(service_type="RIDE").customer
    free = CustomerFactory()
    with django_assert_num_queries(1):
        blocked = blocked_customer_ids([food.pk, account.pk, ride.pk, free.pk], "FOOD")
    assert blocked == {food.pk, account.pk}
    assert blocked_customer_ids([], "FOOD") == set()


def test_active_blocks_lists_every_block_in_force():
    c = CustomerFactory()
    in_force = [_block(c, service_type="FOOD"), _block(c, block_type="PAYMENT_BLOCK", service_type=None)]
    _block(c, is_unblocked=True, unblocked_at=NOW)
    assert set(active_blocks(c)) == set(in_force)


# --- the auto-unblock job ----------------------------------------------------------------------


def test_unblock_expired_lifts_only_expired_auto_unblock_blocks_with_history_and_audit():
    expired = _block(blocked_until=NOW - DAY, auto_unblock=True)
    kept = _block(blocked_until=NOW - DAY, auto_unblock=False)
    running = _block(blocked_until=NOW + DAY)
    permanent = _block(blocked_until=None)
    result = unblock_expired()
    assert result.lifted == [expired.pk]
    expired.refresh_from_db()
    assert expired.is_unblocked and expired.unblocked_at is not None and expired.unblocked_by is None
    assert expired.unblock_reason == "Expired: lifted automatically"
    for b in (kept, running, permanent):
        b.refresh_from_db()
        assert not b.is_unblocked
    assert expired.history.first().is_unblocked is True
    entry = AuditLog.objects.get(customer=expired.customer, action_field="block")
    assert (entry.new_value, entry.actor_type) == ("lifted", "SYSTEM")
    assert unblock_expired().lifted == []  # idempotent
